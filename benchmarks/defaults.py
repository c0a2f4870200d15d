"""Every method with its defaults against ERM with its defaults, on the development suite.

``python benchmarks/defaults.py [--seeds 3] [--first-seed 100] [--jobs 2 --threads 1]``
(set ``SKDA_DATA``: MNIST/USPS, Amazon reviews and heart disease are read with
``download_if_missing=False``).

This is the confirmation step of the protocol that chose skda's defaults
(written out in ``results/defaults.md``): each estimator is built with no
argument but ``random_state`` and ``device`` (and ``domains=`` in ``fit``),
and scored on the problems below. The seeds start at 100, away from the
0..4 of the reported benchmarks. Problems:

- unsupervised DA (target rows in ``fit`` with ``y = -1``; accuracy on the
  target): rotated moons at 35 degrees (150 rows a domain and noise 0.05,
  300 and 0.10, 600 and 0.08; a new draw per seed), MNIST to USPS and USPS
  to MNIST (the JDA subsets, 16x16 images), and four Amazon review pairs
  (books to kitchen, dvd to electronics, kitchen to books, electronics to
  books; a StandardScaler fitted on source and target rows first);
- domain generalization (leave one domain out; the held-out domain unseen):
  the four heart-disease hospitals (imputer and scaler in the Pipeline; ROC
  AUC, as the prevalence differs from 36% to 93%) and ``make_site_shift``
  (four sites, covariate shift 2, accuracy).

CCSA needs two labeled domains, so it has no score on the UDA problems
(each has one source). SagNet learns from the labeled rows only (the UDA
target rows are dropped). "ERM (DANN's lr)" is ERM trained with DANN's
learning-rate schedule (``lr=1e-2``, annealed), to show that DANN's gain is
not its optimizer's. Output: ``results/defaults.{md,json,csv,png}``.
"""

import csv
import os
import time
import warnings

import numpy as np
from _common import (
    RESULTS,
    accuracy_arguments,
    at_fixed_strength,
    bar_chart,
    markdown_table,
    mean_sd,
    parallel_records,
    run_and_save,
    run_stamp,
)
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier
from skda.datasets import (
    fetch_amazon_reviews,
    fetch_heart_disease,
    fetch_mnist_usps,
    make_rotated_moons,
    make_site_shift,
)
from skda.engine import LearningRateAnnealing

METHODS = {
    "ERM": lambda **kw: ERMClassifier(**kw),
    "ERM (DANN's lr)": lambda **kw: ERMClassifier(
        lr=1e-2, callbacks=[("lr_annealing", LearningRateAnnealing())], **kw),
    "DANN": lambda **kw: DANNClassifier(**at_fixed_strength(DANNClassifier, kw)),
    "CCSA": lambda **kw: CCSAClassifier(**kw),
    "SagNet": lambda **kw: SagNetClassifier(**kw),
}
MOONS = {"moons 150/0.05": (150, 0.05), "moons 300/0.10": (300, 0.10),
         "moons 600/0.08": (600, 0.08)}
DIGITS = {"MNIST→USPS": ("mnist", "usps"), "USPS→MNIST": ("usps", "mnist")}
AMAZON = {"Amazon B→K": ("books", "kitchen"), "Amazon D→E": ("dvd", "electronics"),
          "Amazon K→B": ("kitchen", "books"), "Amazon E→B": ("electronics", "books")}
DG = {"heart (LODO, AUC)": "heart", "site shift (LODO)": "site_shift"}
PROBLEMS = [*MOONS, *DIGITS, *AMAZON, *DG]


def uda_data(problem, seed):
    """X, y (all labels), domains, target mask."""
    if problem in MOONS:
        n, noise = MOONS[problem]
        X, y, domains = make_rotated_moons(n_samples=n, noise=noise, random_state=seed)
        return X, y, domains, domains == "target"
    if problem in DIGITS:
        source, target = DIGITS[problem]
        X, y, domains = fetch_mnist_usps(domains=DIGITS[problem], images=True,
                                         download_if_missing=False, return_X_y_domains=True)
        return X, y, domains, domains == target
    source, target = AMAZON[problem]
    X, y, domains = fetch_amazon_reviews(domains=AMAZON[problem], download_if_missing=False,
                                         return_X_y_domains=True)
    # transductive scaling, as a Pipeline fitted on source and target rows would do
    return StandardScaler().fit_transform(X), y, domains, domains == target


def dg_data(problem, seed):
    if DG[problem] == "heart":
        return fetch_heart_disease(download_if_missing=False, return_X_y_domains=True)
    return make_site_shift(n_sites=4, n_samples=300, covariate_shift=2.0, random_state=seed)


def score(problem, method, seed, epochs, device):
    """The method's score on the problem (None where it does not apply), and the seconds."""
    start = time.perf_counter()
    make = METHODS[method]
    kw = dict(max_epochs=epochs, random_state=seed, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SagNet's dropped-rows warning
        if problem in DG:
            X, y, domains = dg_data(problem, seed)
            scores = []
            for held_out in np.unique(domains):
                train = domains != held_out
                model = make_pipeline(SimpleImputer(), StandardScaler(), make(**kw))
                model.fit(X[train], y[train], **{
                    f"{model.steps[-1][0]}__domains": domains[train]})
                if DG[problem] == "heart":
                    scores.append(roc_auc_score(y[~train], model.predict_proba(X[~train])[:, 1]))
                else:
                    scores.append(model.score(X[~train], y[~train]))
            value = float(np.mean(scores))
        elif method == "CCSA":
            value = None  # one labeled domain: nothing to align
        else:
            X, y, domains, target = uda_data(problem, seed)
            model = make(**kw).fit(X, np.where(target, -1, y), domains=domains)
            value = float(model.score(X[target], y[target]))
    return dict(problem=problem, method=method, seed=seed, score=value,
                seconds=time.perf_counter() - start)


def _problems(args):
    return [p for p in PROBLEMS if not args.only or any(o in p for o in args.only.split(","))]


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(problem, method, seed, args.epochs, args.device)
            for problem in _problems(args) for method in METHODS for seed in seeds]
    return parallel_records(score, jobs, args)


def _scores(records, problem, method):
    return [r["score"] for r in records if r["problem"] == problem and r["method"] == method
            and r["score"] is not None]


PROTOCOL = """\
## Protocol

1. **Starting points** (looked up, not tuned here): DomainBed's defaults and
   search spaces (Adam, lr 1e-3 on small images, ``beta1 = 0.5`` for the
   adversarial algorithms, DANN ``lambda = 1``, a budget of 5000 steps);
   the DANN paper's schedules (the reversal ramp ``2 / (1 + exp(-10 p)) - 1``
   and the learning rate ``mu0 / (1 + 10 p) ** 0.75``, ``mu0 = 0.01``, with
   SGD); CCSA's official code (``alpha = 0.25``, ``margin = 1`` on raw
   features, a LeNet-like network for the 16x16 digits).
2. **Development suite**: the problems of the table below, with seeds from
   100 (the reported benchmarks use seeds 0-4). MNIST/USPS, the four Amazon
   pairs marked in ``amazon.md`` and the hospitals are in it, as issue 11
   asks; held out from every choice: wine, the other eight Amazon pairs,
   the shifted and coloured digits, and the skada comparison.
3. **One knob at a time**, in the order below; each candidate is scored by
   the mean target accuracy over the development problems it was run on,
   DANN against ERM at ERM's own best setting of the same knob. Where two
   candidates are within noise, the cheaper or simpler one wins. The sweeps
   (tables after this list) ran during development on 1-3 seeds; their
   logs are ``defaults_sweep.csv``, re-run with ``defaults_sweep.py``.
4. **Decisions**:

   - *Training length, in optimizer steps* (``max_epochs="auto"``: about
     2000 steps). Epochs under-trained small tables (20 epochs of 300 rows
     are 60 steps) and made budgets differ between methods that do and do
     not train on the unlabeled rows. DANN on moons gained from 500-1000 to
     2000-3000 steps (sweeps S1, S2), Amazon lost about a point past 1000
     steps, images were good at 2000 (S5). 3000 would add a few points on
     the largest moons for 50% more time on images: 2000.
   - *Adam with beta1 = 0.5 for every method*: DANN gained 1-5 points over
     0.9 at the rates that work (S1); ERM did not change.
   - *DANN: lr 1e-2, annealed by the paper's schedule* (S2, S5): the best
     DANN on moons and on both MNIST/USPS directions; on Amazon about a
     point below a constant 1e-3 run short.
   - *lambda_ = 1* (S1, S2): 0.3 adapted too little on moons.
   - *ERM, CCSA, SagNet keep lr 1e-3 constant*: ERM's best on moons and
     images (S2, S5), and ``ERM (DANN's lr)`` in the table shows that
     DANN's schedule does not make ERM better.
   - *Image backbone* (S4): per-image standardization and a dense head
     after two conv-pool blocks. The former default (three conv blocks and
     global average pooling) labeled most USPS images as one class after
     MNIST training (27% accuracy, 1-NN on pixels gets 64%).
   - *CCSA compares unit-length features* (S6): with raw features it fell
     10 points below ERM one-shot; normalised, it gained 1-2 points.
   - *Heart disease* (S7): a small network with weight decay matches
     logistic regression; the default stays (it would cost the other
     problems), and ``clinical_loso.md`` reports the small variant.
   - *SagNet's cut in the default ConvNet* (S8, 1 seed, run after the
     confirmation table below): cut after the first conv block (the former
     default, the official code's mid-network cut) SagNet lost 26 and 7
     points to ERM on MNIST→USPS and USPS→MNIST; the later cuts lost less
     (see the table). The default is now the cut right after the input
     standardization, where the style is the colour balance of each image:
     on grey images that is ERM's training exactly (nothing to mix, no
     weights for the adversary; not run in S8 for that reason). Between it
     and the cut after the whole backbone, which also tied with ERM here,
     the unit test on ``make_colored_digits`` decided (0.96 of predictions
     unchanged under random recolouring, against 0.81 and ERM's 0.78), so
     coloured digits are no longer held out for SagNet. The SagNet image
     rows of the confirmation table are the former cut's; ``mnist_usps.md``
     measures the new one.
"""


def sweep_tables(path=None):
    """The development sweeps' logs as one table per sweep: mean score per setting."""
    path = path or os.path.join(RESULTS, "defaults_sweep.csv")
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    parts = []
    for sweep, title in SWEEPS.items():
        cells = [r for r in rows if r["sweep"] == sweep]
        problems = list(dict.fromkeys(r["problem"] for r in cells))
        settings = list(dict.fromkeys((r["method"], r["variant"], r["steps"]) for r in cells))
        table = []
        for method, variant, steps in settings:
            line = [method, variant, steps]
            for problem in problems:
                values = [float(r["score"]) for r in cells if r["problem"] == problem
                          and (r["method"], r["variant"], r["steps"]) == (method, variant, steps)]
                line.append(f"{np.mean(values):.3f}" if values else "")
            table.append(line)
        n_seeds = len({r["seed"] for r in cells})
        parts += ["", f"### {sweep}: {title} ({n_seeds} seed(s))", "",
                  markdown_table(["method", "setting", "steps", *problems], table)]
    return parts


SWEEPS = {
    "S1": "optimizer momentum, learning rate, steps and lambda_ on moons",
    "S2": "learning-rate schedule, steps and lambda_ on moons and Amazon",
    "S3": "weight decay, learning rate and steps on Amazon",
    "S4": "image backbone on MNIST/USPS",
    "S5": "learning-rate schedule on the chosen backbone, MNIST/USPS",
    "S6": "CCSA's distances, MNIST to USPS with 1 or 5 labeled USPS images per class",
    "S7": "network size and weight decay on the hospitals (ROC AUC per held-out hospital)",
    "S8": "where SagNet cuts the default ConvNet, MNIST/USPS",
}


def targets(records, problems):
    """Issue 11's targets, checked on the records: [target, measured, met]."""
    gain = {}
    for problem in problems:
        erm = np.mean(_scores(records, problem, "ERM"))
        for method in METHODS:
            values = _scores(records, problem, method)
            if values:
                gain[problem, method] = 100 * (np.mean(values) - erm)
    rows = []
    for problem in problems:
        if problem in MOONS or problem in DIGITS:
            g = gain.get((problem, "DANN"))
            if g is not None:
                rows.append([f"DANN beats ERM by >= 5 points on {problem}", f"{g:+.1f}",
                             "yes" if g >= 5 else "no"])
    for method in METHODS:
        if method.startswith("ERM"):
            continue
        values = [g for (p, m), g in gain.items() if m == method]
        if values:
            mean = np.mean(values)
            rows.append([f"{method} loses at most 1 point to ERM on average", f"{mean:+.1f}",
                         "yes" if mean >= -1 else "no"])
    return rows


def report(records, args, seconds):
    methods = list(METHODS)
    problems = _problems(args)
    rows, gains = [], {m: [] for m in methods}
    for problem in problems:
        erm = np.mean(_scores(records, problem, "ERM"))
        row = [problem]
        for method in methods:
            values = _scores(records, problem, method)
            row.append(mean_sd(values) if values else "n/a")
            if values:
                gains[method].append(np.mean(values) - erm)
        rows.append(row)
    rows.append(["**mean gain over ERM** (points, problems where the method runs)"] + [
        f"{100 * np.mean(gains[m]):+.1f} ({len(gains[m])})" for m in methods])
    rows.append(["**problems where it beats ERM**"] + [
        f"{sum(g > 0 for g in gains[m])} of {len(gains[m])}" for m in methods])
    seeds = f"{args.first_seed}..{args.first_seed + args.seeds - 1}"
    return "\n".join([
        "# Defaults on the development suite",
        "",
        f"`python benchmarks/defaults.py --seeds {args.seeds} --first-seed {args.first_seed}`; "
        "see the script's docstring. How every default of skda's estimators was chosen, and "
        "what each estimator with its defaults does against ERM with its defaults.",
        "",
        PROTOCOL,
        "## Confirmation: every estimator with its defaults",
        "",
        f"Mean ± sd over seeds {seeds}: target accuracy (UDA), mean held-out accuracy or AUC "
        "over the held-out domains (LODO).",
        "",
        run_stamp(args, seconds),
        "",
        markdown_table(["problem", *methods], rows),
        "",
        "## Issue 11's targets on this suite",
        "",
        markdown_table(["target", "measured (points)", "met"], targets(records, problems)),
        "",
        "## Development sweeps",
        "",
        "Mean score (target accuracy; AUC for the hospitals) per setting; see the protocol "
        "for what each decided. S1 ran before the image backbone and the step budget "
        "changed (moons are unaffected by the former), S4-S6 on one or two seeds.",
        *sweep_tables(),
        "",
    ])


def plot(records, path):
    groups = {}
    for r in records:
        if r["score"] is not None:
            groups.setdefault(r["problem"], {}).setdefault(r["method"], []).append(r["score"])
    bar_chart(groups, path, "score with the defaults")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=3, epochs="auto", first_seed=100,
                              only=True)
    run_and_save("defaults", run, report, args, plot=plot)
