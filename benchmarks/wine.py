"""Red → white and white → red wine (quality >= 7): logistic regression, ERM and DANN.

``python benchmarks/wine.py [--seeds 5] [--jobs 2 --threads 1]`` (set
``SKDA_DATA``; read with ``download_if_missing=False``).

Unsupervised DA between the two colours of the UCI Wine Quality data
(Cortez et al., 2009): 1599 red and 4898 white wines, 11 physico-chemical
features, the task "quality >= 7" (13.6% of the red wines, 21.6% of the
white). Every source wine labeled, every target wine unlabeled in training
and scored. A StandardScaler is fitted on source and target rows. Rows:
logistic regression and ERM (source only), DANN (target rows unlabeled in
``fit``), all with their defaults. Accuracy, balanced accuracy and ROC AUC
on the target (the classes are imbalanced, so accuracy alone rewards
predicting "not good"). Wine was not in the development suite that chose
the defaults: a held-out problem. No paper reports this protocol. Output:
``results/wine.{md,json,csv,png}``.
"""

import time

import numpy as np
from _common import (
    accuracy_arguments,
    at_fixed_strength,
    bar_chart,
    grouped,
    parallel_records,
    run_and_save,
    run_stamp,
    task_tables,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier, ERMClassifier
from skda.datasets import fetch_wine_quality

TASKS = {"red → white": ("red", "white"), "white → red": ("white", "red")}
METHODS = ["logistic regression", "ERM", "DANN"]
METRICS = ("accuracy", "balanced_accuracy", "roc_auc")


def fit_and_score(task, method, seed, epochs, device):
    start = time.perf_counter()
    X, y, domains = fetch_wine_quality(binary=True, download_if_missing=False,
                                       return_X_y_domains=True)
    X = StandardScaler().fit_transform(X)
    target = domains == TASKS[task][1]
    if method == "logistic regression":
        model = LogisticRegression(max_iter=2000).fit(X[~target], y[~target])
    else:
        Estimator = ERMClassifier if method == "ERM" else DANNClassifier
        model = Estimator(max_epochs=epochs, random_state=seed, device=device,
                          **at_fixed_strength(Estimator)).fit(
            X, np.where(target, -1, y), domains=domains)
    proba = model.predict_proba(X[target])[:, 1]
    predicted = model.predict(X[target])
    return dict(task=task, method=method, seed=seed,
                accuracy=float(np.mean(predicted == y[target])),
                balanced_accuracy=float(balanced_accuracy_score(y[target], predicted)),
                roc_auc=float(roc_auc_score(y[target], proba)),
                seconds=time.perf_counter() - start)


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(task, method, seed, args.epochs, args.device)
            for task in TASKS for method in METHODS for seed in seeds]
    return parallel_records(fit_and_score, jobs, args)


def report(records, args, seconds):
    parts = [
        "# Wine quality, red ↔ white (quality >= 7)",
        "",
        f"`python benchmarks/wine.py --seeds {args.seeds}`; see the script's docstring. "
        f"Mean ± sd over seeds {args.first_seed}..{args.first_seed + args.seeds - 1} on the "
        "target colour (logistic regression is deterministic). No published figure uses "
        "this protocol.",
        "",
        run_stamp(args, seconds),
    ]
    parts += task_tables(records, METRICS, METHODS, TASKS, lambda m: m.replace("_", " "))
    return "\n".join(parts) + "\n"


def plot(records, path):
    bar_chart(grouped(records, lambda r: r["task"], "balanced_accuracy"), path,
              "balanced accuracy on the target")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs="auto")
    run_and_save("wine", run, report, args, plot=plot)
