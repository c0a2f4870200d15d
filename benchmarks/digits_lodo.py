"""Leave-one-domain-out accuracy of ERM, DANN, CCSA and SagNet on shifted digits.

``python benchmarks/digits_lodo.py [--seeds 3] [--epochs 30]``

DomainBed's protocol on :func:`skda.datasets.make_shifted_digits`: for each
kind of shift (rotation, style) and each of its six domains, train on the
other five (all labeled) and report the accuracy on the held-out domain.
Every method uses the same default ConvNet backbone, batches, optimizer
(Adam, lr 1e-3, batch 128) and epochs, and its own default strength (DANN
``lambda_=1``, CCSA ``alpha=0.25``, SagNet ``adv_weight=0.1``): no
hyperparameter was tuned, for any method. Seed ``s`` deals the images to
domains and seeds the training. Output: ``results/digits_lodo.md`` and
``.json`` (every fit).
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

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier
from skda.datasets import make_shifted_digits

METHODS = {"ERM": ERMClassifier, "DANN": DANNClassifier, "CCSA": CCSAClassifier,
           "SagNet": SagNetClassifier}


def run(seeds, epochs, device):
    records = []
    for shift in ("rotation", "style"):
        for seed in range(seeds):
            X, y, domains = make_shifted_digits(shift, random_state=seed)
            for held in np.unique(domains):
                train = domains != held
                for name, Estimator in METHODS.items():
                    start = time.perf_counter()
                    clf = Estimator(max_epochs=epochs, random_state=seed, device=device)
                    clf.fit(X[train], y[train], domains=domains[train])
                    records.append(dict(
                        shift=shift, held_out=str(held), method=name, seed=seed,
                        accuracy=float(clf.score(X[~train], y[~train])),
                        train_accuracy=float(clf.score(X[train], y[train])),
                        seconds=time.perf_counter() - start))
                    print(json.dumps(records[-1]), flush=True)
    return records


def report(records, seeds, epochs, device, seconds):
    parts = [
        "# Leave-one-domain-out on shifted digits (domain generalization)",
        "",
        f"`python benchmarks/digits_lodo.py --seeds {seeds} --epochs {epochs}`: train on five "
        "domains of `make_shifted_digits`, test on the sixth; accuracy on the held-out "
        f"domain, mean ± sd over seeds 0..{seeds - 1}. Default ConvNet (32-64-64), Adam "
        f"lr 1e-3, batch 128, {epochs} epochs, each method's default strength, nothing "
        "tuned. See the script's docstring.",
        "",
        machine_stamp(device) + f" Total {seconds / 60:.1f} min.",
    ]
    for shift in ("rotation", "style"):
        rows = [r for r in records if r["shift"] == shift]
        held_outs = list(dict.fromkeys(r["held_out"] for r in rows))
        table = []
        for held in [*held_outs, "mean"]:
            row = [held]
            for method in METHODS:
                accs = [r["accuracy"] for r in rows if r["method"] == method
                        and (held == "mean" or r["held_out"] == held)]
                if held == "mean":  # per seed, the mean over held-out domains
                    accs = np.mean(np.reshape(
                        [r["accuracy"] for r in rows if r["method"] == method],
                        (seeds, len(held_outs))), axis=1)
                row.append(mean_sd(accs))
            table.append(row)
        parts += ["", f"## {shift.capitalize()} domains", "",
                  markdown_table(["held-out domain", *METHODS], table)]
        train_acc = {m: np.mean([r["train_accuracy"] for r in rows if r["method"] == m])
                     for m in METHODS}
        fit_s = {m: np.mean([r["seconds"] for r in rows if r["method"] == m]) for m in METHODS}
        parts += ["", "Mean training-domain accuracy: " + ", ".join(
            f"{m} {a:.3f}" for m, a in train_acc.items()) + ". Mean seconds per fit: "
            + ", ".join(f"{m} {s:.1f}" for m, s in fit_s.items()) + "."]
    return "\n".join(parts) + "\n"


def plot(records, path):
    groups = grouped(records, lambda r: f"{r['shift']} {r['held_out']}", "accuracy")
    bar_chart(groups, path, "accuracy on the held-out domain")


def main():
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=3, epochs=30)
    run_and_save("digits_lodo", run, report, args, plot=plot)


if __name__ == "__main__":
    main()
