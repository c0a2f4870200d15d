"""Unsupervised DA on the JDA MNIST/USPS subsets, both directions, beside published numbers.

``python benchmarks/mnist_usps.py [--seeds 5] [--jobs 2 --threads 1]
[--methods DANN,MCC,...] [--merge]`` (set ``SKDA_DATA``; the files are read
with ``download_if_missing=False``).

Protocol of the shallow DA papers (JDA, ICCV 2013; MEDA, ACM MM 2018): 2000
MNIST and 1800 USPS digits, 16x16 grey; every source image labeled, every
target image unlabeled in training and scored (transductive). Each deep
estimator runs with its defaults (default ConvNet, about 2000 steps, its
own default learning rate and strength; nothing tuned), the seed drawing
its initialisation and batches. Rows:

- 1-NN on the pixels scaled to unit L2 norm, as the JDA code scales them
  (computed here, in every run; deterministic, so no sd);
- ERM (source only) and SagNet (source only: it learns from labeled rows);
- the UDA methods, which see the target images unlabeled (``y=-1``, with
  ``domains``) in ``fit``: DANN, CDANN (unlabeled rows enter its
  discriminator with the predicted class probabilities), CDAN, CAADA,
  Deep CORAL, MMD and MCC;
- CCSA needs two labeled domains, and here there is one: no score.

``--methods`` (comma-separated, default all) runs a subset of the deep
methods. ``--merge`` then keeps the records of the other methods from the
saved ``<out>/mnist_usps.json`` (the previous run's), so that a run of only
some methods still gives, and saves, the full table; a method with no
record is left out of the table.

Published column: Wang et al., "Visual Domain Adaptation with Manifold
Embedded Distribution Alignment" (MEDA), ACM MM 2018, Table 3, read from
the table image in github.com/jindongwang/transferlearning,
``code/traditional/MEDA/results/result1.png``: 1NN 65.9 (M→U) and 44.7
(U→M), JDA 67.3 and 59.7, MEDA 89.5 and 72.1. Our 1-NN gives 65.9 and
44.7 too: the data and the protocol are theirs. Output:
``results/mnist_usps.{md,json,csv,png}``.
"""

import time
import warnings

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
from sklearn.neighbors import KNeighborsClassifier

from skda import (
    CAADAClassifier,
    CDANClassifier,
    CDANNClassifier,
    DANNClassifier,
    DeepCORALClassifier,
    ERMClassifier,
    MCCClassifier,
    MMDClassifier,
    SagNetClassifier,
)
from skda.datasets import fetch_mnist_usps

TASKS = {"MNIST→USPS": ("mnist", "usps"), "USPS→MNIST": ("usps", "mnist")}
#: the deep methods, in the table's order: source only, then the UDA methods
METHODS = {
    "ERM": ERMClassifier,
    "SagNet": SagNetClassifier,
    "DANN": DANNClassifier,
    "CDANN": CDANNClassifier,
    "CDAN": CDANClassifier,
    "CAADA": CAADAClassifier,
    "Deep CORAL": DeepCORALClassifier,
    "MMD": MMDClassifier,
    "MCC": MCCClassifier,
}
NN = "1-NN (pixels)"
#: MEDA paper, Table 3 (accuracy %, target domain)
PUBLISHED = {
    "1NN (published)": {"MNIST→USPS": 65.9, "USPS→MNIST": 44.7},
    "JDA (published)": {"MNIST→USPS": 67.3, "USPS→MNIST": 59.7},
    "MEDA (published)": {"MNIST→USPS": 89.5, "USPS→MNIST": 72.1},
}


def data(task):
    X, y, domains = fetch_mnist_usps(images=True, download_if_missing=False,
                                     return_X_y_domains=True)
    return X, y, domains, domains == TASKS[task][1]


def fit_and_score(task, method, seed, epochs, device):
    start = time.perf_counter()
    X, y, domains, target = data(task)
    if method == NN:
        flat = X.reshape(len(X), -1)
        flat = flat / np.linalg.norm(flat, axis=1, keepdims=True)
        model = KNeighborsClassifier(1).fit(flat[~target], y[~target])
        accuracy = model.score(flat[target], y[target])
    else:
        with warnings.catch_warnings():
            # SagNet (source only) says that it drops the unlabeled rows
            warnings.filterwarnings("ignore", "SagNetClassifier ignores", UserWarning)
            model = METHODS[method](max_epochs=epochs, random_state=seed, device=device,
                                    **at_fixed_strength(METHODS[method])).fit(
                X, np.where(target, -1, y), domains=domains)
        accuracy = model.score(X[target], y[target])
    return dict(task=task, method=method, seed=seed, epochs=None if method == NN else epochs,
                accuracy=float(accuracy),
                seconds=time.perf_counter() - start)


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    kept = merged_records(args, "mnist_usps", keep=lambda r: r["method"] != NN)
    jobs = [(task, NN, 0, args.epochs, args.device) for task in TASKS]
    jobs += [(task, method, seed, args.epochs, args.device)
             for task in TASKS for method in args.methods for seed in seeds]
    return parallel_records(fit_and_score, jobs, args) + kept


def _seeds(values):
    values = sorted(set(values))
    if values == list(range(values[0], values[-1] + 1)) and len(values) > 2:
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


def report(records, args, seconds):
    present = {r["method"] for r in records}
    methods = [m for m in METHODS if m in present]
    methods += sorted(present - set(METHODS) - {NN})  # records of methods no longer here
    rows = []
    for method in [NN, *methods] if NN in present else methods:
        cells = []
        for task in TASKS:
            accs = [100 * r["accuracy"] for r in records
                    if r["task"] == task and r["method"] == method]
            cells.append("—" if not accs else f"{accs[0]:.1f}" if method == NN else
                         mean_sd(accs, digits=1))
        rows.append([method, *cells])
    rows.append(["CCSA", "n/a: one labeled domain", "n/a: one labeled domain"])
    for name, values in PUBLISHED.items():
        rows.append([name, *(f"{values[task]:.1f}" for task in TASKS)])
    # seeds and epochs per method: merged rows may come from another run
    runs = {m: (_seeds(r["seed"] for r in records if r["method"] == m),
                {str(r.get("epochs", args.epochs)) for r in records if r["method"] == m})
            for m in methods}
    seeds = _seeds(range(args.first_seed, args.first_seed + args.seeds))
    common = (seeds, {str(args.epochs)})
    different = [f"{m} (seeds {s}, epochs {', '.join(sorted(e))})"
                 for m, (s, e) in runs.items() if (s, e) != common]
    epochs = "" if args.epochs == "auto" else f" --epochs {args.epochs}"
    if args.methods != list(METHODS):
        epochs += " --methods " + ",".join(args.methods)
    if getattr(args, "merge", False):
        epochs += " --merge"
    parts = [
        "# Unsupervised DA on MNIST/USPS (JDA subsets), beside published numbers",
        "",
        f"`python benchmarks/mnist_usps.py --seeds {args.seeds}{epochs}`; see the script's "
        "docstring for the protocol and the source of the published rows. Target accuracy "
        f"(%), mean ± sd over seeds {seeds}; every estimator with its defaults "
        "(`max_epochs=\"auto\"`: about 2000 steps, unless `--epochs` says otherwise). "
        "Source only: ERM, SagNet; the others see the target images unlabeled.",
        "",
        run_stamp(args, seconds),
    ]
    if different:
        parts += ["", "Rows from another run (merged with `--merge`, or saved before): "
                  + "; ".join(different) + "."]
    parts += ["", markdown_table(["method", *TASKS], rows), ""]
    return "\n".join(parts)


def plot(records, path):
    bar_chart(grouped(records, lambda r: r["task"], "accuracy"), path, "target accuracy")


def main():
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs="auto",
                              methods=list(METHODS))
    run_and_save("mnist_usps", run, report, args, plot=plot)


if __name__ == "__main__":
    main()
