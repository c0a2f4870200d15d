"""ERM, DANN and the other UDA methods on the DANN paper's rotated moons, saved to results/.

``python benchmarks/dann_moons.py [--seeds 5] [--epochs auto]``: the demo's experiment
(150 source rows labeled, 150 target rows rotated by 35 degrees and
unlabeled; both estimators with their defaults: MLP 2-100-2, about 2000
optimizer steps, DANN's ``lambda_ = 1``), and on the same data every other
method that learns from an unlabeled target (CDANN, CDAN, CAADA, Deep
CORAL, MMD, MCC), each with its defaults.
The paper shows this problem as a picture (its figure 2) and reports no
accuracy for it, so there is no published figure to compare with.
Output: ``results/dann_moons.{md,json,csv,png}``.
"""

import numpy as np
from _common import (
    accuracy_arguments,
    at_fixed_strength,
    bar_chart,
    grouped,
    machine_stamp,
    run_and_save,
)

from skda import (
    CAADAClassifier,
    CDANClassifier,
    CDANNClassifier,
    DeepCORALClassifier,
    MCCClassifier,
    MMDClassifier,
)
from skda.datasets import make_rotated_moons
from skda.demo import format_table
from skda.demo import run as run_demo

#: the other methods that use the unlabeled target rows
FAMILIES = {"CDANN": CDANNClassifier, "CDAN": CDANClassifier, "CAADA": CAADAClassifier,
            "Deep CORAL": DeepCORALClassifier, "MMD": MMDClassifier, "MCC": MCCClassifier}


def run(seeds, epochs, device):
    scores = run_demo(seeds=seeds, max_epochs=epochs, progress=False)
    X, y, domains = make_rotated_moons(random_state=0)  # the demo's data
    y_train = np.where(domains == "target", -1, y)
    for method, Estimator in FAMILIES.items():
        scores[method] = {name: [] for name in np.unique(domains)}
        for seed in range(seeds):
            clf = Estimator(max_epochs=epochs, random_state=seed, device=device,
                            **at_fixed_strength(Estimator)).fit(
                X, y_train, domains=domains)
            for name in scores[method]:
                rows = domains == name
                scores[method][name].append(clf.score(X[rows], y[rows]))
    return [dict(method=method, domain=str(domain), seed=seed, accuracy=float(accuracy))
            for method, per_domain in scores.items()
            for domain, accuracies in per_domain.items()
            for seed, accuracy in enumerate(accuracies)]


def _scores(records):
    scores = {}
    for r in records:
        scores.setdefault(r["method"], {}).setdefault(r["domain"], []).append(r["accuracy"])
    return scores


def report(records, seeds, epochs, device, seconds):
    return (
        "# ERM, DANN and the UDA methods on rotated moons (target unlabeled)\n\n"
        f"`python benchmarks/dann_moons.py --seeds {seeds} --epochs {epochs}`; seeds "
        f"0..{seeds - 1}; accuracy mean ± sd (population sd over seeds). See the script's "
        "docstring. The paper gives no accuracy for this problem (a picture only).\n\n"
        + machine_stamp(device) + f" Total {seconds:.1f} s.\n\n"
        + format_table(_scores(records)) + "\n")


def plot(records, path):
    bar_chart(grouped(records, lambda r: r["domain"], "accuracy"), path, "accuracy")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs="auto")
    run_and_save("dann_moons", run, report, args, plot=plot)
