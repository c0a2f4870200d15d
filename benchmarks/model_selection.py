"""Which DANN ``lambda_`` does each unsupervised scorer pick, and what does it give?

``python benchmarks/model_selection.py [--seeds 3] [--epochs 30]``

Unsupervised DA: the target domain's rows are in the training data with
``y = -1``. For each seed, a GridSearchCV over ``lambda_`` in LAMBDAS with
:class:`skda.model_selection.TrainingDomainValidation` (20% of every domain,
target included, held out; one split) scores each candidate with every
scorer of :mod:`skda.model_selection`; none of them sees a target label.
Each candidate is then refitted on all rows and scored on the target with
its true labels: the oracle. A scorer's result is the oracle accuracy of
the candidate it picked.

Problems:

- moons: the DANN paper's rotated moons (source 0°, target 35°), MLP 2-15-2,
  Adam lr 1e-2, batch 64, 300 epochs (the ``dann_moons`` protocol).
- digits-75 and digits-0: ``make_shifted_digits("rotation")``, the domain
  rotated by 75° (or 0°) is the unlabeled target, the other five are
  labeled sources; default ConvNet, Adam lr 1e-3, batch 128, ``--epochs``.

Output: ``results/model_selection.md`` and ``.json`` (every score).
"""

import json
import time

import numpy as np
from _common import (
    accuracy_arguments,
    bar_chart,
    machine_stamp,
    markdown_table,
    mean_sd,
    run_and_save,
)
from sklearn.model_selection import GridSearchCV

from skda import DANNClassifier
from skda.datasets import make_rotated_moons, make_shifted_digits
from skda.model_selection import (
    DeepEmbeddedValidationScorer,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    SourceAccuracyScorer,
    TrainingDomainValidation,
)

LAMBDAS = [0.0, 0.03, 0.1, 0.3, 1.0, 3.0]
SCORERS = {
    "source accuracy": SourceAccuracyScorer(),
    "entropy": PredictionEntropyScorer(),
    "IWCV": ImportanceWeightedScorer(),
    "DEV": DeepEmbeddedValidationScorer(),
    "IWCV (0-1 loss)": ImportanceWeightedScorer(loss="zero_one"),
    "DEV (0-1 loss)": DeepEmbeddedValidationScorer(loss="zero_one"),
}


def problems(seed, epochs):
    X, y, domains = make_rotated_moons(random_state=seed)
    yield "moons", X, y, domains, "target", dict(
        hidden_layer_sizes=(15,), lr=1e-2, batch_size=64, max_epochs=300)
    X, y, domains = make_shifted_digits("rotation", random_state=seed)
    for target in (75, 0):
        yield f"digits-{target}", X, y, domains, target, dict(max_epochs=epochs)


def run(seeds, epochs, device):
    records = []
    for seed in range(seeds):
        for problem, X, y, domains, target, params in problems(seed, epochs):
            start = time.perf_counter()
            is_target = domains == target
            y_train = np.where(is_target, -1, y)
            model = DANNClassifier(**params, random_state=seed, device=device)
            search = GridSearchCV(
                model, {"lambda_": LAMBDAS}, scoring=SCORERS, refit=False,
                cv=TrainingDomainValidation(random_state=seed))
            search.fit(X, y_train, groups=domains, domains=domains)
            oracle = []
            for lam in LAMBDAS:
                try:
                    fitted = model.set_params(lambda_=lam).fit(X, y_train, domains=domains)
                    oracle.append(float(fitted.score(X[is_target], y[is_target])))
                except ValueError:  # diverged: NonFiniteLossGuard
                    oracle.append(float("nan"))
            record = dict(problem=problem, seed=seed, lambdas=LAMBDAS, oracle=oracle,
                          seconds=time.perf_counter() - start)
            for name in SCORERS:
                record[name] = [float(s) for s in search.cv_results_[f"mean_test_{name}"]]
            records.append(record)
            print(json.dumps(record), flush=True)
    return records


def _pick(scores):
    scores = np.asarray(scores, dtype=float)
    return int(np.nanargmax(scores)) if np.isfinite(scores).any() else None


def report(records, seeds, epochs, device, seconds):
    parts = [
        "# Choosing DANN's lambda_ without target labels",
        "",
        f"`python benchmarks/model_selection.py --seeds {seeds} --epochs {epochs}`; see the "
        f"script's docstring. lambda_ grid {LAMBDAS}; seeds 0..{seeds - 1}; accuracy on the "
        "target domain, mean ± sd over seeds. 'picks' lists the lambda_ chosen per seed; "
        "a tie goes to the first (smallest) lambda_, as in GridSearchCV's ranking.",
        "",
        machine_stamp(device) + f" Total {seconds / 60:.1f} min.",
    ]
    for problem in dict.fromkeys(r["problem"] for r in records):
        rows = [r for r in records if r["problem"] == problem]
        oracle = np.array([r["oracle"] for r in rows])
        table = [["fixed " + f"lambda_={lam:g}", "", mean_sd(oracle[:, k])]
                 for k, lam in enumerate(LAMBDAS)]
        table.append(["oracle (best lambda_ per seed, uses target labels)",
                      ", ".join(f"{LAMBDAS[_pick(r['oracle'])]:g}" for r in rows),
                      mean_sd(np.nanmax(oracle, axis=1))])
        for name in SCORERS:
            picks = [_pick(r[name]) for r in rows]
            accs = [r["oracle"][k] if k is not None else np.nan
                    for r, k in zip(rows, picks, strict=True)]
            table.append([f"picked by {name}",
                          ", ".join("-" if k is None else f"{LAMBDAS[k]:g}" for k in picks),
                          mean_sd(accs)])
        parts += ["", f"## {problem}", "",
                  markdown_table(["selection", "picks", "target accuracy"], table)]
    return "\n".join(parts) + "\n"

def plot(records, path):
    groups = {}
    for r in records:
        per_method = groups.setdefault(r["problem"], {})
        per_method.setdefault("oracle", []).append(np.nanmax(r["oracle"]))
        for name in SCORERS:
            k = _pick(r[name])
            per_method.setdefault(name, []).append(np.nan if k is None else r["oracle"][k])
    bar_chart(groups, path, "target accuracy of the pick")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=3, epochs=30)
    run_and_save("model_selection", run, report, args, plot=plot)
