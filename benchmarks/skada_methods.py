"""skda's Deep CORAL, MMD, CDAN and MCC beside skada 0.6.0's DeepCoral, DAN, CDAN and MCC.

``python benchmarks/skada_methods.py [--seeds 5] [--epochs 20] [--threads 1] [--quick]
[--tasks books->kitchen,dvd->electronics,kitchen->books] [--out DIR]`` (``--epochs``:
skda epochs, default 20; ``--quick``: one Amazon pair, 300 rows per domain, 2 epochs;
``--tasks``: comma-separated, any of the 12 Amazon pairs, default the three of
``skada_side_by_side.py``).

skada is not, and must never become, a dependency of skda: run this script from the
separate virtual environment that ``skada_side_by_side.py``'s docstring sets up (torch
pinned first, then skada 0.6.0, skorch and skda editable), with ``SKDA_DATA`` set::

    SKDA_DATA=/path/to/shared/data python benchmarks/skada_methods.py --threads 1

Data (``fetch_amazon_reviews(download_if_missing=False)``, read by
``skada_side_by_side.load``): pairs of the four Amazon review domains (400 features,
about 2000 rows a domain, 2 classes), standardized on the source and target rows
together, as ``defaults.py`` does and as the estimators' docs ask; ``--raw`` keeps the
raw features (each row sums to 1) of ``skda_side_by_side.py``, on which skda's MMD,
whose bandwidths follow the features' scale, stays at chance at ``lambda_=1``: its
gradient grows as the features shrink, and these features start tiny. Transductive
unsupervised DA: every source row labeled, every target row unlabeled in training; the
score is accuracy on all target rows.

The protocol is ``skada_side_by_side.py``'s, whose helpers this script imports. Per task
and seed, every program gets the same backbone (``skda.modules.MLP`` 400-100 ReLU, the
class and width skda builds by default), built once under ``torch.manual_seed(seed)``
and copied into each fit (same initial backbone weights), and the same optimizer (Adam),
constant learning rate (1e-3), batch and number of optimizer steps. The label heads
(and CDAN's discriminators) are each library's own, freshly initialised: their initial
weights differ between the libraries. Programs:

- ``skda ERMClassifier``: source rows only, the reference. ERM drops unlabeled rows,
  so it gets ``batch_size // 2`` source rows a step (what every method's label loss
  sees) and is stopped after the same number of steps as the others;
- per method, ``skda <Estimator>`` (``module=`` the backbone) and ``skada <Method>``
  (``module=`` the backbone and a linear head in one module, features read at the
  backbone's output, ``layer_name="features"``).

Strengths: skda's defaults, read from each estimator's ``get_params()`` (``lambda_`` 1,
MMD ``kernel="adaptive"``, MCC ``temperature`` 1, CDAN ``lambda_warmup=True`` and
``discriminator_hidden_layer_sizes=(100,)``, no entropy conditioning), translated into
skada's ``reg`` below. skda's own training defaults are not used where they would make
the budgets differ: CDANClassifier's lr of 1e-2 with ``lr_annealing`` becomes the shared
constant 1e-3 (skada has no schedule), and ``max_epochs="auto"`` becomes ``--epochs``.

Matching the steps (as ``skada_side_by_side.py``): skda's ``batch_size`` (128) is the
whole batch, split evenly across the domains, and an epoch is ``ceil(n_rows / 128)``
steps; ``steps = epochs * ceil(n_rows / 128)``. skada's ``batch_size`` is per domain
(``DomainBalancedDataLoader``), so skada gets 64; its epoch is ``max(n_source // 64,
n_target // 64)`` steps, its ``max_epochs`` is ``ceil(steps / that)`` and a callback ends
the last epoch after exactly ``steps`` steps. Every fit is checked to take ``steps``.

Matching the losses (skda: ``label CE + lambda_ * penalty``; skada: ``CE on the source
rows + reg * adapt_criterion``; both label losses are the mean cross-entropy over the
64 source rows of a batch, and every penalty below is computed on the 64 + 64 rows of
a batch in both libraries):

- **Deep CORAL** (skda ``DeepCORALClassifier`` / skada ``DeepCoral``). skda's penalty is
  ``mean((m_s - m_t)**2) + mean((C_s - C_t)**2)`` (means over the ``d`` features and
  the ``d**2`` entries; unbiased covariances; DomainBed's CORAL); skada's
  ``deepcoral_loss`` is ``sum((C_s - C_t)**2) / (4 d**2)`` (the paper's; unbiased
  ``torch.cov``), a quarter of skda's covariance term. So ``reg = 4 * lambda_ = 4``:
  the covariance terms weigh the same. Remaining difference: skda's mean term, which
  skada lacks (skada aligns no shift of the domains' means).
- **MMD** (skda ``MMDClassifier`` / skada ``DAN``). skda: biased MMD^2 of a sum of 5
  Gaussian kernels ``exp(-||a - b||**2 / (s w))``, ``s = 2**-2 .. 2**2``, ``w`` the
  batch's mean squared distance (source and target rows together, not differentiated).
  skada (``dan_loss``, default ``sigmas=None``): biased MMD^2 of a sum of 33 kernels
  ``exp(-||a - b|| / sigma)`` on the *unsquared* distance (Laplacian kernels),
  ``sigma = 2**(-8 + i / 2) * median``, ``i = 0..32``, the median of the source rows'
  pairwise distances (zero diagonal included, differentiated through the median).
  The kernels cannot be made the same from skada's arguments (``sigmas`` are fixed
  numbers, and the distance stays unsquared), so skada keeps its own and gets
  ``reg = lambda_ = 1``: both penalties sum their kernels (DAN's trade-off 1), and the
  summed sensitivity ``sum_k |dk/d log r|`` at the typical distance is about the same,
  2.9 for skada's 33 kernels (spread over 2**-8..2**8, most of them flat there) and 2.4
  for skda's 5, where dividing by the kernel counts (``reg = 5 / 33``) would make
  skada's about 5 times weaker. Remaining difference: the kernel family and the
  bandwidth rule.
- **CDAN** (skda ``CDANClassifier`` / skada ``CDAN``). skda: a 2-way discriminator (MLP
  200-100-2, cross-entropy, its mean over the batch, weight 1) on the multilinear map
  of the features (behind gradient reversal) and the *detached softmax* predictions;
  the reversal coefficient is ramped by Ganin's schedule. skada: ``reg * (BCE_source +
  BCE_target)``, a sum of two means, twice skda's mean, so ``reg = 0.5``. skada's
  default ``DomainClassifier`` ends in ``Linear(100, 1)`` + Softmax, identically 1 (no
  gradient: source-only training, see ``skada_side_by_side.py``), so skada gets the
  working discriminator of that script (:class:`SigmoidDiscriminator`: reversal, MLP
  200-100-1, sigmoid), whose reversal coefficient follows skda's schedule (set before
  each step). Both maps are 100 x 2 = 200 wide (below both libraries' 4096, not
  randomized). Remaining difference: skada's map multiplies the features by the raw
  *logits*, not detached, behind the reversal, so the reversed gradient also reaches
  the label head and the backbone through the predictions; skda's does not.
- **MCC** (skda ``MCCClassifier`` / skada ``MCC``). The same loss in both: softmax at a
  temperature, certainty weights ``1 + exp(-H)`` normalised to mean 1, ``C = P^T diag(w)
  P`` with rows normalised, off-diagonal sum over ``n_classes``, on the target rows.
  Both default to a temperature of 1 (``T = temperature``), and ``reg = lambda_ =
  1``. Remaining difference: skada differentiates through the certainty weights (skda
  detaches them, as the paper's code) and adds 1e-7 inside the log.

Timing: wall time of the whole fit (data conversion included; prediction excluded) with
``torch.set_num_threads(--threads)``, divided by the number of optimizer steps. Before
each task, one untimed epoch of every program on a batch's worth of rows (one-time
costs). Output: ``<out>/skada_methods.{md,json,csv}`` (``--out`` default
``benchmarks/results``).

Cost: 9 programs x 5 seeds x 3 pairs x 20 epochs (640 steps a fit, 86,400 steps in
all). Measured on a 2-core machine at one thread: 5-10 ms a step on average over the 9
programs (the lower when the core is idle, the higher when other work shares the two
cores; skda's ERM about 3, skada's DAN about 23 at the higher end), so 8-15 min for the
whole run. Not in the suite runner (``python -m benchmarks``): it needs the separate venv.
"""

import argparse
import copy
import json
import math
import numbers
import sys
import time

import numpy as np
import torch
from _common import (
    FIXED_STRENGTH,
    accuracy_arguments,
    machine_stamp,
    markdown_table,
    mean_sd,
    run_and_save,
)
from skada_side_by_side import (
    AMAZON,
    QUICK,
    FeaturesAndHead,
    SigmoidDiscriminator,
    _sync,
    build_backbone,
    coefficient,
    heads_seed,
    import_skada,
    load,
    skda_steps_per_epoch,
    warm_up,
)
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback
from torch import nn

from skda import CDANClassifier, DeepCORALClassifier, ERMClassifier, MCCClassifier, MMDClassifier

DOMAINS = ("books", "dvd", "electronics", "kitchen")
#: every Amazon pair, with skada_side_by_side's Amazon settings (backbone, Adam, lr 1e-3,
#: batch 128); the epochs are DEFAULT_EPOCHS unless --epochs
TASKS = {f"{s}->{t}": dict(AMAZON, source=s, target=t)
         for s in DOMAINS for t in DOMAINS if s != t}
DEFAULT_TASKS = ["books->kitchen", "dvd->electronics", "kitchen->books"]
#: skda epochs, as skda_side_by_side's: 20 x 32 = 640 steps on a full pair; the full run
#: (5 seeds, 3 pairs, 9 programs) takes 8-15 minutes on one thread (see the docstring)
DEFAULT_EPOCHS = 20

CORAL = DeepCORALClassifier(**FIXED_STRENGTH).get_params()
MMD = MMDClassifier(**FIXED_STRENGTH).get_params()
CDAN = CDANClassifier(**FIXED_STRENGTH).get_params()
MCC = MCCClassifier(**FIXED_STRENGTH).get_params()

#: per method: skda's estimator and settings (its defaults), skada's function name and
#: the arguments that match them (see the docstring for each translation)
METHODS = {
    "Deep CORAL": dict(
        skda=DeepCORALClassifier, skda_params={"lambda_": CORAL["lambda_"]},
        skada="DeepCoral", skada_params={"reg": 4 * CORAL["lambda_"]},
        matching="reg = 4 lambda_ (skada's covariance term is skda's / 4); skada has no "
                 "mean term"),
    "MMD": dict(
        skda=MMDClassifier, skda_params={"lambda_": MMD["lambda_"], "kernel": MMD["kernel"]},
        skada="DAN", skada_params={"reg": MMD["lambda_"], "sigmas": None},
        matching="reg = lambda_; kernels differ (skda 5 Gaussian, mean-distance bandwidths; "
                 "skada 33 Laplacian, median-distance bandwidths)"),
    "CDAN": dict(
        skda=CDANClassifier,
        skda_params={"lambda_": CDAN["lambda_"], "lambda_warmup": CDAN["lambda_warmup"],
                     "entropy_conditioning": CDAN["entropy_conditioning"],
                     "discriminator_hidden_layer_sizes":
                         CDAN["discriminator_hidden_layer_sizes"],
                     "lr_annealing": False},
        skada="CDAN", skada_params={"reg": 0.5}, discriminator=True,
        matching="reg = 0.5 (skada sums the source and target BCE means); working sigmoid "
                 "discriminator on skda's reversal schedule; skada's map uses raw logits, "
                 "not detached"),
    "MCC": dict(
        skda=MCCClassifier,
        skda_params={"lambda_": MCC["lambda_"], "temperature": MCC["temperature"]},
        skada="MCC", skada_params={"reg": MCC["lambda_"], "T": MCC["temperature"]},
        matching="reg = lambda_, T = temperature; skada differentiates the certainty "
                 "weights"),
}
ERM = "skda ERMClassifier (source only)"
#: skada neither scales its inputs nor decays weights: skda's tabular defaults are turned
#: off so that both train the same network on the same (pre-standardized) columns
SAME_INPUTS = {"input_scaling": None, "optimizer__weight_decay": 0.0}


def skda_name(method):
    return f"skda {METHODS[method]['skda'].__name__}"


def skada_name(method):
    return f"skada {METHODS[method]['skada']}"


#: the report's rows, in order
PROGRAMS = [ERM, *[name(m) for m in METHODS for name in (skda_name, skada_name)]]


def import_skada_methods():
    """skada's ``DeepCoral``, ``DAN``, ``CDAN``, ``MCC`` and its reversal layer, by name."""
    _, reversal = import_skada()  # a clear exit when skada is missing; version check
    import skada.deep

    return {m["skada"]: getattr(skada.deep, m["skada"]) for m in METHODS.values()}, reversal


class StepBudget(Callback):
    """Counts training steps, ends a fit after exactly ``steps``, sets skada's reversal.

    The fit is stopped mid-epoch (skorch's ``fit`` takes ``KeyboardInterrupt`` for "stop
    training", and so does skda's net) only when ``steps`` is not a whole number of
    epochs of ``steps_per_epoch``. With ``spec``, before each step it sets the
    ``reversal_coeff`` of skada's domain classifier, when there is one with that
    attribute, to skda's schedule (:func:`skada_side_by_side.coefficient`).
    """

    def __init__(self, steps, steps_per_epoch, spec=None):
        self.steps, self.steps_per_epoch, self.spec = steps, steps_per_epoch, spec

    def on_train_begin(self, net, **kwargs):
        self.done = 0

    def on_batch_begin(self, net, training=False, **kwargs):
        disc = getattr(net.module_, "domain_classifier_", None)
        if training and self.spec is not None and hasattr(disc, "reversal_coeff"):
            disc.reversal_coeff = coefficient(self.spec, self.done, self.steps)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.done += 1
            if self.done == self.steps and self.steps % self.steps_per_epoch:
                raise KeyboardInterrupt


def _done(net):
    """Steps the fit took, from the net's own copy of the :class:`StepBudget`."""
    return dict(net.callbacks_)["budget"].done


def _skda_history(clf):
    """The last epoch's ``train_*`` terms of a skda fit (label loss, penalty, ...)."""
    return {k: float(v) for k, v in clf.net_.history[-1].items()
            if k.startswith("train_") and isinstance(v, numbers.Real)
            and not isinstance(v, bool)}


def fit_erm(spec, data, backbone, seed, steps, device):
    """skda's ERM on the source rows, ``batch_size // 2`` a step, ``steps`` steps."""
    X, y, target = data
    half = spec["batch_size"] // 2
    per_epoch = skda_steps_per_epoch(dict(spec, batch_size=half), int((~target).sum()))
    budget = StepBudget(steps, per_epoch)
    clf = ERMClassifier(module=copy.deepcopy(backbone), max_epochs=math.ceil(steps / per_epoch),
                        batch_size=half, lr=spec["lr"], optimizer=spec["optimizer"],
                        device=device, random_state=seed, callbacks=[("budget", budget)],
                        **SAME_INPUTS)
    start = time.perf_counter()
    clf.fit(X[~target], y[~target], domains=np.full(int((~target).sum()), "source"))
    _sync(device)
    seconds = time.perf_counter() - start
    return dict(accuracy=float(clf.score(X[target], y[target])), fit_seconds=seconds,
                steps=_done(clf.net_), batch=f"{half} source", history=_skda_history(clf))


def fit_skda(spec, data, backbone, seed, steps, device, method):
    X, y, target = data
    settings = METHODS[method]
    budget = StepBudget(steps, skda_steps_per_epoch(spec, len(X)))
    clf = settings["skda"](
        module=copy.deepcopy(backbone), **settings["skda_params"], max_epochs=spec["epochs"],
        batch_size=spec["batch_size"], lr=spec["lr"], optimizer=spec["optimizer"],
        device=device, random_state=seed, callbacks=[("budget", budget)], **SAME_INPUTS)
    start = time.perf_counter()
    clf.fit(X, np.where(target, -1, y), domains=np.where(target, "target", "source"))
    _sync(device)
    seconds = time.perf_counter() - start
    half = spec["batch_size"] // 2
    return dict(accuracy=float(clf.score(X[target], y[target])), fit_seconds=seconds,
                steps=_done(clf.net_), batch=f"{spec['batch_size']} ({half} a domain)",
                history=_skda_history(clf))


def fit_skada(spec, data, backbone, seed, steps, device, method):
    functions, reversal = import_skada_methods()
    settings = METHODS[method]
    X, y, target = data
    n_target = int(target.sum())
    per_domain = spec["batch_size"] // 2
    per_epoch = max((len(X) - n_target) // per_domain, n_target // per_domain)
    n_features, n_classes = backbone.n_features_out, len(np.unique(y))
    torch.manual_seed(heads_seed(seed))
    module = FeaturesAndHead(copy.deepcopy(backbone), nn.Linear(n_features, n_classes))
    extra = {}
    if settings.get("discriminator"):  # CDAN: a working discriminator of the 200-wide map
        extra["domain_classifier"] = SigmoidDiscriminator(
            n_features * n_classes, settings["skda_params"]["discriminator_hidden_layer_sizes"],
            reversal)
    lambda_ = settings["skda_params"]["lambda_"]
    schedule = dict(lambda_=lambda_, lambda_warmup=settings["skda_params"].get(
        "lambda_warmup", False))
    budget = StepBudget(steps, per_epoch, spec=schedule)
    net = functions[settings["skada"]](
        module, layer_name="features", **settings["skada_params"], **extra,
        optimizer=spec["optimizer"], lr=spec["lr"], batch_size=per_domain,
        max_epochs=math.ceil(steps / per_epoch),
        train_split=None,  # skorch's default 5-fold validation split is not for DA
        device=device, callbacks=[("budget", budget)], verbose=0)
    sample_domain = np.where(target, -2, 1)  # skada: source >= 0, target < 0
    torch.manual_seed(seed)  # skada's sampler draws from torch's global generator
    start = time.perf_counter()
    net.fit(X, np.where(target, -1, y), sample_domain=sample_domain)
    _sync(device)
    seconds = time.perf_counter() - start
    # predict keeps only rows with sample_domain < 0 (give them, or allow_source=True)
    predicted = net.predict(X[target], sample_domain=sample_domain[target])
    return dict(accuracy=float(np.mean(predicted == y[target])), fit_seconds=seconds,
                steps=_done(net), batch=f"{per_domain} a domain",
                skada_max_epochs=math.ceil(steps / per_epoch), skada_steps_per_epoch=per_epoch)


def programs():
    """``{row name: (method family, fit function, its extra arguments)}``."""
    table = {ERM: ("ERM", fit_erm, {})}
    for method in METHODS:
        table[skda_name(method)] = (method, fit_skda, {"method": method})
        table[skada_name(method)] = (method, fit_skada, {"method": method})
    return table


def run_tasks(args, tasks, rows, epochs, standardize=True):
    import_skada_methods()  # fail before any training when skada is missing
    records = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for name in tasks:
        spec = dict(TASKS[name], epochs=epochs)
        data = load(spec, rows)
        if standardize:  # transductive, as a StandardScaler fitted on both domains
            X = StandardScaler().fit_transform(data[0]).astype(np.float32)
            data = (X, *data[1:])
        n_rows, n_target = len(data[0]), int(data[2].sum())
        steps = spec["epochs"] * skda_steps_per_epoch(spec, n_rows)
        warm_up(spec, data, args.device,
                [(program, kwargs) for _, program, kwargs in programs().values()])
        for seed in seeds:
            torch.manual_seed(seed)
            backbone = build_backbone(spec)  # one initial backbone for every program
            for program, (method, fit, kwargs) in programs().items():
                result = fit(spec, data, backbone, seed, steps, args.device, **kwargs)
                if result["steps"] != steps:
                    raise RuntimeError(f"{program} took {result['steps']} steps, not {steps}")
                settings = METHODS.get(method, {})
                library = program.split()[0]
                records.append(dict(
                    task=name, method=program, family=method, library=library, seed=seed,
                    epochs=spec["epochs"], lr=spec["lr"], optimizer=spec["optimizer"].__name__,
                    n_source=n_rows - n_target, n_target=n_target,
                    threads=torch.get_num_threads(),
                    params=settings.get(f"{library}_params", {}),
                    seconds_per_step=result["fit_seconds"] / steps, **result))
                print(json.dumps(records[-1]), flush=True)
    return records


# -- report ---------------------------------------------------------------------------


def _values(records, task, method, key="accuracy", seed=None):
    return [r[key] for r in records if r["task"] == task and r["method"] == method
            and (seed is None or r["seed"] == seed)]


def _paired(records, task, first, second):
    """Per-seed ``first - second`` accuracy differences on ``task``."""
    a = {r["seed"]: r["accuracy"] for r in records if r["task"] == task and r["method"] == first}
    b = {r["seed"]: r["accuracy"] for r in records if r["task"] == task and r["method"] == second}
    return [a[s] - b[s] for s in sorted(a) if s in b]


def _signed(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():+.3f} ± {values.std():.3f}" if values.size else "—"


def report(records, args, seconds, command=""):
    import skada

    tasks = list(dict.fromkeys(r["task"] for r in records))
    methods = [m for m in PROGRAMS if any(r["method"] == m for r in records)]
    families = [f for f in METHODS if skda_name(f) in methods and skada_name(f) in methods]
    first = {t: next(r for r in records if r["task"] == t) for t in tasks}
    skada_row = {t: next((r for r in records if r["task"] == t and "skada_max_epochs" in r),
                         None) for t in tasks}
    seeds = sorted({r["seed"] for r in records})
    threads = sorted({r["threads"] for r in records})

    accuracy = [[m, *[mean_sd(_values(records, t, m)) for t in tasks],
                 f"{np.mean([np.mean(_values(records, t, m)) for t in tasks]):.3f}"]
                for m in methods]
    diffs = {(f, t): _paired(records, t, skda_name(f), skada_name(f))
             for f in families for t in tasks}
    behind = [f"{f} on {t} ({np.mean(diffs[f, t]):+.3f})" for f in families for t in tasks
              if np.mean(diffs[f, t]) < 0]
    gains = {(m, t): _paired(records, t, m, ERM) for m in methods if m != ERM for t in tasks}
    below_erm = [f"{m} on {t} ({np.mean(gains[m, t]):+.3f})" for m in methods if m != ERM
                 for t in tasks if np.mean(gains[m, t]) < 0]
    def step_ms(task, method):
        return 1e3 * np.mean(_values(records, task, method, "seconds_per_step"))

    speed = [[m, *[f"{step_ms(t, m):.2f}" for t in tasks]] for m in methods]
    ratios = [[f, *[f"{step_ms(t, skda_name(f)) / step_ms(t, skada_name(f)):.2f}x"
                    for t in tasks]] for f in families]
    parts = [
        "# skda's Deep CORAL, MMD, CDAN and MCC beside skada 0.6.0's DeepCoral, DAN, CDAN "
        "and MCC",
        "",
        f"`{command}`; the protocol and every loss-matching choice are in the script's "
        f"docstring. Seeds {seeds[0]}..{seeds[-1]}; mean ± sd (population sd over seeds).",
        "",
        "Protocol: Amazon reviews (400 features, "
        + ("standardized on source and target rows together; " if args.standardize else
           "the raw features, each row summing to 1, not standardized; ")
        + "2 classes), transductive unsupervised DA "
        "(source rows labeled, target rows unlabeled in training), score = accuracy on all "
        "target rows. Every program: the same backbone (skda's default MLP 400-100 ReLU, "
        "the same initial weights per seed), Adam at a constant lr, 64 source + 64 target "
        "rows a step (ERM: 64 source rows), the same number of optimizer steps. Method "
        "strengths are skda's defaults; skada's `reg` is set so that both libraries weigh "
        "the same objective where their losses allow (table below). Label heads and "
        "discriminators are each library's own, initialised differently.",
        "",
        machine_stamp(args.device) + f" skada {skada.__version__}; torch threads "
        f"{', '.join(map(str, threads))}. Total {seconds / 60:.1f} min.",
        "",
        "## Settings per task",
        "",
        markdown_table(
            ["task", "rows source / target", "optimizer, lr", "skda epochs x steps = steps",
             "skada max_epochs x steps"],
            [[t, f"{first[t]['n_source']} / {first[t]['n_target']}",
              f"{first[t]['optimizer']} {first[t]['lr']:g}",
              f"{first[t]['epochs']} x {first[t]['steps'] // first[t]['epochs']} = "
              f"{first[t]['steps']}",
              "—" if skada_row[t] is None else
              f"{skada_row[t]['skada_max_epochs']} x {skada_row[t]['skada_steps_per_epoch']} "
              f"(stopped at {first[t]['steps']})"]
             for t in tasks]),
        "",
        "## Settings per method",
        "",
        markdown_table(
            ["method", "skda", "skada", "matching / remaining difference"],
            [[f, f"{METHODS[f]['skda'].__name__}({_kwargs(METHODS[f]['skda_params'])})",
              f"{METHODS[f]['skada']}({_kwargs(METHODS[f]['skada_params'])}"
              + (", domain_classifier=SigmoidDiscriminator" if METHODS[f].get("discriminator")
                 else "") + ")",
              METHODS[f]["matching"]] for f in families]),
        "",
        "## Target accuracy",
        "",
        markdown_table(["method", *tasks, "mean over tasks"], accuracy),
        "",
        "## skda − skada, per method (paired by seed)",
        "",
        markdown_table(["method", *tasks],
                       [[f, *[_signed(diffs[f, t]) for t in tasks]] for f in families]),
        "",
        ("skda is behind skada on: " + "; ".join(behind) + "." if behind else
         "skda is not behind skada on any method and task (mean over seeds)."),
        "",
        "## Gain over skda ERM (paired by seed)",
        "",
        markdown_table(["method", *tasks],
                       [[m, *[_signed(gains[m, t]) for t in tasks]]
                        for m in methods if m != ERM]),
        "",
        ("Below ERM: " + "; ".join(below_erm) + "." if below_erm else
         "No method is below ERM on any task (mean over seeds)."),
        "",
        "## Time per optimizer step (ms; whole fit / steps)",
        "",
        "Wall time of each fit over its steps: it includes the per-fit setup (data "
        "conversion; skada's sampler indexes the whole dataset), which weighs on short "
        "fits (``--quick``), and any other load on the machine.",
        "",
        markdown_table(["method", *tasks], speed),
        "",
        "skda's time per step over skada's, same method and task:",
        "",
        markdown_table(["method", *tasks], ratios),
    ]
    return "\n".join(parts) + "\n"


def _kwargs(params):
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def main():
    import_skada_methods()
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--quick", action="store_true")
    extra.add_argument("--tasks", default=",".join(DEFAULT_TASKS))
    extra.add_argument("--raw", action="store_true")
    options, rest = extra.parse_known_args()
    # one torch thread unless --threads says otherwise (argparse keeps the last value)
    sys.argv = [sys.argv[0], "--threads", "1", *rest]
    args = accuracy_arguments(
        __doc__.splitlines()[0] + " Also: --quick (one Amazon pair, 300 rows a domain, "
        f"{QUICK['epochs']} epochs) and --tasks (comma-separated, of {', '.join(TASKS)}; "
        f"default {','.join(DEFAULT_TASKS)}).", seeds=5, epochs=None)
    if args.epochs == "auto":
        raise SystemExit("--epochs takes a number here")
    tasks = QUICK["tasks"] if options.quick else options.tasks.split(",")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; choose from {list(TASKS)}")
    rows = QUICK["rows"] if options.quick else None
    epochs = args.epochs or (QUICK["epochs"] if options.quick else DEFAULT_EPOCHS)
    command = " ".join(["python benchmarks/skada_methods.py", "--seeds", str(args.seeds),
                        *(["--epochs", str(args.epochs)] if args.epochs else []),
                        "--threads", str(args.threads),
                        *(["--quick"] if options.quick else []),
                        *(["--raw"] if options.raw else []),
                        *(["--tasks", ",".join(tasks)] if tasks != DEFAULT_TASKS and not
                          options.quick else [])])
    args.standardize = not options.raw
    run_and_save("skada_methods", lambda a: run_tasks(a, tasks, rows, epochs, a.standardize),
                 lambda records, a, seconds: report(records, a, seconds, command=command),
                 args)


if __name__ == "__main__":
    main()
