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

import time
import warnings

import numpy as np
from _common import (
    accuracy_arguments,
    bar_chart,
    machine_stamp,
    markdown_table,
    mean_sd,
    parallel_records,
    run_and_save,
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
    "DANN": lambda **kw: DANNClassifier(**kw),
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


def score(problem, method, seed, device):
    """The method's score on the problem (None where it does not apply), and the seconds."""
    start = time.perf_counter()
    make = METHODS[method]
    kw = dict(random_state=seed, device=device)
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


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(problem, method, seed, args.device)
            for problem in PROBLEMS for method in METHODS for seed in seeds]
    return parallel_records(score, jobs, args)


def _scores(records, problem, method):
    return [r["score"] for r in records if r["problem"] == problem and r["method"] == method
            and r["score"] is not None]


def report(records, args, seconds):
    methods = list(METHODS)
    rows, gains = [], {m: [] for m in methods}
    for problem in PROBLEMS:
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
        "see the script's docstring. Every estimator with its defaults; mean ± sd over seeds "
        f"{seeds}: target accuracy (UDA), mean held-out accuracy or AUC over the held-out "
        "domains (LODO).",
        "",
        machine_stamp(args.device) + f" {args.jobs} process(es) of {args.threads} torch "
        f"thread(s). Total {seconds / 60:.1f} min.",
        "",
        markdown_table(["problem", *methods], rows),
        "",
    ])


def plot(records, path):
    groups = {}
    for r in records:
        if r["score"] is not None:
            groups.setdefault(r["problem"], {}).setdefault(r["method"], []).append(r["score"])
    bar_chart(groups, path, "score with the defaults")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=3, epochs="auto", first_seed=100)
    run_and_save("defaults", run, report, args, plot=plot)
