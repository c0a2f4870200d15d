"""Tables: every method with its defaults on raw columns, beside the tabular anchors.

``python benchmarks/tabular.py [--seeds 5] [--jobs 2 --threads 1] [--only heart,wine,...]
[--methods "ERM,DANN (UDA),..." --merge]`` (set ``SKDA_DATA``). Output:
``results/tabular.{md,json,csv}``.

The reported problems, on seeds 0-4 (the defaults were chosen on seeds 100-101 and the
diabetes data's in-domain sources only, ``tabular_defaults.py``):

- **heart**: the four hospitals of the UCI heart disease data, each held out in turn;
- **wine**: binary quality >= 7, red -> white and white -> red;
- **diabetes**: TableShift's split of the UCI diabetes readmission data (any
  readmission): train on the in-domain admission sources (those under 500 rows
  merged into "other sources", since balanced batches would make a 2-row source weigh
  as much as a 28,855-row one), test on the 56,632 Emergency Room encounters;
- **site shift**: ``make_site_shift`` (4 sites, covariate and label shift) in raw
  units, each site held out in turn (data seed = the run's seed).

Score: ROC AUC on the held-out domain. Rows:

- anchors with their own defaults: logistic regression (imputer with indicators,
  standard scaler: its best practice), scikit-learn's HistGradientBoosting, LightGBM and
  RealMLP-TD (pytabkit; imputer in front), on the source rows;
- "DG": ERM and every domain-generalization method of the registry with its defaults on
  the raw columns (NaN included), the source domains labeled, no target rows (wine has a
  single source domain: ERM only);
- "UDA": the registry's unsupervised-DA methods with their defaults, the target's rows
  unlabeled in training.

Defaults include ``lambda_="auto"`` (the strength chosen at each fit, ERM among the
candidates) and the weight decay ``"auto"``. ``results/tabular_lambda_1.md`` keeps the
earlier run that pinned the unsupervised methods at ``lambda_=1``.

Timing columns are the mean seconds per fit on this machine (2 processes of 1 thread).
"""

import time
import warnings
from collections import Counter

import numpy as np
from _common import (
    accuracy_arguments,
    markdown_table,
    mean_sd,
    merged_records,
    parallel_records,
    registered_methods,
    run_and_save,
    run_stamp,
)
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from tabular_defaults import (
    make_hist_gradient_boosting,
    make_lightgbm,
    make_logistic_regression,
    merge_small_domains,
    site_shift_in_raw_units,
)

from skda.datasets import (
    fetch_diabetes_readmission,
    fetch_heart_disease,
    fetch_wine_quality,
)

#: ERM and the domain-generalization methods, trained on the labeled source domains
DG_METHODS = registered_methods("baseline", "domain generalization")
#: the methods that learn from unlabeled rows, the target's rows given unlabeled
UDA_METHODS = registered_methods("unsupervised DA", suffix=" (UDA)")


def _realmlp(seed):
    from pytabkit import RealMLP_TD_Classifier

    return make_pipeline(SimpleImputer(add_indicator=True), RealMLP_TD_Classifier(
        device="cpu", random_state=seed, n_threads=1, verbosity=0))


ANCHORS = {"logistic regression": make_logistic_regression,
           "HistGradientBoosting": make_hist_gradient_boosting, "LightGBM": make_lightgbm,
           "RealMLP-TD": _realmlp}
METHODS = [*ANCHORS, *DG_METHODS, *UDA_METHODS]
#: (method, problem) pairs left out, and why (said under the table)
LEFT_OUT = {("RealMLP-TD", "diabetes"): "RealMLP-TD on diabetes: over 600 s per fit on this "
            "machine's single thread (unfinished), so left out"}
PROBLEMS = ("heart", "wine", "diabetes", "site shift")


def tasks(problem, seed):
    """``[(task, X, y, domains, target_mask)]``: the rows of a task and which are the target."""
    if problem == "heart":
        b = fetch_heart_disease(download_if_missing=False)
        return [(f"held-out {h}", b.data, b.target, b.domains, b.domains == h)
                for h in b.domain_names]
    if problem == "wine":
        b = fetch_wine_quality(download_if_missing=False, binary=True)
        return [(f"{s} -> {t}", b.data, b.target, b.domains, b.domains == t)
                for s, t in (("red", "white"), ("white", "red"))]
    if problem == "diabetes":
        b = fetch_diabetes_readmission(download_if_missing=False)
        domains = merge_small_domains(b.domains, keep=b.target_domains)
        return [("Emergency Room held out", b.data, b.target, domains, b.ood)]
    X, y, d = site_shift_in_raw_units(seed)
    return [(f"held-out {s}", X, y, d, d == s) for s in np.unique(d)]


def fit_and_score(method, problem, seed, device, epochs):
    records = []
    if method in ANCHORS:
        try:
            ANCHORS[method](seed)
        except ImportError as error:  # the benchmarks extra is not installed
            print(f"{method} left out: {error}", flush=True)
            return records
    if (method, problem) in LEFT_OUT:
        return records
    for task, X, y, domains, target in tasks(problem, seed):
        source = ~target
        if method in DG_METHODS and method != "ERM" and len(np.unique(domains[source])) < 2:
            continue  # a single source domain: nothing for a DG method to use
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            if method in ANCHORS:
                model = ANCHORS[method](seed).fit(X[source], y[source])
            elif method in DG_METHODS:
                model = DG_METHODS[method](random_state=seed, device=device,
                                           max_epochs=epochs)
                model.fit(X[source], y[source], domains[source])
            else:
                model = UDA_METHODS[method](random_state=seed, device=device,
                                            max_epochs=epochs)
                model.fit(X, np.where(target, -1, y), domains)
        seconds = time.perf_counter() - start
        auc = roc_auc_score(y[target], model.predict_proba(X[target])[:, 1])
        records.append(dict(method=method, problem=problem, task=task, seed=seed,
                            roc_auc=round(float(auc), 4), seconds=round(seconds, 2),
                            weight_decay=getattr(model, "weight_decay_", None),
                            strength=getattr(model, "strength_", None)))
    return records


def run(args):
    only = [p for p in PROBLEMS if not args.only or any(o in p for o in args.only.split(","))]
    jobs = [(m, p, s, args.device, args.epochs) for p in only for m in args.methods
            for s in range(args.first_seed, args.first_seed + args.seeds)]
    records = [r for batch in parallel_records(fit_and_score, jobs, args) for r in batch]
    return merged_records(args, "tabular") + records


def values_kept(method, records, field):
    """The values of a skda method's ``field`` over its fits, with their counts.

    ``"weight_decay"``: records saved before the field existed trained at 3e-3, the
    former tabular default. ``"strength"``: the strength ``"auto"`` kept (blank for a
    method whose default strength is a number).
    """
    if method in ANCHORS or not records:
        return ""
    if field not in records[0]:
        return "3e-3 (former default)" if field == "weight_decay" else ""
    counts = Counter(r[field] for r in records if r[field] is not None)
    return ", ".join(f"{value:g} x{n}" for value, n in sorted(counts.items()))


def report(records, args, seconds):
    methods = [m for m in METHODS if any(r["method"] == m for r in records)]
    problems = [p for p in PROBLEMS if any(r["problem"] == p for r in records)]

    def problem_means(method, problem, seed):
        values = [r["roc_auc"] for r in records if r["method"] == method
                  and r["problem"] == problem and r["seed"] == seed]
        return np.mean(values) if values else np.nan

    seeds = sorted({r["seed"] for r in records})
    rows = []
    for method in methods:
        per_problem = {p: [problem_means(method, p, s) for s in seeds] for p in problems}
        cells = [mean_sd([v for v in per_problem[p] if np.isfinite(v)])
                 if np.isfinite(per_problem[p]).any() else "" for p in problems]
        complete = all(np.isfinite(per_problem[p]).all() for p in problems)
        suite = (mean_sd(np.mean([per_problem[p] for p in problems], axis=0))
                 if complete else "")
        multi = [p for p in problems if p != "wine"]
        without_wine = (mean_sd(np.mean([per_problem[p] for p in multi], axis=0))
                        if all(np.isfinite(per_problem[p]).all() for p in multi) else "")
        secs = np.mean([r["seconds"] for r in records if r["method"] == method])
        own = [r for r in records if r["method"] == method]
        rows.append([method, *cells, suite, without_wine, f"{secs:.1f}",
                     values_kept(method, own, "weight_decay"),
                     values_kept(method, own, "strength")])
    lines = ["# Tabular problems: skda's defaults on raw columns beside the anchors", "",
             f"ROC AUC on the held-out domain, mean ± sd over seeds {seeds[0]}..{seeds[-1]} "
             "of the mean over a problem's tasks; suite = mean of the four problems (blank "
             "where a method does not run on every problem: DG methods need two source "
             "domains, wine has one; the next column leaves wine out). Every estimator at its "
             "defaults: the weight decay, and the strength where it defaults to \"auto\", "
             "chosen at each fit (the last two columns count the values kept; strength 0 is "
             "ERM's network). See the docstring of `benchmarks/tabular.py` for the protocol.",
             "", run_stamp(args, seconds), "",
             markdown_table(["method", *problems, "suite", "suite without wine", "s / fit",
                             "weight decay (fits)", "strength kept (fits)"], rows), ""]
    lines += [f"Left out: {why}." for (m, p), why in LEFT_OUT.items()
              if m in methods and p in problems] + [""]
    tasks_seen = list(dict.fromkeys((r["problem"], r["task"]) for r in records))
    detail = [[m, *(mean_sd([r["roc_auc"] for r in records if r["method"] == m
                             and (r["problem"], r["task"]) == t]) if any(
                                 r["method"] == m and (r["problem"], r["task"]) == t
                                 for r in records) else "" for t in tasks_seen)]
              for m in methods]
    lines += ["## Per task", "", markdown_table(
        ["method", *(f"{p}: {t}" for p, t in tasks_seen)], detail), ""]
    return "\n".join(lines)


def main():
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs="auto", only=True,
                              methods=METHODS)
    run_and_save("tabular", run, report, args)


if __name__ == "__main__":
    main()
