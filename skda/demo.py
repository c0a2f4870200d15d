"""ERM against DANN on the DANN paper's rotated moons: ``python -m skda.demo``.

The target domain's labels are hidden during training (unsupervised domain
adaptation); both methods then predict every row, and the table gives the
accuracy per domain, mean and standard deviation over seeds.
"""

import argparse
import time

import numpy as np
from tqdm.auto import tqdm

from skda import DANNClassifier, ERMClassifier, unlabeled_rows_expected
from skda.datasets import make_rotated_moons


def run(seeds=5, max_epochs="auto", angle=35.0, lambda_="auto", progress=True):
    """Fit ERM and DANN once per seed; return ``{method: {domain: [accuracy per seed]}}``.

    Both estimators keep their defaults (``max_epochs="auto"``: about 2000
    optimizer steps; DANN's ``lambda_="auto"``: the strength chosen without
    target labels, six fits; on these tabular rows the weight decay is
    chosen first, four ERM fits), but for ``lambda_`` and ``max_epochs`` when
    given. With ``"auto"``, the strengths kept are under the method's name,
    ``"strengths"``.
    """
    X, y, domains = make_rotated_moons(angle=angle, random_state=0)
    y_train = np.where(domains == "target", -1, y)  # the target is unlabeled
    shared = dict(max_epochs=max_epochs)
    methods = {
        "ERM": lambda seed: ERMClassifier(random_state=seed, **shared),
        f"DANN (lambda_={lambda_ if lambda_ == 'auto' else format(lambda_, 'g')})":
            lambda seed: DANNClassifier(lambda_=lambda_, random_state=seed, **shared),
    }
    names = np.unique(domains)
    scores = {m: {name: [] for name in names} for m in methods}
    jobs = [(m, s) for s in range(seeds) for m in methods]
    for method, seed in tqdm(jobs, desc="fitting", unit="fit", disable=not progress):
        with unlabeled_rows_expected():  # ERM leaving out the target rows is the point
            clf = methods[method](seed).fit(X, y_train, domains=domains)
        for name in names:
            rows = domains == name
            scores[method][name].append(clf.score(X[rows], y[rows]))
        if hasattr(clf, "strength_"):
            scores[method].setdefault("strengths", []).append(clf.strength_)
    return scores


def format_table(scores):
    """Markdown table of mean ± sd accuracy per method and domain."""
    domains = [d for d in next(iter(scores.values())) if d != "strengths"]
    lines = ["| method | " + " | ".join(f"{d} accuracy" for d in domains) + " |",
             "|---" * (len(domains) + 1) + "|"]
    for method, per_domain in scores.items():
        cells = [f"{np.mean(per_domain[d]):.3f} ± {np.std(per_domain[d]):.3f}" for d in domains]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    kept = {m: v["strengths"] for m, v in scores.items() if "strengths" in v}
    for method, strengths in kept.items():
        lines.append(f"\n{method} kept lambda_ = "
                     + ", ".join(f"{s:g}" for s in strengths) + " (one per seed; 0 is ERM).")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="fits per method (default 5)")
    parser.add_argument("--epochs", type=lambda v: v if v == "auto" else int(v), default="auto",
                        help="epochs per fit, or 'auto' (the default: about 2000 steps)")
    parser.add_argument("--angle", type=float, default=35.0,
                        help="rotation of the target domain in degrees (default 35)")
    parser.add_argument("--lambda", dest="lambda_", default="auto",
                        type=lambda v: v if v == "auto" else float(v),
                        help="DANN adaptation strength, or 'auto' (the default: chosen "
                             "without target labels, six fits)")
    args = parser.parse_args(argv)
    print(f"Rotated moons: 150 source rows (labeled), 150 target rows rotated by "
          f"{args.angle:g} degrees (unlabeled in training).")
    start = time.perf_counter()
    scores = run(args.seeds, args.epochs, args.angle, args.lambda_)
    print(f"\nAccuracy per domain over {args.seeds} seeds (mean ± sd):\n")
    print(format_table(scores))
    searched = (", and DANN's lambda_='auto' 4 candidate strengths"
                if args.lambda_ == "auto" else "")
    print(f"\n{2 * args.seeds} estimators fitted in {time.perf_counter() - start:.1f} s (each "
          f"first trains 4 ERM networks to choose its weight decay{searched}).")


if __name__ == "__main__":
    main()
