"""CCSA supervised domain adaptation with n labeled target images per class.

``python benchmarks/ccsa_fewshot.py [--seeds 5] [--epochs 100]``

The CCSA paper's few-shot protocol (Motiian et al., ICCV 2017, Sec. 5.1:
all source images labeled, ``n`` labeled target images per class, test on
the remaining target images) on pairs of :func:`skda.datasets.make_shifted_digits`
domains, since MNIST and USPS are not in the shared data: rotation 0° → 45°
and style gray → inverted (pairs fixed before any run). ERM is trained on
exactly the same rows (source + the ``n`` target rows per class, domain-
balanced batches); ``n = 0`` is the source-only baseline. Default ConvNet,
Adam lr 1e-3, batch 128, CCSA's defaults (``alpha=0.25``, ``margin=1``).
Seed ``s`` deals the images and draws the labeled target rows. Output:
``results/ccsa_fewshot.md`` and ``.json``.
"""

import json

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

from skda import CCSAClassifier, ERMClassifier
from skda.datasets import make_shifted_digits

PAIRS = [("rotation", 0, 45), ("style", "gray", "inverted")]
SHOTS = (0, 1, 3, 5, 7)


def run(seeds, epochs, device):
    records = []
    for shift, source, target in PAIRS:
        for seed in range(seeds):
            X, y, domains = make_shifted_digits(shift, domains=[source, target],
                                                random_state=seed)
            rng = np.random.RandomState(seed)
            target_rows = np.flatnonzero(domains == target)
            # nested draws: the 3-shot rows include the 1-shot rows, and so on
            ranked = {c: rng.permutation(target_rows[y[target_rows] == c]) for c in range(10)}
            for shots in SHOTS:
                labeled = np.concatenate([ranked[c][:shots] for c in range(10)]).astype(int)
                train = np.union1d(np.flatnonzero(domains == source), labeled)
                test = np.setdiff1d(target_rows, labeled)
                methods = {"ERM": ERMClassifier} if shots == 0 else {
                    "ERM": ERMClassifier, "CCSA": CCSAClassifier}
                for name, Estimator in methods.items():
                    clf = Estimator(max_epochs=epochs, random_state=seed, device=device)
                    clf.fit(X[train], y[train], domains=domains[train])
                    records.append(dict(
                        pair=f"{source} → {target}", shots=shots, method=name, seed=seed,
                        accuracy=float(clf.score(X[test], y[test]))))
                    print(json.dumps(records[-1]), flush=True)
    return records


def report(records, seeds, epochs, device, seconds):
    parts = [
        "# CCSA supervised domain adaptation, n labeled target images per class",
        "",
        f"`python benchmarks/ccsa_fewshot.py --seeds {seeds} --epochs {epochs}`: accuracy on "
        f"the unlabeled target images, mean ± sd over seeds 0..{seeds - 1}. See the "
        "script's docstring for the protocol.",
        "",
        machine_stamp(device) + f" Total {seconds / 60:.1f} min.",
    ]
    for pair in dict.fromkeys(r["pair"] for r in records):
        rows = []
        for shots in SHOTS:
            row = [shots]
            for method in ("ERM", "CCSA"):
                accs = [r["accuracy"] for r in records
                        if r["pair"] == pair and r["shots"] == shots and r["method"] == method]
                row.append(mean_sd(accs) if accs else "n/a: no labeled target domain")
            rows.append(row)
        parts += ["", f"## {pair}", "",
                  markdown_table(["labeled target per class", "ERM", "CCSA"], rows)]
    return "\n".join(parts) + "\n"


def plot(records, path):
    groups = grouped(records, lambda r: f"{r['pair']}, n={r['shots']}", "accuracy")
    bar_chart(groups, path, "target accuracy")


def main():
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs=100)
    run_and_save("ccsa_fewshot", run, report, args, plot=plot)


if __name__ == "__main__":
    main()
