"""The adaptation strength chosen without target labels: every UDA method, every rule.

``python benchmarks/auto_strength.py --suite dev|report [--seeds 1] [--jobs 2 --threads 1]``
(set ``SKDA_DATA``; data read with ``download_if_missing=False``).

For each problem, seed and unsupervised DA method (DANN, CDANN, CDAN, CAADA,
Deep CORAL, MMD, MCC; in the dg suite also IRM, V-REx, GroupDRO, Mixup, CCSA
and SagNet), every candidate strength of ``"auto"`` (0, being ERM with ERM's
settings, and the method's ``_strength_grid``) is trained twice, with the
method's other defaults:

- on all rows but the held-out slice of the labeled rows (the search's
  candidates: the rules read their predictions), and
- on all rows (the fixed strengths, and the refit of whatever a rule picks).

Rows of the report, target accuracy (mean over problems):

- ERM (strength 0), the fixed strength (``lambda_=1``, the UDA methods'
  default before ``"auto"``; the constructor's default for the others), and the
  oracle (the best strength by target accuracy: a bound, not a method);
- the picks of each label-free rule, refitted on all rows:
  ``lambda_="auto"`` (what the estimators run: ERM when the labeled
  domains' class mixes differ by more than the search's
  ``label_shift_tolerance``, else the method's rule, ``entropy, checked``
  but ``source`` for MCC, among the candidates that move the target's
  predicted class mix by at most the search's ``target_mix_tolerance``
  from ERM's), ``lambda_="auto", no target mix check`` (the same without
  that check: the estimators' rule before it), ``entropy, checked,
  label-shift guard`` (the
  same with entropy for every method), ``entropy,
  checked`` (chosen on the dev suite: the lowest mean prediction entropy on
  the target, ERM kept when held-out labeled accuracy drops by more than
  one standard error), ``entropy``
  (the same unchecked: the criterion of the former documented search),
  ``consensus`` (agreement with the candidates' mean prediction, checked the
  same way; also with other tolerances, and with no check), ``fixed
  default, checked``, ``source`` (held-out labeled accuracy), ``IWV``
  (importance-weighted held-out log-loss, weights from a logistic-regression
  domain classifier on the inputs), ``IWV, safe`` (the IWV pick only where
  its risk beats ERM's by one standard error of the paired difference);
- ``mean of candidates`` and ``mean of refits``: the candidates' averaged
  probabilities (aggregations: every candidate at prediction).

"Gain kept" is the share of the oracle's gain over ERM that a row keeps,
over the problems where the oracle gains; "worst vs ERM" the largest loss
to ERM on one problem. Suites: ``dev`` (the problems the rule was chosen
on: three rotated-moons draws and four Amazon pairs, seeds from 100) and
``report`` (problems not looked at while choosing: the demo's moons, four
of the eight other Amazon pairs, wine both ways, each hospital as the
unlabeled target, a draw of DIABETES_ROWS rows of each side of the
diabetes data's split, the Emergency Room unlabeled, and the tables' site
shift (``make_site_shift`` in raw units) with each site unlabeled in turn;
seeds from 0), and ``dg`` (domain generalization on the hospitals and the
site shift: the held-out domain is never trained on; ``lambda_="auto"``
checks the class mix, every method here aligning domains, and otherwise
keeps the strength most accurate on held-out labeled rows, the row
``source`` being that rule without the check; MCC, which needs unlabeled
rows, left out).
``--raw DIR`` saves every candidate's predictions, to study other rules
without refitting (with ``--report-only``: every rule scored again from
them). Output:
``results/auto_strength_<suite>.{md,json,csv}``.
"""

import inspect
import json
import os
import re
import time
import warnings

import numpy as np
from _common import (
    accuracy_arguments,
    at_fixed_strength,
    markdown_table,
    merged_records,
    parallel_records,
    registered_methods,
    run_and_save,
    run_stamp,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from tabular_defaults import merge_small_domains, site_shift_in_raw_units

from skda import (
    DANNClassifier,
)
from skda.datasets import (
    fetch_amazon_reviews,
    fetch_diabetes_readmission,
    fetch_heart_disease,
    fetch_wine_quality,
    make_rotated_moons,
)
from skda.model_selection import StrengthSearch
from skda.model_selection._strength import (
    between_domain_label_shift,
    candidate_estimators,
    checked_against_baseline,
    ensemble_agreement,
    label_shift_keeps_erm,
    prediction_entropy,
    select_consensus,
    select_entropy,
    select_source,
    select_strength,
    validation_accuracy,
)
from skda.utils import SETTINGS, estimator_info

#: every registered method with a strength that "auto" can search
METHODS = {name: Method for name, Method in registered_methods(*SETTINGS).items()
           if estimator_info(Method).strength_param}
#: methods that learn from labeled rows only: the dg suite's alone
DG_ONLY = {name for name, Method in METHODS.items()
           if "unsupervised DA" not in estimator_info(Method).settings}


def strengths_of(method):
    """The candidates of ``"auto"`` for ``method``: 0 (ERM) and the method's grid."""
    return (0.0, *estimator_info(METHODS[method]).strength_grid)


def fixed_of(method):
    """Index in :func:`strengths_of` of the fixed strength: the constructor's default, or
    lambda_=1 where "auto" is the default (the UDA methods' default before it)."""
    info = estimator_info(METHODS[method])
    default = at_fixed_strength(METHODS[method]).get(info.strength_param, info.strength_default)
    return strengths_of(method).index(default)

AMAZON = {"B": "books", "D": "dvd", "E": "electronics", "K": "kitchen"}
DEV_AMAZON = ["B→K", "D→E", "K→B", "E→B"]
#: four of the eight other pairs, one from each source (the budget of one session's CPU)
REPORT_AMAZON = ["B→D", "D→B", "E→K", "K→E"]
SUITES = {
    "dev": ["moons 150/0.05", "moons 300/0.10", "moons 600/0.08",
            *(f"Amazon {p}" for p in DEV_AMAZON)],
    "report": ["moons (demo)", *(f"Amazon {p}" for p in REPORT_AMAZON),
               "wine red→white", "wine white→red",
               *(f"hospitals → {h}" for h in ("cleveland", "hungarian", "switzerland", "va")),
               "diabetes → Emergency Room",
               *(f"site shift → site{k}" for k in range(4))],
    # domain generalization: the held-out domain's rows are not trained on at all
    "dg": [*(f"hospitals → {h}" for h in ("cleveland", "hungarian", "switzerland", "va")),
           *(f"site shift → site{k}" for k in range(4))],
}
#: methods that need unlabeled rows, left out of the dg suite
UDA_ONLY = {name for name, Method in METHODS.items()
            if "domain generalization" not in estimator_info(Method).settings}
FIXED_ROW = "fixed default"
#: rows of each side of the diabetes problem, drawn per seed (all 99,493 would take hours)
DIABETES_ROWS = 3000
#: what lambda_="auto" runs: ERM outright when the labeled domains' class mixes differ,
#: else the method's rule (entropy's pick checked against ERM; MCC: held-out accuracy)
SEARCH_RULE = 'lambda_="auto"'
#: StrengthSearch's default label_shift_tolerance
LABEL_SHIFT_TOLERANCE = inspect.signature(StrengthSearch).parameters[
    "label_shift_tolerance"].default
#: the search's rule before the target's class-mix check: the row it is judged against
WITHOUT_MIX_CHECK = f"{SEARCH_RULE}, no target mix check"
#: StrengthSearch's default target_mix_tolerance
TARGET_MIX_TOLERANCE = inspect.signature(StrengthSearch).parameters[
    "target_mix_tolerance"].default
RULES = [SEARCH_RULE, WITHOUT_MIX_CHECK, "source, label-shift guard",
         "entropy, checked, label-shift guard",
         "entropy, checked", "entropy", "consensus", "consensus, tolerance 0.5",
         "consensus, tolerance 2", "consensus, tolerance 3", "consensus, no check",
         "fixed default, checked", "source", "IWV", "IWV, safe"]


def problem_data(problem, seed):
    """X, y (every label), domains, target mask."""
    if problem.startswith("moons"):
        if problem == "moons (demo)":
            X, y, d = make_rotated_moons(random_state=0)
        else:
            n, noise = problem.split()[1].split("/")
            X, y, d = make_rotated_moons(n_samples=int(n), noise=float(noise), random_state=seed)
        return X, y, d, d == "target"
    if problem.startswith("Amazon"):
        source, target = (AMAZON[k] for k in problem.split()[1].split("→"))
        X, y, d = fetch_amazon_reviews(domains=(source, target), download_if_missing=False,
                                       return_X_y_domains=True)
        return StandardScaler().fit_transform(X), y, d, d == target
    if problem.startswith("wine"):
        source, target = problem.split()[1].split("→")
        X, y, d = fetch_wine_quality(binary=True, download_if_missing=False,
                                     return_X_y_domains=True)
        return StandardScaler().fit_transform(X), y, d, d == target
    if problem.startswith("site shift"):  # the tables' site shift: each site unlabeled
        X, y, d = site_shift_in_raw_units(seed)
        return StandardScaler().fit_transform(X), y, d, d == problem.split("→ ")[1]
    if problem.startswith("diabetes"):  # TableShift's split, a per-seed draw of each side
        b = fetch_diabetes_readmission(download_if_missing=False)
        rng = np.random.default_rng(seed)
        rows = np.concatenate([rng.choice(np.flatnonzero(side), DIABETES_ROWS, replace=False)
                               for side in (~b.ood, b.ood)])
        d = np.where(b.ood[rows], "Emergency Room", merge_small_domains(b.domains)[rows])
        return (StandardScaler().fit_transform(b.data[rows]), b.target[rows], d,
                b.ood[rows])
    heart = fetch_heart_disease(download_if_missing=False)
    X = SimpleImputer(add_indicator=True).fit_transform(heart.data)
    d = np.asarray(heart.domains)
    target_site = problem.split("→ ")[1]
    return StandardScaler().fit_transform(X), heart.target, d, d == target_site


def importance_weights(X, train, valid, target):
    """Target/source density ratio at the held-out rows, from a domain classifier on X."""
    flat = np.asarray(X, dtype=float).reshape(len(X), -1)
    rows = train | target
    clf = LogisticRegression(max_iter=2000).fit(flat[rows], target[rows])
    p = np.clip(clf.predict_proba(flat[valid])[:, 1], 1e-6, 1 - 1e-6)
    w = p / (1 - p) * (train.sum() / target.sum())
    return w / w.mean()


def iw_picks(valid_proba, valid_y, weights):
    """IWV's pick, and the safe IWV pick (ERM unless the risk beats ERM's by one se)."""
    rows = np.arange(len(valid_y))
    losses = -np.log(np.clip(valid_proba[:, rows, valid_y], 1e-12, None)) * weights
    pick = int(np.argmin(losses.mean(axis=1)))
    difference = losses[pick] - losses[0]
    safe = pick if difference.mean() + difference.std() / np.sqrt(len(rows)) < 0 else 0
    return pick, safe


def raw_path(raw, problem, seed, method):
    return os.path.join(raw, re.sub(r"[^\w.]+", "_", f"{problem}_{seed}_{method}") + ".npz")


def scored(arrays, method):
    """Every rule's pick and the target accuracies, from the candidates' predictions.

    ``method`` names the estimator in METHODS whose ``lambda_="auto"`` rule
    the search's row follows.

    ``arrays``: ``valid_proba``, ``target_proba`` (the candidates trained
    without the held-out rows), ``full_proba`` (trained on all rows, on the
    target), ``valid_y``, ``target_y`` and the held-out rows' importance
    ``weights``.
    """
    valid_proba, valid_y = arrays["valid_proba"], arrays["valid_y"]
    target_proba, full, target_y = arrays["target_proba"], arrays["full_proba"], arrays["target_y"]
    iwv, iwv_safe = iw_picks(valid_proba, valid_y, arrays["weights"])
    checked = select_entropy(target_proba, valid_proba, valid_y)
    source = select_source(valid_proba, valid_y)
    label_shift = float(arrays["label_shift"])
    guard = label_shift > LABEL_SHIFT_TOLERANCE  # the study's rows, for every method
    unsupervised = not bool(arrays.get("dg", False))
    # StrengthSearch's rule: held-out accuracy in DG or where the method asks for it, the
    # candidates that move the target's predicted class mix too far left out in UDA
    selection = METHODS[method]._strength_selection
    seen_target = target_proba if unsupervised else None
    own = select_strength(selection, valid_proba, valid_y, seen_target,
                          mix_tolerance=TARGET_MIX_TOLERANCE)
    own_unchecked = select_strength(selection, valid_proba, valid_y, seen_target,
                                    mix_tolerance=None)
    keeps_erm = label_shift_keeps_erm(label_shift, unsupervised,
                                      METHODS[method]._aligns_domains, LABEL_SHIFT_TOLERANCE)
    picks = {SEARCH_RULE: 0 if keeps_erm else own,
             WITHOUT_MIX_CHECK: 0 if keeps_erm else own_unchecked,
             "source, label-shift guard": 0 if guard else source,
             "entropy, checked, label-shift guard": 0 if guard else checked,
             "entropy, checked": checked,
             "entropy": int(np.argmin(prediction_entropy(target_proba))),
             "consensus": select_consensus(target_proba, valid_proba, valid_y),
             **{f"consensus, tolerance {t:g}": select_consensus(
                 target_proba, valid_proba, valid_y, tolerance=t) for t in (0.5, 2, 3)},
             "consensus, no check": int(np.argmax(ensemble_agreement(target_proba))),
             "fixed default, checked": checked_against_baseline(
                 fixed_of(method), valid_proba, valid_y),
             "source": source,
             "IWV": iwv, "IWV, safe": iwv_safe}
    return dict(
        strengths=list(strengths_of(method)), picks=picks, label_shift=label_shift,
        accuracy=[float(np.mean(p.argmax(1) == target_y)) for p in full],
        validation_accuracy=validation_accuracy(valid_proba, valid_y).tolist(),
        mean_of_candidates=float(np.mean(target_proba.mean(0).argmax(1) == target_y)),
        mean_of_refits=float(np.mean(full.mean(0).argmax(1) == target_y)))


def rescored(records, raw):
    """``records`` with every rule scored again from the predictions saved in ``raw``."""
    out = []
    for r in records:
        with np.load(raw_path(raw, r["problem"], r["seed"], r["method"])) as arrays:
            out.append({**r, **scored(dict(arrays), r["method"])})
    return out


def run_problem(problem, seed, epochs, device, raw=None, dg=False, methods=tuple(METHODS)):
    start = time.perf_counter()
    X, y, d, target = problem_data(problem, seed)
    y_train = np.where(target, -1, y)
    seen = ~target if dg else np.ones(len(y), dtype=bool)  # the rows trained on
    kw = dict(max_epochs=epochs, random_state=seed, device=device)
    search = StrengthSearch(DANNClassifier(**kw), random_state=seed)
    valid = search._held_out(y_train, d)
    train = ~valid
    weights = importance_weights(X, train & ~target, valid, target)
    label_shift = between_domain_label_shift(y[~target], d[~target])
    records = []
    erm = None
    for name, Method in METHODS.items():
        if name not in methods or (dg and name in UDA_ONLY) or (not dg and name in DG_ONLY):
            continue
        candidates = candidate_estimators(Method(**kw), Method._strength_param,
                                          strengths_of(name))
        split, full = [], []
        for k, candidate in enumerate(candidates):
            if k == 0 and erm is not None:  # ERM is every method's strength 0
                split.append(erm[0])
                full.append(erm[1])
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # ERM drops the target rows
                rows = train & seen
                a = candidate.fit(X[rows], y_train[rows], domains=d[rows])
                split.append((a.predict_proba(X[valid]), a.predict_proba(X[target])))
                b = type(candidate)(**candidate.get_params()).fit(
                    X[seen], y_train[seen], domains=d[seen])
                full.append(b.predict_proba(X[target]))
            if k == 0:
                erm = (split[0], full[0])
        arrays = dict(valid_proba=np.stack([v for v, _ in split]), valid_y=y[valid],
                      target_proba=np.stack([t for _, t in split]),
                      full_proba=np.stack(full), target_y=y[target], weights=weights,
                      label_shift=np.float64(label_shift), dg=np.bool_(dg))
        if raw:  # every candidate's predictions, to study other rules without refitting
            os.makedirs(raw, exist_ok=True)
            np.savez_compressed(raw_path(raw, problem, seed, name), **{
                k: v.astype(np.float32) if v.dtype.kind == "f" else v
                for k, v in arrays.items()})
        records.append(dict(problem=problem, seed=seed, method=name,
                            seconds=time.perf_counter() - start, **scored(arrays, name)))
    return records


def run(args):
    problems = [p for p in SUITES[args.suite]
                if not args.only or any(part in p for part in args.only.split(","))]
    jobs = [(p, s, args.epochs, args.device, args.raw, args.suite == "dg", args.methods)
            for s in range(args.first_seed, args.first_seed + args.seeds) for p in problems]
    records = [r for batch in parallel_records(run_problem, jobs, args) for r in batch]
    return merged_records(args, f"auto_strength_{args.suite}") + records


def rows_of(record):
    """Target accuracy of each report row for one (problem, seed, method) record."""
    acc = record["accuracy"]
    rows = {"ERM": acc[0], FIXED_ROW: acc[fixed_of(record["method"])], "oracle": max(acc)}
    rows.update({rule: acc[record["picks"][rule]] for rule in RULES})
    rows["mean of candidates"] = record["mean_of_candidates"]
    rows["mean of refits"] = record["mean_of_refits"]
    return rows


def summary(records):
    """Per method and row: mean accuracy, gain kept, worst loss to ERM, problems lost."""
    out = {}
    for method in METHODS:
        mine = [r for r in records if r["method"] == method]
        if not mine:
            continue
        table = [rows_of(r) for r in mine]
        erm = np.array([t["ERM"] for t in table])
        oracle = np.array([t["oracle"] for t in table])
        gains = oracle - erm
        for row in table[0]:
            values = np.array([t[row] for t in table])
            kept = ((values - erm)[gains > 0].sum() / gains[gains > 0].sum()
                    if (gains > 0).any() else np.nan)
            out[method, row] = dict(mean=values.mean(), kept=kept,
                                    worst=(values - erm).min(),
                                    lost=int(((values - erm) < -0.005).sum()), n=len(values))
    return out


def candidates_text(records):
    """Each method's candidate strengths, methods of one grid together."""
    grids = {}
    for method in dict.fromkeys(r["method"] for r in records):
        grid = ", ".join(f"{s:g}" for s in strengths_of(method))
        grids.setdefault(f"{METHODS[method]._strength_param} = {grid}", []).append(method)
    return "; ".join(f"{text} ({', '.join(names)})" for text, names in grids.items())


def report(records, args, seconds):
    stats = summary(records)
    problems = list(dict.fromkeys(r["problem"] for r in records))
    rows_names = list(rows_of(records[0]))
    lines = [f"# Adaptation strength without target labels: {args.suite} suite", "",
             "Generated by `python benchmarks/auto_strength.py --suite "
             f"{args.suite} --seeds {args.seeds} --first-seed {args.first_seed}"
             f"{f' --only {args.only}' if getattr(args, 'only', '') else ''}`. "
             f"Candidates (0: ERM with ERM's settings): {candidates_text(records)}; every "
             "other setting the method's default. "
             f"{len(problems)} problems: {', '.join(problems)}.", "",
             run_stamp(args, seconds), "",
             "Target accuracy, mean over problems and seeds; gain kept = share of the "
             "oracle's gain over ERM; worst = largest loss to ERM on one problem (points); "
             "lost = problems more than 0.5 points below ERM. The fixed default is lambda_=1 "
             "for the UDA methods (their default before lambda_=\"auto\"), the "
             "constructor's default for the others.", ""]
    header = ["row", *(m for m in METHODS if (m, "ERM") in stats)]
    table = []
    for row in rows_names:
        cells = []
        for method in header[1:]:
            s = stats[method, row]
            kept = "" if np.isnan(s["kept"]) or row in ("ERM", "oracle") else \
                f", kept {100 * s['kept']:.0f}%"
            cells.append(f"{100 * s['mean']:.1f}{kept}, worst {100 * s['worst']:+.1f}, "
                         f"lost {s['lost']}/{s['n']}")
        table.append([row, *cells])
    lines.append(markdown_table(header, table))
    lines += ["", f"## Strength picked by the search's rule ({SEARCH_RULE}), per problem", ""]
    pick_rows = []
    for problem in problems:
        cells = []
        for method in header[1:]:
            rs = [r for r in records if r["problem"] == problem and r["method"] == method]
            cells.append(" / ".join(
                f"{r['strengths'][r['picks'][SEARCH_RULE]]:g} "
                f"({100 * (r['accuracy'][r['picks'][SEARCH_RULE]] - r['accuracy'][0]):+.1f})"
                for r in rs))
        shift = np.mean([r.get("label_shift", np.nan) for r in records
                         if r["problem"] == problem])
        pick_rows.append([problem, f"{shift:.3f}", *cells])
    lines.append(markdown_table(["problem", "labeled domains' label shift", *header[1:]],
                                pick_rows))
    lines += ["", "Each cell: the strength kept and its target accuracy minus ERM's (points). "
              "Label shift: the labeled domains' difference in class mix "
              "(`between_domain_label_shift`, 0 with a single labeled domain); above "
              f"{LABEL_SHIFT_TOLERANCE:g} the search keeps ERM without trying adaptation "
              "(in domain generalization: only for the methods that align domains, DANN, "
              "CDANN, CDAN, CAADA, Deep CORAL and MMD)."]
    return "\n".join(lines) + "\n"


def main():
    def suite_argument(parser):
        parser.add_argument("--suite", choices=sorted(SUITES), default="dev",
                            help="dev: the problems the rule was chosen on (seeds from 100 "
                                 "unless --first-seed); report: problems held out")
        parser.add_argument("--raw", default=None,
                            help="folder for every candidate's predictions (.npz), to study "
                                 "other rules without refitting (default: not saved)")

    args = accuracy_arguments(__doc__.splitlines()[0], seeds=1, epochs="auto", only=True,
                              methods=list(METHODS), extra=suite_argument)
    if args.suite == "dev" and args.first_seed == 0:
        args.first_seed = 100
    if args.report_only and args.raw:  # every rule scored again from the saved predictions
        path = os.path.join(args.out, f"auto_strength_{args.suite}.json")
        with open(path) as f:
            saved = json.load(f)
        saved["records"] = rescored(saved["records"], args.raw)
        with open(path, "w") as f:
            json.dump(saved, f, indent=1)
    run_and_save(f"auto_strength_{args.suite}", run, report, args)


if __name__ == "__main__":
    main()
