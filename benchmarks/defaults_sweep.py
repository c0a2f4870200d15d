"""The development sweeps that chose skda's defaults (the protocol in ``results/defaults.md``).

``python benchmarks/defaults_sweep.py [--sweeps S1,S2,...] [--jobs 2 --threads 1]
[--out results/]`` (set ``SKDA_DATA``). Writes ``<out>/defaults_sweep.csv``, one row per
fit: sweep, problem, method, setting, steps, seed, score (the rows of the sweeps not run
are kept). ``defaults.py`` renders it.

Each sweep varies one group of settings over a few development problems
(``defaults.py`` defines them), with seeds from 100; everything not varied
is the estimators' default. The saved ``results/defaults_sweep.csv`` holds
the development runs that made the decisions, on the code of their day: S1
ran before the step budget and the image backbone changed (moons do not use
the latter), S4 compares backbones that are written out below because the
library no longer ships them. Re-running gives today's code's numbers.
Costs on 2 CPU cores: S1 10 min, S2 20 min, S3 25 min, S4 20 min, S5 15 min,
S6 15 min, S7 10 min.

- S1: Adam's beta1 (0.9, 0.5), constant lr (1e-3, 3e-3, 1e-2), steps (500, 2000),
  DANN lambda_ (0.3, 1) on the three moons.
- S2: lr schedule (constant 1e-3 or 3e-3, annealed from 3e-3 or 1e-2), steps
  (1000, 3000), lambda_ (0.3, 1) on two moons and three Amazon pairs.
- S3: weight decay (0, 1e-3, 1e-2), lr (1e-3, 3e-3), steps (500, 3000) on four
  Amazon pairs.
- S4: the image backbone on MNIST/USPS (1 seed).
- S5: lr schedule on the chosen backbone, MNIST/USPS (1 seed).
- S6: CCSA's distances on MNIST to USPS with 1 or 5 labeled USPS images a class.
- S7: network size and weight decay on the hospitals (ROC AUC per held-out one).
- S8: where SagNet cuts the default ConvNet, on MNIST/USPS (1 seed).
"""

import argparse
import csv
import itertools
import os
import warnings

import numpy as np
from _common import RESULTS, at_fixed_strength, parallel_records
from defaults import AMAZON, MOONS, uda_data
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier
from skda.datasets import fetch_heart_disease, fetch_mnist_usps
from skda.engine import LearningRateAnnealing
from skda.modules import ConvNet, GlobalAvgPool, ImageStandardization

ESTIMATORS = {"ERM": ERMClassifier, "DANN": DANNClassifier, "CCSA": CCSAClassifier,
              "SagNet": SagNetClassifier}


class GlobalPoolConvNet(nn.Sequential):
    """skda's former image default: three conv-BN-ReLU blocks (stride 2 after the first),
    global average pooling; optionally GroupNorm and a per-image standardization."""

    def __init__(self, input_shape, channels=(32, 64, 64), norm="bn", standardize=False):
        layers = [ImageStandardization()] if standardize else []
        in_channels, size = input_shape[0], min(input_shape[1:])
        for k, out in enumerate(channels):
            stride = 2 if k > 0 and size >= 8 else 1
            layers.append(nn.Sequential(
                nn.Conv2d(in_channels, out, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(out) if norm == "bn" else nn.GroupNorm(8, out), nn.ReLU()))
            in_channels, size = out, -(-size // stride)
        super().__init__(*layers, GlobalAvgPool())


class LeNet(nn.Sequential):
    """CCSA's embedding for 16x16 digits: two 3x3 convs, max pooling, dense 120 and 84."""

    def __init__(self, input_shape, standardize=False):
        c, h, w = input_shape
        layers = [ImageStandardization()] if standardize else []
        super().__init__(*layers, nn.Conv2d(c, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                         nn.Linear(32 * ((h - 4) // 2) * ((w - 4) // 2), 120), nn.ReLU(),
                         nn.Linear(120, 84), nn.ReLU())


BACKBONES = {
    "global-pool ConvNet (bn)": dict(module=GlobalPoolConvNet),
    "global-pool ConvNet (bn), per-image standardization": dict(
        module=GlobalPoolConvNet, module__standardize=True),
    "global-pool ConvNet (gn)": dict(module=GlobalPoolConvNet, module__norm="gn"),
    "LeNet (CCSA's)": dict(module=LeNet),
    "LeNet (CCSA's), per-image standardization": dict(module=LeNet, module__standardize=True),
    "conv-pool + dense head no BN, per-image standardization": "no-bn",
    "conv-pool + dense head with BN, per-image standardization": dict(module=ConvNet),
    "conv-pool + dense head with BN": dict(module=ConvNet, module__standardize=False),
}


def _steps_to_epochs(estimator, X, y, steps, batch_size=128):
    rows = len(X) if estimator._uses_unlabeled else int(np.sum(np.asarray(y) != -1))
    return max(1, round(steps / -(-rows // batch_size)))


def uda(sweep, problem, method, setting, params, steps, seed):
    """One UDA fit; ``params`` may hold ``anneal`` (DANN's lr schedule) and ``no-bn``."""
    X, y, domains, target = uda_data(problem, seed)
    y_train = np.where(target, -1, y)
    params = dict(params)
    anneal = params.pop("anneal", False)
    if method == "DANN":
        params["lr_annealing"] = anneal
    elif anneal:
        params["callbacks"] = [("lr_annealing", LearningRateAnnealing())]
    Estimator = ESTIMATORS[method]
    params["max_epochs"] = _steps_to_epochs(Estimator, X, y_train, steps)
    model = Estimator(random_state=seed, device="cpu", **at_fixed_strength(Estimator, params))
    model.fit(X, y_train, domains=domains)
    return dict(sweep=sweep, problem=problem, method=method, variant=setting, steps=steps,
                seed=seed, score=round(float(model.score(X[target], y[target])), 4))


def fewshot(sweep, shots, method, setting, params, seed, steps=1500):
    X, y, domains = fetch_mnist_usps(images=True, download_if_missing=False,
                                     return_X_y_domains=True)
    rng = np.random.RandomState(seed)
    usps = np.flatnonzero(domains == "usps")
    labeled = np.concatenate([rng.choice(usps[y[usps] == c], shots, replace=False)
                              for c in range(10)])
    train = np.union1d(np.flatnonzero(domains == "mnist"), labeled)
    test = np.setdiff1d(usps, labeled)
    Estimator = ESTIMATORS[method]
    model = Estimator(max_epochs=_steps_to_epochs(Estimator, X[train], y[train], steps),
                      random_state=seed, device="cpu", **at_fixed_strength(Estimator, params))
    model.fit(X[train], y[train], domains=domains[train])
    return dict(sweep=sweep, problem=f"MNIST→USPS, {shots} per class", method=method,
                variant=setting, steps=steps, seed=seed,
                score=round(float(model.score(X[test], y[test])), 4))


def heart(sweep, method, setting, params, seed, held_out):
    X, y, sites = fetch_heart_disease(download_if_missing=False, return_X_y_domains=True)
    train = sites != held_out
    if method == "LR":
        model = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(),
                              LogisticRegression(max_iter=1000))
        model.fit(X[train], y[train])
    else:
        model = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(),
                              ESTIMATORS[method](
                                  random_state=seed, device="cpu",
                                  **at_fixed_strength(ESTIMATORS[method], params)))
        model.fit(X[train], y[train], **{f"{model.steps[-1][0]}__domains": sites[train]})
    auc = roc_auc_score(y[~train], model.predict_proba(X[~train])[:, 1])
    return dict(sweep=sweep, problem=f"heart, held-out {held_out}", method=method,
                variant=setting, steps=2000, seed=seed, score=round(float(auc), 4))


def lam(value):
    return f", lambda_={value:g}"


def jobs(sweep):
    seeds3, seeds5 = range(100, 103), range(100, 105)
    if sweep == "S1":
        for problem, steps, lr, beta1, seed in itertools.product(
                MOONS, [500, 2000], [1e-3, 3e-3, 1e-2], [0.9, 0.5], seeds5):
            base = dict(lr=lr, optimizer__betas=(beta1, 0.999))
            setting = f"Adam beta1={beta1:g}, lr={lr:g} constant"
            yield uda, (sweep, problem, "ERM", setting, base, steps, seed)
            for lam_ in (0.3, 1.0):
                yield uda, (sweep, problem, "DANN", setting + lam(lam_),
                            dict(base, lambda_=lam_), steps, seed)
    elif sweep == "S2":
        schedules = [("lr=0.001 constant", 1e-3, False), ("lr=0.003 constant", 3e-3, False),
                     ("lr=0.01 annealed", 1e-2, True), ("lr=0.003 annealed", 3e-3, True)]
        problems = ["moons 150/0.05", "moons 600/0.08", "Amazon B→K", "Amazon D→E",
                    "Amazon K→B"]
        for problem, (name, lr, anneal), steps, seed in itertools.product(
                problems, schedules, [1000, 3000], seeds3):
            setting = "Adam beta1=0.5, " + name
            base = dict(lr=lr, anneal=anneal)
            yield uda, (sweep, problem, "ERM", setting, base, steps, seed)
            for lam_ in (0.3, 1.0):
                yield uda, (sweep, problem, "DANN", setting + lam(lam_),
                            dict(base, lambda_=lam_), steps, seed)
    elif sweep == "S3":
        for problem, lr, decay, steps, seed in itertools.product(
                AMAZON, [1e-3, 3e-3], [0, 1e-3, 1e-2], [500, 3000], seeds3):
            setting = f"lr={lr:g} constant, weight_decay={decay:g}"
            base = dict(lr=lr, optimizer__weight_decay=decay)
            yield uda, (sweep, problem, "ERM", setting, base, steps, seed)
            yield uda, (sweep, problem, "DANN", setting + ", lambda_=1", base, steps, seed)
    elif sweep == "S4":
        for problem, (name, backbone) in itertools.product(
                ["MNIST→USPS", "USPS→MNIST"], BACKBONES.items()):
            if backbone == "no-bn":
                continue  # ConvNet always has batch norm now; see the saved log
            base = dict(backbone, lr=1e-3)
            yield uda, (sweep, problem, "ERM", name, base, 1280, 101)
            yield uda, (sweep, problem, "DANN", name, dict(base, lambda_=1.0), 1200, 101)
    elif sweep == "S5":
        for problem, (name, lr, anneal) in itertools.product(
                ["MNIST→USPS", "USPS→MNIST"],
                [("lr=0.001 constant", 1e-3, False), ("lr=0.003 constant", 3e-3, False),
                 ("lr=0.01 annealed", 1e-2, True)]):
            base = dict(lr=lr, anneal=anneal)
            yield uda, (sweep, problem, "ERM", name, base, 2000, 102)
            yield uda, (sweep, problem, "DANN", name + ", lambda_=1", base, 2000, 102)
    elif sweep == "S6":
        for shots, seed in itertools.product((1, 5), (100, 101)):
            yield fewshot, (sweep, shots, "ERM", "ERM", {}, seed)
            yield fewshot, (sweep, shots, "CCSA", "CCSA, unit-length features, alpha=0.25",
                            {}, seed)
            for alpha in (0.25, 0.05):
                yield fewshot, (sweep, shots, "CCSA", f"CCSA, raw features, alpha={alpha:g}",
                                dict(normalize_features=False, alpha=alpha), seed)
    elif sweep == "S8":
        # (no-adversary and alpha=0.1 runs at the former cut were stopped unfinished)
        variants = {"cut after the first conv block (the former default)":
                    dict(randomization_stage=2),
                    "cut before the dense head": dict(randomization_stage=-1),
                    "cut after the whole backbone (DomainBed's)": dict(randomization_stage=4)}
        for problem in ["MNIST→USPS", "USPS→MNIST"]:
            yield uda, (sweep, problem, "ERM", "ERM", {}, 2000, 103)
            for name, params in variants.items():
                yield uda, (sweep, problem, "SagNet", name, params, 2000, 103)
    elif sweep == "S7":
        sites = ["cleveland", "hungarian", "switzerland", "va"]
        for held_out in sites:
            yield heart, (sweep, "LR", "logistic regression", {}, 100, held_out)
        for seed, held_out, hidden, decay in itertools.product(
                (100, 101), sites, [(32,), ()], [0, 1e-2]):
            setting = f"hidden_layer_sizes={hidden}, weight_decay={decay:g}"
            params = dict(hidden_layer_sizes=hidden, optimizer__weight_decay=decay)
            for method in ("ERM", "DANN"):
                yield heart, (sweep, method, setting, params, seed, held_out)


def _call(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", default="S1,S2,S3,S4,S5,S6,S7")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=RESULTS,
                        help="folder of the output file (default: results/)")
    args = parser.parse_args()
    sweeps = args.sweeps.split(",")
    work = [(fn, *call) for sweep in sweeps for fn, call in jobs(sweep)]
    rows = parallel_records(_call, work, args)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "defaults_sweep.csv")
    kept = []
    if os.path.exists(path):  # the other sweeps' rows stay
        with open(path, newline="") as f:
            kept = [r for r in csv.DictReader(f) if r["sweep"] not in sweeps]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept + rows)


if __name__ == "__main__":
    main()
