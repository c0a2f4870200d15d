"""Leave-one-hospital-out on the UCI Heart Disease data: ERM, DANN, CCSA, SagNet.

``python benchmarks/clinical_loso.py [--seeds 5] [--epochs 100]`` (reads the data with
``fetch_heart_disease(download_if_missing=False)``: set ``SKDA_DATA``).

For each of the four hospitals, train on the other three and score on it:
ROC AUC and balanced accuracy (plain accuracy would reward predicting the
majority class at Switzerland, 93% positive). Every model is the Pipeline
``SimpleImputer(add_indicator=True)`` -> ``StandardScaler`` -> classifier, so
the imputation is learnt on the training hospitals. The deep models share an
MLP with one hidden layer of 32, Adam lr 1e-3, batch 64, ``--epochs``, and
each method's default strength (nothing tuned). Rows:

- logistic regression (scikit-learn, C=1): a strong tabular reference;
- ERM, DANN (domain generalization: a 3-way discriminator over the training
  hospitals), CCSA and SagNet, all without the held-out hospital's data;
- DANN (UDA): also sees the held-out hospital's features, unlabeled, through
  :func:`skda.model_selection.evaluate_transductive`.

No paper reports these methods on this protocol, so there is no published
figure to put beside ours. Output: ``results/clinical_loso.{md,json,csv,png}``.
"""

import json
import time

import numpy as np
from _common import (
    accuracy_arguments,
    bar_chart,
    grouped,
    machine_stamp,
    markdown_table,
    mean_sd,
    run_and_save,
)
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier
from skda.datasets import fetch_heart_disease
from skda.metrics import per_domain_scores
from skda.model_selection import evaluate_transductive

DEEP = {"ERM": ERMClassifier, "DANN": DANNClassifier, "CCSA": CCSAClassifier,
        "SagNet": SagNetClassifier}
METHODS = ["logistic regression", *DEEP, "DANN (UDA)"]
METRICS = ("roc_auc", "balanced_accuracy")


def pipeline(classifier):
    return make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(), classifier)


def run(seeds, epochs, device):
    heart = fetch_heart_disease(download_if_missing=False)
    X, y, sites = heart.data, heart.target, heart.domains
    records = []
    for seed in range(seeds):
        shared = dict(hidden_layer_sizes=(32,), batch_size=64, max_epochs=epochs,
                      random_state=seed, device=device)
        models = {"logistic regression": pipeline(LogisticRegression(max_iter=1000))}
        models.update({name: pipeline(Estimator(**shared)) for name, Estimator in DEEP.items()})
        for held_out in heart.domain_names:
            train = sites != held_out
            for name, model in models.items():
                start = time.perf_counter()
                fitted = clone(model)
                step = fitted.steps[-1][0]
                extra = {} if name == "logistic regression" else {
                    f"{step}__domains": sites[train]}
                fitted.fit(X[train], y[train], **extra)
                scores = per_domain_scores(fitted, X[~train], y[~train], sites[~train],
                                           metrics=METRICS)
                records.append(dict(method=name, held_out=held_out, seed=seed,
                                    seconds=time.perf_counter() - start,
                                    **{m: float(scores[m][0]) for m in METRICS}))
                print(json.dumps(records[-1]), flush=True)
        start = time.perf_counter()
        table = evaluate_transductive(pipeline(DANNClassifier(**shared)), X, y, sites,
                                      scoring={"roc_auc": "roc_auc",
                                               "balanced_accuracy": "balanced_accuracy"})
        for k, held_out in enumerate(table["domain"]):
            records.append(dict(method="DANN (UDA)", held_out=str(held_out), seed=seed,
                                seconds=float(table["fit_time"][k]),
                                **{m: float(table[f"test_{m}"][k]) for m in METRICS}))
            print(json.dumps(records[-1]), flush=True)
    return records


def _values(records, method, site, metric):
    return [r[metric] for r in records if r["method"] == method
            and (site == "mean" or r["held_out"] == site)]


def report(records, seeds, epochs, device, seconds):
    sites = list(dict.fromkeys(r["held_out"] for r in records))
    parts = [
        "# Leave-one-hospital-out on UCI Heart Disease",
        "",
        f"`python benchmarks/clinical_loso.py --seeds {seeds} --epochs {epochs}`; see the "
        f"script's docstring. Mean ± sd over seeds 0..{seeds - 1} of the score on the "
        "held-out hospital; 'mean' averages the four hospitals per seed. No published "
        "figure uses this protocol.",
        "",
        machine_stamp(device) + f" Total {seconds / 60:.1f} min.",
    ]
    for metric in METRICS:
        rows = []
        for method in METHODS:
            cells = [mean_sd(_values(records, method, site, metric)) for site in sites]
            per_seed = [np.mean([r[metric] for r in records if r["method"] == method
                                 and r["seed"] == s]) for s in range(seeds)]
            rows.append([method, *cells, mean_sd(per_seed)])
        parts += ["", f"## {metric.replace('_', ' ')}", "",
                  markdown_table(["method", *sites, "mean"], rows)]
    return "\n".join(parts) + "\n"


def plot(records, path):
    groups = grouped(records, lambda r: r["held_out"], "roc_auc")
    bar_chart(groups, path, "ROC AUC on the held-out hospital")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs=100)
    run_and_save("clinical_loso", run, report, args, plot=plot)
