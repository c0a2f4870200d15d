"""Leave-one-domain-out accuracy of every domain-generalization method on shifted digits.

``python benchmarks/digits_lodo.py [--seeds 5] [--epochs 30] [--jobs 2 --threads 1]
[--shifts rotation,style] [--methods ERM,DANN,... [--merge]]``

DomainBed's protocol on :func:`skda.datasets.make_shifted_digits`: for each
kind of shift (rotation: 0, 15, ..., 75 degrees, RotatedMNIST's angles;
style: six colour and texture renderings) and each of its six domains,
train on the other five (all labeled) and report the accuracy on the
held-out domain. Seed ``s`` deals the images to domains and seeds the
training; one job is one (shift, seed, held-out domain, method) fit, run in
``--jobs`` processes of ``--threads`` torch threads.

Methods (``METHODS``; ``--methods`` picks a comma-separated subset, and
``--merge`` keeps the saved records of the others): ERM,
DANN, CDANN, CCSA, SagNet, CAADA, Deep CORAL, MMD, CDAN, GroupDRO, IRM,
V-REx, Mixup, "ERM + MixStyle" (ERM on the default ConvNet with
``module=ConvNet, module__mixstyle=True``: a MixStyle layer after the first
block), DDAIG and L2A-OT. A name whose class skda does not have (``METHODS`` names
the class) is skipped with a printed note, so an entry can precede its
class. Every method runs with the same default ConvNet backbone (32-64
channels, 128 features), batch 128 split evenly over the five training
domains, skda's Adam (betas 0.5, 0.999), each method's own default
learning rate and its own default strength (e.g. DANN
``lambda_=1``, CCSA ``alpha=0.25``, SagNet ``adv_weight=0.1``, IRM
``penalty_weight=100``, V-REx ``10``, Mixup ``alpha=0.2``, GroupDRO
``eta=0.01``): no hyperparameter was tuned, for any method, and rows that
lose to ERM stay in the table.

Training length: a fixed budget of ``--epochs`` (default 30) epochs, the
same for every method, as DomainBed fixes a step count: about 12 steps an
epoch on ~1,500 training images, so ~360 steps, shorter than the
estimators' own default ``max_epochs="auto"`` (about 2,000 steps).

Published column (rotation table): DomainBed's RotatedMNIST averages over
the six test domains, model selection "training-domain validation set",
read from ``domainbed/results/2020_10_06_7df6f06/results.tex`` in
github.com/facebookresearch/DomainBed (section "Model selection:
training-domain validation set", subsection "RotatedMNIST", column "Avg";
the README's result table), Gulrajani & Lopez-Paz, "In Search of Lost
Domain Generalization", ICLR 2021. They are a reference point, not the same
problem: DomainBed rotates 28x28 MNIST (70,000 images), trains a larger
ConvNet (MNIST_CNN, 64-128-128-128 channels) for 5,001 steps with a random
hyperparameter search (20 draws x 3 trials) and selects on 20% of each
training domain; ``make_shifted_digits`` is scikit-learn's 8x8 digits
(1,797 images, ~300 a domain) with every method at its defaults.

Output: ``results/digits_lodo.{md,json,csv,png}`` (the JSON and CSV hold
every fit).
"""

import argparse
import sys
import time

import numpy as np
from _common import (
    accuracy_arguments,
    at_fixed_strength,
    bar_chart,
    markdown_table,
    mean_sd,
    merged_records,
    parallel_records,
    run_and_save,
    run_stamp,
)

import skda
from skda.datasets import make_shifted_digits
from skda.engine import BalancedBatches
from skda.methods.base import AUTO_STEPS
from skda.modules import ConvNet

SHIFTS = ("rotation", "style")

#: report name (the registry's display name): (name of the skda class, its parameters
#: besides the protocol's); add a method with one line. A class skda lacks is skipped with a note.
METHODS = {
    "ERM": ("ERMClassifier", {}),
    "ERM + MixStyle": ("ERMClassifier", {"module": ConvNet, "module__mixstyle": True}),
    "DANN": ("DANNClassifier", {}),
    "CDANN": ("CDANNClassifier", {}),
    "CCSA": ("CCSAClassifier", {}),
    "SagNet": ("SagNetClassifier", {}),
    "CAADA": ("CAADAClassifier", {}),
    "Deep CORAL": ("DeepCORALClassifier", {}),
    "MMD": ("MMDClassifier", {}),
    "CDAN": ("CDANClassifier", {}),
    "GroupDRO": ("GroupDROClassifier", {}),
    "IRM": ("IRMClassifier", {}),
    "V-REx": ("VRExClassifier", {}),
    "Mixup": ("MixupClassifier", {}),
    "DDAIG": ("DDAIGClassifier", {}),
    "L2A-OT": ("L2AOTClassifier", {}),
}

#: DomainBed, results/2020_10_06_7df6f06/results.tex, training-domain validation,
#: RotatedMNIST, column "Avg" (accuracy %, mean over the test domains 0..75 degrees)
DOMAINBED_ROTATED_MNIST = {
    "ERM": 98.0, "IRM": 97.7, "GroupDRO": 98.0, "Mixup": 98.0, "Deep CORAL": 98.0,
    "MMD": 97.9, "DANN": 97.8, "CDANN": 97.9, "SagNet": 98.0, "V-REx": 97.9,
}
#: skda's name of a method -> DomainBed's, where they differ
DOMAINBED_NAMES = {"Deep CORAL": "CORAL"}


def estimator_class(name):
    """The skda class of ``METHODS[name]``, or None when skda does not have it."""
    return getattr(skda, METHODS[name][0], None)


def available(names):
    """``names`` without those whose class skda lacks (each skipped with a printed note)."""
    kept = []
    for name in names:
        if estimator_class(name) is None:
            print(f"note: skipping {name}: skda has no {METHODS[name][0]}", flush=True)
        else:
            kept.append(name)
    return kept


def fit_and_score(shift, seed, held, method, epochs, device):
    start = time.perf_counter()
    X, y, domains = make_shifted_digits(shift, random_state=seed)  # 0.05 s
    train = domains.astype(str) != held
    params = at_fixed_strength(estimator_class(method), METHODS[method][1])
    clf = estimator_class(method)(max_epochs=epochs, random_state=seed, device=device, **params)
    clf.fit(X[train], y[train], domains=domains[train])
    return dict(shift=shift, held_out=held, method=method, seed=seed,
                accuracy=float(clf.score(X[~train], y[~train])),
                train_accuracy=float(clf.score(X[train], y[train])),
                seconds=time.perf_counter() - start)


def run(args):
    methods = available(args.methods)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(shift, seed, str(held), method, args.epochs, args.device)
            for shift in args.shifts for seed in seeds
            for held in np.unique(make_shifted_digits(shift, random_state=seed)[2])
            for method in methods]
    return parallel_records(fit_and_score, jobs, args) + merged_records(args, "digits_lodo")


def _order(names):
    """``names`` in ``METHODS`` order, then any others (older records) in their order."""
    names = list(dict.fromkeys(names))
    return [m for m in METHODS if m in names] + [m for m in names if m not in METHODS]


def seed_means(rows, method):
    """Per seed, ``method``'s mean accuracy over the held-out domains (seeds with all of them)."""
    held_outs = {r["held_out"] for r in rows}
    per_seed = {}
    for r in rows:
        if r["method"] == method:
            per_seed.setdefault(r["seed"], {})[r["held_out"]] = r["accuracy"]
    return [np.mean(list(v.values())) for v in per_seed.values() if set(v) == held_outs]


def shift_table(rows, shift):
    held_outs = list(dict.fromkeys(r["held_out"] for r in rows))
    published = shift == "rotation"
    table = []
    for method in _order(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        cells = [mean_sd([100 * r["accuracy"] for r in mine if r["held_out"] == held], 1)
                 if any(r["held_out"] == held for r in mine) else "—" for held in held_outs]
        means = seed_means(rows, method)
        cells.append(mean_sd(100 * np.asarray(means), 1) if means else "—")
        cells.append(f"{100 * np.mean([r['train_accuracy'] for r in mine]):.1f}")
        cells.append(f"{np.mean([r['seconds'] for r in mine]):.1f}")
        if published:
            value = DOMAINBED_ROTATED_MNIST.get(method)
            alias = f" ({DOMAINBED_NAMES[method]})" if method in DOMAINBED_NAMES else ""
            cells.append("—" if value is None else f"{value:.1f}{alias}")
        table.append([method, *cells])
    header = ["method", *held_outs, "mean", "train acc.", "s / fit"]
    if published:
        header.append("DomainBed RotatedMNIST avg")
    return markdown_table(header, table)


def budget(epochs):
    """The sentence on the training length of ``--epochs``."""
    if epochs == "auto":
        return ("Each method trains for its default length, `max_epochs=\"auto\"` (about "
                f"{AUTO_STEPS:,} steps).")
    steps = BalancedBatches.steps_per_epoch(round(5 * 1797 / 6), 5, 128)
    return (f"A fixed budget of {epochs} epoch{'s' * (epochs != 1)} for every method "
            f"({steps} steps an epoch, {steps * epochs:,} steps), as DomainBed fixes a step "
            f"count: shorter than the estimators' default `max_epochs=\"auto\"` (about "
            f"{AUTO_STEPS:,} steps).")


def command(records, args):
    """The command line of the run, with --shifts and --methods when not all."""
    shifts = [s for s in SHIFTS if any(r["shift"] == s for r in records)]
    methods = _order(r["method"] for r in records)
    line = f"python benchmarks/digits_lodo.py --seeds {args.seeds} --epochs {args.epochs}"
    if shifts != list(SHIFTS):
        line += " --shifts " + ",".join(shifts)
    if methods != list(METHODS):
        line += f" --methods '{','.join(methods)}'"
    return line


def report(records, args, seconds):
    shifts = [s for s in SHIFTS if any(r["shift"] == s for r in records)]
    seeds = sorted({r["seed"] for r in records})
    epochs = args.epochs
    parts = [
        "# Leave-one-domain-out on shifted digits (domain generalization)",
        "",
        f"`{command(records, args)}`: train "
        "on five domains of `make_shifted_digits` (scikit-learn's 8x8 digits, 1,797 images, "
        "~300 a domain), test on the sixth. Accuracy (%) on the held-out domain, mean ± sd "
        f"over seeds {', '.join(map(str, seeds))}; \"mean\" is, per seed, the mean over the "
        "six held-out domains, then mean ± sd over seeds. Default ConvNet (32-64, 128 "
        "features), batch 128, each method's default learning rate and strength, nothing "
        f"tuned. {budget(epochs)} \"train acc.\": accuracy on the five training domains; "
        "\"s / fit\": seconds per fit. See the script's docstring.",
        "",
        run_stamp(args, seconds),
    ]
    for shift in shifts:
        rows = [r for r in records if r["shift"] == shift]
        parts += ["", f"## {shift.capitalize()} domains", "", shift_table(rows, shift)]
        if shift == "rotation":
            parts += [
                "", "DomainBed RotatedMNIST avg: Gulrajani & Lopez-Paz (ICLR 2021), "
                "DomainBed `domainbed/results/2020_10_06_7df6f06/results.tex`, model "
                "selection \"training-domain validation set\", RotatedMNIST \"Avg\" over the "
                "test domains 0, 15, 30, 45, 60, 75 (their CORAL is Deep CORAL). A reference "
                "point, not the same problem: 28x28 MNIST (70,000 images), a larger ConvNet, "
                "5,001 steps and a hyperparameter search per algorithm."]
    return "\n".join(parts) + "\n"


def plot(records, path):
    """Bars: per shift, each method's mean over the held-out domains, mean ± sd over seeds."""
    groups = {}
    for shift in SHIFTS:
        rows = [r for r in records if r["shift"] == shift]
        for method in _order(r["method"] for r in rows):
            groups.setdefault(shift, {})[method] = seed_means(rows, method)
    import matplotlib

    # 20 colours: the default cycle repeats after 10, and there are ~15 methods
    colours = matplotlib.cycler(color=matplotlib.colormaps["tab20"].colors)
    with matplotlib.rc_context({"axes.prop_cycle": colours}):
        bar_chart(groups, path, "accuracy on the held-out domain",
                  "mean over the six held-out domains, ± sd over seeds")


def _names(value, choices, what):
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in names if v not in choices]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}; choose from {list(choices)}")
    return names


def main():
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--shifts", default=",".join(SHIFTS))
    options, rest = extra.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    args = accuracy_arguments(
        __doc__.splitlines()[0] + f" Also: --shifts (comma-separated, of {', '.join(SHIFTS)}; "
        "default all).", seeds=5, epochs=30, methods=list(METHODS))
    args.shifts = _names(options.shifts, SHIFTS, "shift(s)")
    run_and_save("digits_lodo", run, report, args, plot=plot)


if __name__ == "__main__":
    main()
