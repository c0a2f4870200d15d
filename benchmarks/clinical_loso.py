"""Leave-one-hospital-out on the UCI Heart Disease data: ERM and every method.

``python benchmarks/clinical_loso.py [--seeds 5] [--jobs 2 --threads 1] [--methods "MCC
(UDA),..." --merge]`` (reads the data with ``fetch_heart_disease(download_if_missing=False)``:
set ``SKDA_DATA``). ``--methods`` reruns some rows; ``--merge`` keeps the others from the
saved ``results/clinical_loso.json``, so that the table stays whole.

For each of the four hospitals, train on the other three and score on it:
ROC AUC and balanced accuracy (plain accuracy would reward predicting the
majority class at Switzerland, 93% positive). Every model is the Pipeline
``SimpleImputer(add_indicator=True)`` -> ``StandardScaler`` -> classifier, so
the imputation is learnt on the training hospitals. Rows:

- logistic regression (scikit-learn, C=1): a strong tabular reference;
- ERM, DANN (domain generalization: a 3-way discriminator over the training
  hospitals), CCSA and SagNet with their defaults (MLP of 100, about 2000
  steps), all without the held-out hospital's data;
- the same with a small, regularised network, ``hidden_layer_sizes=(32,)``
  and ``optimizer__weight_decay=1e-2`` ("small MLP + wd"): on 600-700 rows
  the default network overfits the training hospitals;
- ERM with no hidden layer (``hidden_layer_sizes=()``): logistic regression
  trained by skda's engine;
- ``class_weight="balanced"`` for logistic regression and each method's
  defaults: prevalence goes from 36% to 93% across the hospitals;
- the method families with their defaults (domain generalization): CDANN,
  CDAN, CAADA, Deep CORAL, MMD, GroupDRO (groups = hospitals), IRM, V-REx,
  Mixup, DDAIG (its tabular generator, an MLP);
- DANN, CDAN, Deep CORAL, MMD and MCC (UDA): they also see the held-out
  hospital's features, unlabeled, through
  :func:`skda.model_selection.evaluate_transductive`.

No paper reports these methods on this protocol, so there is no published
figure to put beside ours. Output: ``results/clinical_loso.{md,json,csv,png}``.
"""

import time

import numpy as np
from _common import (
    accuracy_arguments,
    at_fixed_strength,
    bar_chart,
    grouped,
    markdown_table,
    mean_sd,
    merged_records,
    parallel_records,
    run_and_save,
    run_stamp,
)
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import (
    CAADAClassifier,
    CCSAClassifier,
    CDANClassifier,
    CDANNClassifier,
    DANNClassifier,
    DDAIGClassifier,
    DeepCORALClassifier,
    ERMClassifier,
    GroupDROClassifier,
    IRMClassifier,
    MCCClassifier,
    MixupClassifier,
    MMDClassifier,
    SagNetClassifier,
    VRExClassifier,
)
from skda.datasets import fetch_heart_disease
from skda.metrics import per_domain_scores
from skda.model_selection import evaluate_transductive

SMALL = dict(hidden_layer_sizes=(32,), optimizer__weight_decay=1e-2)
DEEP = {"ERM": (ERMClassifier, {}), "DANN": (DANNClassifier, {}),
        "CCSA": (CCSAClassifier, {}), "SagNet": (SagNetClassifier, {}),
        "ERM, small MLP + wd": (ERMClassifier, SMALL),
        "DANN, small MLP + wd": (DANNClassifier, SMALL),
        "CCSA, small MLP + wd": (CCSAClassifier, SMALL),
        "ERM, no hidden layer": (ERMClassifier, dict(hidden_layer_sizes=())),
        **{f"{name}, class_weight=balanced": (Estimator, dict(class_weight="balanced"))
           for name, Estimator in [("ERM", ERMClassifier), ("DANN", DANNClassifier),
                                   ("CCSA", CCSAClassifier), ("SagNet", SagNetClassifier)]}}
#: the method families beyond the four, each with its defaults (domain generalization)
FAMILIES = {"CDANN": CDANNClassifier, "CDAN": CDANClassifier, "CAADA": CAADAClassifier,
            "Deep CORAL": DeepCORALClassifier, "MMD": MMDClassifier,
            "GroupDRO": GroupDROClassifier, "IRM": IRMClassifier, "V-REx": VRExClassifier,
            "Mixup": MixupClassifier, "DDAIG": DDAIGClassifier}
DEEP.update({name: (Estimator, {}) for name, Estimator in FAMILIES.items()})
#: unsupervised DA: the held-out hospital's features join training, unlabeled
UDA = {"DANN (UDA)": DANNClassifier, "CDAN (UDA)": CDANClassifier,
       "Deep CORAL (UDA)": DeepCORALClassifier, "MMD (UDA)": MMDClassifier,
       "MCC (UDA)": MCCClassifier}
LINEAR = {"logistic regression": {},
          "logistic regression, class_weight=balanced": dict(class_weight="balanced")}
METHODS = [*LINEAR, *DEEP, *UDA]
METRICS = ("roc_auc", "balanced_accuracy")


def pipeline(classifier):
    return make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(), classifier)


def fit_and_score(name, seed, epochs, device):
    import warnings

    heart = fetch_heart_disease(download_if_missing=False)
    X, y, sites = heart.data, heart.target, heart.domains
    scoring = {m: m for m in METRICS}
    records = []
    if name in UDA:
        model = pipeline(UDA[name](max_epochs=epochs, random_state=seed, device=device,
                                   **at_fixed_strength(UDA[name])))
        table = evaluate_transductive(model, X, y, sites, scoring=scoring)
        for k, held_out in enumerate(table["domain"]):
            records.append(dict(method=name, held_out=str(held_out), seed=seed,
                                seconds=float(table["fit_time"][k]),
                                **{m: float(table[f"test_{m}"][k]) for m in METRICS}))
        return records
    if name in LINEAR:
        model = pipeline(LogisticRegression(max_iter=1000, **LINEAR[name]))
    else:
        Estimator, params = DEEP[name]
        params = at_fixed_strength(Estimator, params)
        model = pipeline(Estimator(max_epochs=epochs, random_state=seed, device=device,
                                   **params))
    for held_out in heart.domain_names:
        start = time.perf_counter()
        train = sites != held_out
        fitted = clone(model)
        extra = {} if name in LINEAR else {
            f"{fitted.steps[-1][0]}__domains": sites[train]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            fitted.fit(X[train], y[train], **extra)
        scores = per_domain_scores(fitted, X[~train], y[~train], sites[~train],
                                   metrics=METRICS)
        records.append(dict(method=name, held_out=held_out, seed=seed,
                            seconds=time.perf_counter() - start,
                            **{m: float(scores[m][0]) for m in METRICS}))
    return records


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(name, seed, args.epochs, args.device) for name in args.methods for seed in seeds
            if seed == args.first_seed or name not in LINEAR]
    kept = merged_records(args, "clinical_loso")
    return [r for batch in parallel_records(fit_and_score, jobs, args) for r in batch] + kept


def _values(records, method, site, metric):
    return [r[metric] for r in records if r["method"] == method
            and (site == "mean" or r["held_out"] == site)]


def report(records, args, seconds):
    sites = list(dict.fromkeys(r["held_out"] for r in records))
    seeds = sorted({r["seed"] for r in records})
    parts = [
        "# Leave-one-hospital-out on UCI Heart Disease",
        "",
        f"`python benchmarks/clinical_loso.py --seeds {args.seeds}`; see the script's "
        f"docstring. Mean ± sd over seeds {seeds[0]}..{seeds[-1]} of the score on the "
        "held-out hospital (logistic regression is deterministic: one seed); 'mean' "
        "averages the four hospitals per seed. No published figure uses this protocol.",
        "",
        run_stamp(args, seconds),
    ]
    if getattr(args, "merge", False) and args.methods != METHODS:
        parts += ["", f"Rerun on their own (`--methods \"{','.join(args.methods)}\" --merge`, "
                  "the time above): " + ", ".join(args.methods) + "; the other rows are those "
                  "of the saved full run."]
    for metric in METRICS:
        rows = []
        for method in [m for m in METHODS if any(r["method"] == m for r in records)]:
            cells = [mean_sd(_values(records, method, site, metric)) for site in sites]
            per_seed = [np.mean(v) for v in (
                [r[metric] for r in records if r["method"] == method and r["seed"] == s]
                for s in seeds) if v]
            rows.append([method, *cells, mean_sd(per_seed)])
        parts += ["", f"## {metric.replace('_', ' ')}", "",
                  markdown_table(["method", *sites, "mean"], rows)]
    return "\n".join(parts) + "\n"


def plot(records, path):
    groups = grouped(records, lambda r: r["held_out"], "roc_auc")
    bar_chart(groups, path, "ROC AUC on the held-out hospital")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs="auto", methods=METHODS)
    run_and_save("clinical_loso", run, report, args, plot=plot)
