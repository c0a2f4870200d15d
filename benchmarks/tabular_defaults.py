"""The development sweeps that choose the tabular backbone's defaults (issue 23's protocol).

``python benchmarks/tabular_defaults.py --stages T1,T2,... [--seeds 2] [--jobs 2 --threads 1]``
(set ``SKDA_DATA``). Appends one row per fit to ``results/tabular_defaults_sweep.csv``
(a rerun of a stage replaces that stage's rows) and writes ``results/tabular_defaults.md``
from the whole file.

The protocol, written before the runs:

- **Development problems only**, seeds 100 and 101 (model seed, and the data seed of
  the synthetic problem); the reported tables (``tabular.py``) use seeds 0-4 and the
  diabetes data's out-of-domain rows, which no sweep sees.

  - heart disease, leave one hospital out (4 tasks);
  - wine, binary quality >= 7, red -> white and white -> red (source only: the sweeps
    tune ERM, which never sees the target);
  - ``make_site_shift`` (4 sites, covariate and label shift) with every column put in
    raw units (a random scale over six orders of magnitude and offset per column, as
    lab values come), leave one site out (4 tasks);
  - the diabetes data's in-domain rows (TableShift's ID admission sources; Emergency
    Room never appears), leave "Transfer from a hospital" out and, separately, "Clinic
    Referral" out, training on the other ID sources (2 tasks, 38,000-40,000 rows).

- **Score**: ROC AUC on the held-out domain; a problem's score is the mean over its
  tasks, the suite's the mean over the four problems (each problem weighs the same).
- **Raw columns**: every skda row gets X as loaded (NaN included); the anchors get
  their own best practice (logistic regression: imputer with indicators and a standard
  scaler; gradient boosting: raw columns, NaN native).
- **Stages**, each varying one group of settings on ERM with the best of the stages
  before (the rule: the highest suite mean; a setting within 0.002 of the best that is
  simpler or cheaper wins):

  - T1 input handling: none (the former default: NaN imputed by the column mean with
    indicators, raw units), standard, robust (RealMLP's median/IQR and smooth clip);
  - T2 regularization: weight decay (0, 1e-4, 1e-3, 1e-2) x dropout (0, 0.15);
  - T2b (added after T2, whose best lay on the grid's edge): weight decay 3e-2 and 1e-1;
  - T3 budget: 2000 steps (the former default), 500 steps, early stopping on 10% of
    the training rows (patience 10) capped at 2000 steps, at 8000 steps;
  - (found after T3: ERM's balanced batches gave each of the 15 in-domain admission
    sources the same share, so that sources of 1-16 rows weighed as much as the 28,855-row
    one; ERM on held-out "Transfer from a hospital", seed 100: 0.645 with the 15 sources,
    0.677 with the sources under 500 rows merged, 0.680 without domains. The estimators
    now warn about such domains, and from T4 on this problem merges the sources under
    500 rows into "other sources"; T1-T3 ran with the 15.)
  - T4 network: (100,), (256, 256), (512,), (256, 256, 256);
  - T5 learning rate: 3e-4, 1e-3, 3e-3.
  - T6 (added after T5: the chosen weight decay, 3e-2, was then found to flatten
    nonlinear problems: on the demo's rotated moons ERM and DANN both fell to 0.70-0.73
    target accuracy, where DANN had reached 0.84-0.87): weight decay 1e-3, 3e-3, 1e-2,
    3e-2 again, on the tabular suite (ERM) and, as stage "T6 UDA", on the rest of the
    main development suite (``defaults.py``'s three rotated-moons draws and four Amazon
    pairs, ERM and DANN with all their other defaults, target accuracy). The rule, set
    before T6 ran: the highest mean of five numbers, the tabular suite (ERM) and ERM's
    and DANN's means on the moons and on Amazon.
  - T7 (added after T6: no single weight decay served both the tables, best at 3e-2, and
    the moons, flattened by it): ``optimizer__weight_decay="auto"``, ERM trained at 3e-3,
    1e-2, 3e-2 and 1e-1 on four fifths of every training domain's labeled rows and the
    strongest value whose held-out log loss is within one standard error of the best
    kept (``skda.model_selection._weight_decay``), on the same problems as T6 (tabular
    suite and "T7 UDA"). Before the estimator had it, a script outside the project
    compared eight selection rules on these development problems (seeds 100-101, the
    same grid): the lowest held-out loss kept 3e-3 on wine and lost 0.037 there to 3e-2;
    the one-standard-error rule kept the most of the tables' gain and the moons'
    accuracy. The rule, set before T7 ran: "auto" replaces T6's choice if it is at least
    as good on each of the five numbers (within 0.002), since it costs four extra ERM fits.
"""

import argparse
import csv
import os
import time
import warnings

import numpy as np
from _common import RESULTS, at_fixed_strength, markdown_table, parallel_records
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import ERMClassifier
from skda.datasets import (
    fetch_diabetes_readmission,
    fetch_heart_disease,
    fetch_wine_quality,
    make_site_shift,
)

SWEEP_CSV = os.path.join(RESULTS, "tabular_defaults_sweep.csv")
# "score": ROC AUC on the tabular problems, target accuracy on the UDA checks
FIELDS = ["stage", "setting", "problem", "task", "seed", "score", "epochs", "seconds"]

#: the former defaults, the starting point of T1
BASE = {"input_scaling": None, "hidden_layer_sizes": (100,), "dropout": 0.0,
        "weight_decay": 0.0, "budget": "2000 steps", "lr": 1e-3}

# Each stage: settings that change BASE (updated with the winners of the earlier
# stages, recorded in CHOSEN once a stage has run and been read).
CHOSEN = {
    # 0.733 against robust's 0.730 (T1): the higher suite mean, and no simpler option
    # within 0.002 of it
    "T1": {"input_scaling": "standard"},
    # T2 + T2b: weight decay 3e-2 without dropout 0.768, with dropout 0.15 the same, 1e-1
    # 0.766: the best, and dropout adds nothing (the simpler wins)
    "T2": {"weight_decay": 0.03, "dropout": 0.0},
    # early stopping capped at 2000 steps 0.770, 2000 steps 0.768: within 0.002 and
    # simpler (no rows held out), so the budget stays
    "T3": {"budget": "2000 steps"},
    # (100,), (256, 256) and (512,) all 0.777, (256, 256, 256) 0.763: the smallest and
    # cheapest of the tied three stays
    "T4": {"hidden_layer_sizes": (100,)},
    # 3e-4 0.777, 1e-3 0.777, 3e-3 0.776: the learning rate stays
    "T5": {"lr": 1e-3},
    # the five numbers of the rule: 1e-3 0.790, 3e-3 0.801, 1e-2 0.783, 3e-2 0.740. 3e-2
    # keeps the best tabular suite (0.777 against 0.758) but takes moons ERM and DANN to
    # 0.71 and 0.70 (0.81 and 0.95 at 3e-3)
    "T6": {"weight_decay": 3e-3},
    # "auto" against T6's 3e-3, the five numbers of the rule: tabular suite 0.774 (0.758),
    # moons ERM 0.809 (0.809) and DANN 0.953 (0.953), Amazon ERM 0.751 (0.735) and DANN
    # 0.766 (0.748): as good or better on all five, so "auto" replaces 3e-3. The tables'
    # best fixed value (3e-2: 0.777) is 0.003 above it on the tabular suite, and costs the
    # moons 0.10 (ERM) and 0.25 (DANN)
    "T7": {"weight_decay": "auto"},
}
STAGES = {
    "T1": [{"input_scaling": v} for v in (None, "standard", "robust")],
    "T2": [{"weight_decay": wd, "dropout": p}
           for wd in (0.0, 1e-4, 1e-3, 1e-2) for p in (0.0, 0.15)],
    # T2's best lay on the grid's edge (1e-2): the grid extended
    "T2b": [{"weight_decay": wd, "dropout": p} for wd in (3e-2, 1e-1) for p in (0.0, 0.15)],
    "T3": [{"budget": b} for b in ("2000 steps", "500 steps", "early stopping, cap 2000 steps",
                                   "early stopping, cap 8000 steps")],
    "T4": [{"hidden_layer_sizes": h} for h in ((100,), (256, 256), (512,), (256, 256, 256))],
    "T5": [{"lr": lr} for lr in (3e-4, 1e-3, 3e-3)],
    "T6": [{"weight_decay": wd} for wd in (1e-3, 3e-3, 1e-2, 3e-2)],
    "T7": [{"weight_decay": "auto"}],
}
#: stages scored on the UDA problems of the main development suite as well
UDA_CHECKS = {"T6": "T6 UDA", "T7": "T7 UDA"}
ORDER = list(STAGES)


def setting_name(change):
    return ", ".join(f"{k}={v}" for k, v in change.items())


def raw_units(X, rng):
    """Columns in raw units: a scale over six orders of magnitude and an offset each."""
    scale = 10.0 ** rng.uniform(-3, 3, size=X.shape[1])
    offset = rng.normal(scale=5, size=X.shape[1]) * scale
    return X * scale + offset


def site_shift_in_raw_units(seed):
    """The site-shift problem of the tabular benchmarks: ``make_site_shift``, raw units."""
    X, y, d = make_site_shift(n_sites=4, n_samples=300, covariate_shift=1.0, label_shift=1.5,
                              random_state=seed)
    return raw_units(X, np.random.RandomState(seed)), y, d


#: from T4 on: admission sources under 500 rows merged into one domain (see the docstring)
MERGE_SMALL_SOURCES = True


def merge_small_domains(domains, min_rows=500, keep=()):
    """Domains of fewer than ``min_rows`` rows renamed "other sources" (``keep`` excepted)."""
    names, counts = np.unique(domains, return_counts=True)
    small = set(names[counts < min_rows]) - set(keep)
    return np.array([("other sources" if d in small else d) for d in domains], dtype=object)


def problems(seed, data_home=None):
    """``{problem: [(task, X_train, y_train, d_train, X_test, y_test), ...]}``."""
    out = {}
    heart = fetch_heart_disease(data_home=data_home, download_if_missing=False)
    X, y, d = heart.data, heart.target, heart.domains
    out["heart"] = [(f"held-out {h}", X[d != h], y[d != h], d[d != h], X[d == h], y[d == h])
                    for h in np.unique(d)]
    wine = fetch_wine_quality(data_home=data_home, download_if_missing=False, binary=True)
    X, y, d = wine.data, wine.target, wine.domains
    out["wine"] = [(f"{s} -> {t}", X[d == s], y[d == s], d[d == s], X[d == t], y[d == t])
                   for s, t in (("red", "white"), ("white", "red"))]
    X, y, d = site_shift_in_raw_units(seed)
    out["site shift (raw units)"] = [
        (f"held-out site {s}", X[d != s], y[d != s], d[d != s], X[d == s], y[d == s])
        for s in np.unique(d)]
    bunch = fetch_diabetes_readmission(data_home=data_home, download_if_missing=False)
    ind = ~bunch.ood  # the in-domain admission sources only; the Emergency Room is for reports
    X, y, d = bunch.data[ind], bunch.target[ind], bunch.domains[ind]
    if MERGE_SMALL_SOURCES:
        d = merge_small_domains(d)
    out["diabetes (in-domain sources)"] = [
        (f"held-out {h}", X[d != h], y[d != h], d[d != h], X[d == h], y[d == h])
        for h in ("Transfer from a hospital", "Clinic Referral")]
    return out


def erm(config, seed):
    """ERMClassifier for a full setting (BASE updated by the stages)."""
    from skda.modules import MLP

    budget = config["budget"]
    params = dict(
        module=MLP, module__hidden_layer_sizes=tuple(config["hidden_layer_sizes"]),
        module__dropout=config["dropout"], optimizer__weight_decay=config["weight_decay"],
        lr=config["lr"], input_scaling=config["input_scaling"], random_state=seed)
    if budget.startswith("early stopping"):
        params.update(early_stopping=True, n_iter_no_change=10)
    return ERMClassifier(**params), budget


def epochs_for(budget, n_rows, n_domains, batch_size=128):
    from skda.engine import BalancedBatches

    steps = int(budget.split()[-2] if budget.startswith("early") else budget.split()[0])
    per_epoch = BalancedBatches.steps_per_epoch(n_rows, n_domains, batch_size)
    return max(1, round(steps / per_epoch))


def fit_uda_check(stage, setting, config, problem, task, seed, method):
    """ERM or DANN, all other defaults kept, on a UDA problem of ``defaults.py``."""
    from defaults import uda_data

    from skda import DANNClassifier

    start = time.perf_counter()
    X, y, domains, target = uda_data(task, seed)  # task: the draw or pair
    Estimator = {"ERM": ERMClassifier, "DANN": DANNClassifier}[method]
    model = Estimator(optimizer__weight_decay=config["weight_decay"], random_state=seed,
                      **at_fixed_strength(Estimator))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, np.where(target, -1, y), domains=domains)
    return {"stage": stage, "setting": setting, "problem": problem, "task": task, "seed": seed,
            "score": round(float(model.score(X[target], y[target])), 4),
            "epochs": model.n_iter_, "seconds": round(time.perf_counter() - start, 1)}


def uda_jobs(stage, seed):
    from defaults import AMAZON, MOONS

    return [(UDA_CHECKS[stage], f"{setting_name(c)}, method={method}", {**config_for(stage), **c},
             group, problem, seed, method)
            for c in STAGES[stage] for method in ("ERM", "DANN")
            for group, problems_ in (("rotated moons", MOONS), ("Amazon", AMAZON))
            for problem in problems_]


def fit_one(stage, setting, config, problem, task, seed, data):
    if stage in UDA_CHECKS.values():
        return fit_uda_check(stage, setting, config, problem, task, seed, data)
    Xtr, ytr, dtr, Xte, yte = data
    start = time.perf_counter()
    if setting.startswith("anchor: "):
        model = ANCHORS[setting[len("anchor: "):]](seed)
        model.fit(Xtr, ytr)
        epochs = None
    else:
        model, budget = erm(config, seed)
        if config["input_scaling"] is None:  # the former way: impute, pass the raw units
            imputer = SimpleImputer(add_indicator=True).fit(Xtr)
            Xtr, Xte = imputer.transform(Xtr), imputer.transform(Xte)
        epochs = epochs_for(budget, len(Xtr), len(np.unique(dtr)))
        model.set_params(max_epochs=epochs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(Xtr, ytr, dtr)
        epochs = model.n_iter_
    auc = roc_auc_score(yte, model.predict_proba(Xte)[:, 1])
    return {"stage": stage, "setting": setting, "problem": problem, "task": task, "seed": seed,
            "score": round(float(auc), 4), "epochs": epochs,
            "seconds": round(time.perf_counter() - start, 1)}


def make_lightgbm(seed):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(random_state=seed, verbose=-1, n_jobs=1)


def make_hist_gradient_boosting(seed):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed)


def make_logistic_regression(seed):
    return make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(),
                         LogisticRegression(max_iter=2000))


ANCHORS = {"logistic regression (imputed, scaled)": make_logistic_regression,
           "HistGradientBoosting": make_hist_gradient_boosting, "LightGBM": make_lightgbm}


def config_for(stage):
    config = dict(BASE)
    for earlier in ORDER[:ORDER.index(stage)]:
        config.update(CHOSEN.get(earlier, {}))
    return config


def run(stages, seeds, args):
    jobs = []
    for seed in seeds:
        data = problems(seed, args.data_home)
        for stage in stages:
            settings = ([("anchor: " + name, None) for name in ANCHORS] if stage == "anchors"
                        else [(setting_name(c), {**config_for(stage), **c})
                              for c in STAGES[stage]])
            for setting, config in settings:
                for problem, tasks in data.items():
                    for task, *arrays in tasks:
                        jobs.append((stage, setting, config, problem, task, seed, arrays))
            if stage in UDA_CHECKS:
                jobs += uda_jobs(stage, seed)
    print(f"{len(jobs)} fits", flush=True)
    return parallel_records(fit_one, jobs, args)


def load():
    if not os.path.exists(SWEEP_CSV):
        return []
    with open(SWEEP_CSV, newline="") as f:
        # rows written before the "auc" column became "score"
        return [{"score": r.pop("auc", None), **r} for r in csv.DictReader(f)]


def save(records, stages):
    replaced = set(stages) | {UDA_CHECKS[s] for s in stages if s in UDA_CHECKS}
    kept = [r for r in load() if r["stage"] not in replaced]
    rows = kept + records
    with open(SWEEP_CSV, "w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def report(rows):
    """Per stage: settings x problems (mean AUC over tasks and seeds) and the suite mean."""
    lines = ["# Tabular defaults: the development sweeps", "",
             "Written by `benchmarks/tabular_defaults.py` (its docstring is the protocol). "
             "ROC AUC on the held-out domain, mean over tasks and seeds; suite = mean of the "
             "problems. Development problems and seeds only.", ""]
    for stage in ["anchors", *(s for st in ORDER for s in (st, UDA_CHECKS.get(st))
                               if s)]:
        chosen = rows_of = [r for r in rows if r["stage"] == stage]
        if not rows_of:
            continue
        seeds = sorted({str(r["seed"]) for r in rows_of})
        lines += [f"## {stage} (seeds {', '.join(seeds)})", ""]
        base_stage = next((k for k, v in UDA_CHECKS.items() if v == stage), stage)
        if stage != "anchors":
            lines += [f"Fixed: {setting_name(config_for(base_stage))}", ""]
        problems_seen = list(dict.fromkeys(r["problem"] for r in rows_of))
        if base_stage != stage:
            lines += ["Target accuracy (mean over the draws or pairs), every other setting "
                      "the estimator's default; suite = mean of the two.", ""]
        table = []
        for setting in dict.fromkeys(r["setting"] for r in rows_of):
            means = [np.mean([float(r["score"]) for r in rows_of
                              if r["setting"] == setting and r["problem"] == p] or [np.nan])
                     for p in problems_seen]
            secs = np.mean([float(r["seconds"]) for r in rows_of if r["setting"] == setting])
            table.append([setting, *(f"{m:.3f}" for m in means), f"{np.nanmean(means):.3f}",
                          f"{secs:.1f}"])
        lines += [markdown_table(["setting", *problems_seen, "suite", "s / fit"], table), ""]
        if stage in CHOSEN:
            lines += [f"Chosen: {setting_name(CHOSEN[stage])}", ""]
        del chosen
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default="anchors," + ",".join(ORDER))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    if not args.report_only:
        records = run(stages, [100 + i for i in range(args.seeds)], args)
        rows = save(records, stages)
    else:
        rows = load()
    text = report(rows)
    print(text)
    with open(os.path.join(RESULTS, "tabular_defaults.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
