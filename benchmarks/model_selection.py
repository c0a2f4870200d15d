"""Which DANN ``lambda_`` does each label-free scorer pick, and how much of the gain does it keep?

``python benchmarks/model_selection.py [--seeds 3] [--jobs 2 --threads 1]``

Unsupervised DA: the target domain's rows are in the training data with
``y = -1``. For each task and seed, a GridSearchCV over ``lambda_`` in
LAMBDAS with :class:`skda.model_selection.TrainingDomainValidation` (20% of
every domain, the unlabeled target included, held out; one split) scores
each candidate with every scorer of :mod:`skda.model_selection`; none sees
a target label. Each candidate is also refitted on all rows and scored on
the target with its true labels: the oracle, and what a scorer's pick is
worth. DANN runs with its defaults otherwise. The measure asked of a
scorer: the share of the oracle's gain over ``lambda_=0`` that its pick
keeps, ``(pick - lambda_0) / (oracle - lambda_0)``, over all tasks and seeds.

Tasks (the UDA problems of the development suite that are cheap enough to
refit 5 times per seed; Amazon's 12 pairs have their own table in
``amazon.py``, MNIST/USPS none, at 3 minutes a fit on a CPU):

- rotated moons at 35 degrees: 150 rows a domain and noise 0.05, 300 and
  0.10, 600 and 0.08;
- ``make_shifted_digits("rotation")``: the domain rotated by 75 degrees (or
  by 0) is the unlabeled target, the other five are labeled sources.

Output: ``results/model_selection.{md,json,csv,png}``.
"""

import time

import numpy as np
from _common import (
    accuracy_arguments,
    bar_chart,
    best_index,
    gain_kept,
    lambda_scores,
    markdown_table,
    mean_sd,
    parallel_records,
    run_and_save,
    run_stamp,
)

from skda import DANNClassifier
from skda.datasets import make_rotated_moons, make_shifted_digits
from skda.model_selection import (
    CircularValidationScorer,
    DeepEmbeddedValidationScorer,
    ImportanceWeightedScorer,
    MixValScorer,
    PredictionEntropyScorer,
    SoftNeighborhoodDensityScorer,
    SourceAccuracyScorer,
)

LAMBDAS = [0.0, 0.1, 0.3, 1.0, 3.0]
SCORERS = {
    "source accuracy": SourceAccuracyScorer(),
    "entropy": PredictionEntropyScorer(),
    "MixVal": MixValScorer(),
    "SND": SoftNeighborhoodDensityScorer(),
    "IWCV": ImportanceWeightedScorer(),
    "DEV": DeepEmbeddedValidationScorer(),
    "circular": CircularValidationScorer(),
}
TASKS = ["moons 150/0.05", "moons 300/0.10", "moons 600/0.08", "digits, target 75°",
         "digits, target 0°"]
MOONS = {"moons 150/0.05": (150, 0.05), "moons 300/0.10": (300, 0.10),
         "moons 600/0.08": (600, 0.08)}


def data(task, seed):
    if task in MOONS:
        n, noise = MOONS[task]
        X, y, domains = make_rotated_moons(n_samples=n, noise=noise, random_state=seed)
        return X, y, domains, domains == "target"
    X, y, domains = make_shifted_digits("rotation", random_state=seed)
    return X, y, domains, domains == (75 if "75" in task else 0)


def select(task, seed, epochs, device):
    start = time.perf_counter()
    X, y, domains, target = data(task, seed)
    y_train = np.where(target, -1, y)
    model = DANNClassifier(max_epochs=epochs, random_state=seed, device=device)
    oracle = []
    for lam in LAMBDAS:
        try:
            fitted = model.set_params(lambda_=lam).fit(X, y_train, domains=domains)
            oracle.append(float(fitted.score(X[target], y[target])))
        except ValueError:  # diverged: NonFiniteLossGuard
            oracle.append(float("nan"))
    scores = lambda_scores(model, X, y_train, domains, LAMBDAS, SCORERS, seed)
    record = dict(task=task, seed=seed, lambdas=LAMBDAS, oracle=oracle,
                  seconds=time.perf_counter() - start)
    record.update(scores)
    return record


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(task, seed, args.epochs, args.device) for task in TASKS for seed in seeds]
    return parallel_records(select, jobs, args)


def _picked(record, name):
    k = best_index(record[name])
    return np.nan if k is None else record["oracle"][k]


def kept_share(records, name):
    """Share of the oracle's gain over lambda_=0 kept by the scorer's pick, over all runs."""
    return gain_kept(records, [_picked(r, name) for r in records])


def report(records, args, seconds):
    seeds = f"{args.first_seed}..{args.first_seed + args.seeds - 1}"
    parts = [
        "# Choosing DANN's lambda_ without target labels",
        "",
        f"`python benchmarks/model_selection.py --seeds {args.seeds}`; see the script's "
        f"docstring. lambda_ grid {LAMBDAS}; seeds {seeds}; accuracy on the target domain, "
        "mean ± sd over seeds. 'picks' lists the lambda_ chosen per seed; a tie goes to the "
        "smallest lambda_, as in GridSearchCV's ranking.",
        "",
        run_stamp(args, seconds),
        "",
        "## Share of the oracle's gain over lambda_=0 that each scorer keeps",
        "",
        "Summed over every task and seed: (accuracy of the pick - accuracy at lambda_=0) / "
        "(best accuracy of the grid - accuracy at lambda_=0). 1 is the oracle, 0 is no better "
        "than not adapting, below 0 worse.",
        "",
        markdown_table(["scorer", "share of the gain kept"],
                       [[name, f"{kept_share(records, name):.2f}"] for name in SCORERS]),
    ]
    for task in TASKS:
        rows = [r for r in records if r["task"] == task]
        if not rows:
            continue
        oracle = np.array([r["oracle"] for r in rows])
        table = [[f"fixed lambda_={lam:g}", "", mean_sd(oracle[:, k])]
                 for k, lam in enumerate(LAMBDAS)]
        table.append(["oracle (best lambda_ per seed, uses target labels)",
                      ", ".join(f"{LAMBDAS[best_index(r['oracle'])]:g}" for r in rows),
                      mean_sd(np.nanmax(oracle, axis=1))])
        for name in SCORERS:
            picks = [best_index(r[name]) for r in rows]
            table.append([f"picked by {name}",
                          ", ".join("-" if k is None else f"{LAMBDAS[k]:g}" for k in picks),
                          mean_sd([_picked(r, name) for r in rows])])
        parts += ["", f"## {task}", "",
                  markdown_table(["selection", "picks", "target accuracy"], table)]
    return "\n".join(parts) + "\n"


def plot(records, path):
    groups = {}
    for r in records:
        per_method = groups.setdefault(r["task"], {})
        per_method.setdefault("lambda_=0", []).append(r["oracle"][0])
        per_method.setdefault("oracle", []).append(np.nanmax(r["oracle"]))
        for name in SCORERS:
            per_method.setdefault(name, []).append(_picked(r, name))
    bar_chart(groups, path, "target accuracy of the pick")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=3, epochs="auto")
    run_and_save("model_selection", run, report, args, plot=plot)
