"""skda's DANN beside skada 0.6.0's DANN and a hand-written torch loop: accuracy and speed.

``python benchmarks/skada_side_by_side.py [--seeds 5] [--epochs N] [--threads 1] [--quick]
[--tasks mnist->usps,books->kitchen]`` (``--epochs``: skda epochs, default each task's
``epochs`` below; ``--quick``: one Amazon pair, 300 rows per domain, 2 epochs).

skada is not, and must never become, a dependency of skda: run this script from a
separate virtual environment that holds both (torch first and pinned, so that pip never
resolves torch itself)::

    python -m venv /work/venv-skada && . /work/venv-skada/bin/activate
    pip install torch==2.13.0 && pip install skada==0.6.0
    pip install skorch tqdm && pip install -e . --no-deps && pip check
    SKDA_DATA=/path/to/shared/data python benchmarks/skada_side_by_side.py --threads 1

Data (read with ``download_if_missing=False``: set ``SKDA_DATA``): MNIST->USPS and
USPS->MNIST of ``fetch_mnist_usps(images=True)`` (2000 and 1800 images 1x16x16), and
three Amazon review pairs of ``fetch_amazon_reviews`` (400 features, about 2000 rows a
domain). Transductive unsupervised DA: every source row labeled, every target row
unlabeled in training; the score is accuracy on all target rows.

Per task and seed, every program gets the same backbone (``skda.modules.ConvNet`` with
input_shape (1, 16, 16) for images, ``skda.modules.MLP`` 400-100 ReLU for Amazon: the
class and width skda builds by default), built once under ``torch.manual_seed(seed)`` and
copied into each fit (so the same initial backbone weights), the same optimizer, lr,
batch size, number of optimizer steps and lambda_ schedule. Programs:

- ``skda DANNClassifier``: the estimator with the settings below (skda's defaults, read
  from ``DANNClassifier().get_params()``, but for a constant learning rate of 1e-3 and 20
  epochs: the comparison is of implementations, with the same settings for all),
  ``module=`` the backbone;
- ``skada DANN, default domain classifier``: ``skada.deep.DANN(..., num_features=...)``;
  its ``DomainClassifier`` ends in Linear(100, 1) + Softmax, which is identically 1, so
  the domain loss is a constant and passes no gradient: source-only training;
- ``skada DANN, working discriminator``: ``domain_classifier=`` :class:`SigmoidDiscriminator`
  (gradient reversal + Linear(., 100) + ReLU + Linear(100, 1) + Sigmoid);
- ``plain torch DANN``: a hand-written loop doing what skda does (speed reference);
- ``plain torch, lambda_=0``: the same loop with reversal coefficient 0 (the
  discriminator trains, the features never see it): the source-only reference that
  skada's default discriminator should match.

Matching the steps: skda's ``batch_size`` is the whole batch, split evenly across the
domains, and an epoch is ``ceil(n_rows / batch_size)`` steps (n_rows: source + target);
``--epochs`` counts these epochs, ``steps = epochs * ceil(n_rows / batch_size)``.
skada's ``batch_size`` is *per domain* (``DomainBalancedDataLoader`` yields
``batch_size`` source + ``batch_size`` target rows), so skada gets ``batch_size // 2``,
and its epoch is ``max(n_source // b, n_target // b)`` steps; skada's ``max_epochs`` is
``ceil(steps / that)`` and a callback stops its last epoch after exactly ``steps`` steps.
The plain loops take ``batch_size // 2`` rows of each domain per step, each domain an
endless reshuffled stream, as skda does.

Matching the losses: skda's domain loss is the mean cross-entropy of a 2-way
discriminator over the batch, added with weight 1, and lambda_ (ramped by Ganin's
``2 / (1 + exp(-10 p)) - 1`` when ``lambda_warmup``) only scales the gradient the
features get. skada's total is ``CE + reg * (BCE_source + BCE_target)``, a sum of two
means, twice skda's mean; so skada gets ``reg = 0.5`` and the working discriminator's
reversal coefficient follows skda's schedule (a callback sets it before each step).
skada's default ``DomainClassifier`` keeps its fixed alpha=1 (its gradient is zero
anyway). The loss columns report the mean domain loss per row (chance: ln 2 = 0.693).

Timing: wall time of the whole fit (data conversion included; prediction excluded) with
``torch.set_num_threads(--threads)``, divided by the number of optimizer steps; "x plain"
is that over the plain torch DANN loop's, same task and seed; skda's seconds per epoch
is fit time / epochs. Output: ``results/skada_side_by_side.{md,json,csv}``.

Cost: 5 programs x 5 seeds x 20 epochs: about 35 min on one CPU thread (at ``--epochs 1``,
about 60 ms a ConvNet step and 2-8 ms an MLP step), mostly the two image tasks. Not in
the suite runner (``python -m benchmarks``): it needs the separate venv.
"""

import argparse
import copy
import json
import math
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from _common import (
    FIXED_STRENGTH,
    accuracy_arguments,
    machine_stamp,
    markdown_table,
    mean_sd,
    run_and_save,
)
from skorch.callbacks import Callback
from torch import nn

from skda import DANNClassifier
from skda.datasets import fetch_amazon_reviews, fetch_mnist_usps
from skda.methods.dann import ganin_schedule, grad_reverse
from skda.modules import MLP, ConvNet

#: skda's own defaults: what every task uses unless it says otherwise
SKDA = DANNClassifier(**FIXED_STRENGTH).get_params()
SHARED = dict(
    optimizer=SKDA["optimizer"],
    # a constant rate for every program: skada and the plain loops have no schedule, so
    # skda's lr_annealing is switched off and its pre-annealing rate of 1e-3 used
    lr=1e-3,
    batch_size=SKDA["batch_size"],  # whole batch: half source, half target
    # skda epochs; steps = epochs * ceil(n_rows / batch_size): about 600 steps, a third
    # of skda's default budget, so that five programs and several seeds fit in half an hour
    epochs=20,
    lambda_=SKDA["lambda_"],
    lambda_warmup=SKDA["lambda_warmup"],
    discriminator_hidden=SKDA["discriminator_hidden_layer_sizes"],
)
IMAGES = dict(SHARED, data="mnist_usps", backbone=(ConvNet, {"input_shape": (1, 16, 16)}))
AMAZON = dict(SHARED, data="amazon", backbone=(
    MLP, {"n_features_in": 400, "hidden_layer_sizes": SKDA["hidden_layer_sizes"]}))

#: name: settings (backbone class and its arguments, optimizer, lr, batch, epochs, lambda_)
TASKS = {
    "mnist->usps": dict(IMAGES, source="mnist", target="usps"),
    "usps->mnist": dict(IMAGES, source="usps", target="mnist"),
    "books->kitchen": dict(AMAZON, source="books", target="kitchen"),
    "dvd->electronics": dict(AMAZON, source="dvd", target="electronics"),
    "kitchen->books": dict(AMAZON, source="kitchen", target="books"),
}
#: --quick: this task only, this many rows per domain, this many epochs (unless --epochs)
QUICK = dict(tasks=["books->kitchen"], rows=300, epochs=2)
#: skada's weight of (BCE_source + BCE_target): 0.5 makes it skda's mean over the batch
SKADA_REG = 0.5

METHODS = ["skda DANNClassifier", "skada DANN, default domain classifier",
           "skada DANN, working discriminator", "plain torch DANN",
           "plain torch, lambda_=0 (source only)"]
PLAIN = "plain torch DANN"

SKADA_MISSING = ("This benchmark needs skada, which is not a dependency of skda: pip install "
                 "skada==0.6.0 in a separate venv; see the docstring of "
                 "benchmarks/skada_side_by_side.py.")


def import_skada():
    """skada's ``DANN`` and ``GradientReversalLayer``; a clear exit when skada is missing."""
    try:
        import skada
        from skada.deep import DANN
        from skada.deep.modules import GradientReversalLayer
    except ImportError as exc:
        raise SystemExit(f"{SKADA_MISSING} ({exc})") from exc
    if skada.__version__ != "0.6.0":
        warnings.warn(f"written against skada 0.6.0, found {skada.__version__}", stacklevel=2)
    return DANN, GradientReversalLayer


# -- modules --------------------------------------------------------------------------


class FeaturesAndHead(nn.Module):
    """Backbone and label head in one module, as skada wants it.

    skada reads the features with a forward hook on the layer named ``layer_name``
    (here ``"features"``), and in eval mode calls ``forward(X, sample_weight=...)``
    (``skada/deep/base.py``, ``DomainAwareModule.forward``): a forward without that
    argument trains and then fails in ``predict``.
    """

    def __init__(self, backbone, head):
        super().__init__()
        self.features = backbone
        self.head = head

    def forward(self, X, sample_weight=None):
        return self.head(self.features(X))


class SigmoidDiscriminator(nn.Module):
    """Domain discriminator for skada's DANN: reversal, MLP, one sigmoid output per row.

    Why skada's default fails: ``skada.deep.modules.DomainClassifier`` ends in
    ``Linear(100, 1)`` then ``nn.Softmax()``; a softmax over one logit is exactly 1 for
    every row, so ``BCELoss`` is 100 (log clamped) on source rows and 0 on target rows
    whatever the weights, and its gradient (to the discriminator and, through the
    reversal, to the features) is exactly zero. skada applies no reversal of its own
    (``DomainAwareModule.forward`` calls ``domain_classifier_(features)`` and one
    optimizer updates everything), so a working discriminator reverses the gradient
    itself, then ends in a sigmoid, shape (n,), for skada's BCELoss (as skada-bench's
    ``DomainClassifier`` does). ``reversal_coeff`` is set before each step by
    :class:`SkadaProbe` (skda's lambda_ schedule).
    """

    def __init__(self, n_features, hidden, reversal):
        super().__init__()
        self.reversal = reversal
        self.reversal_coeff = 1.0
        self.mlp = MLP(n_features, hidden, 1)  # Linear + ReLU per hidden layer, Linear(., 1)

    def forward(self, z):
        # flatten, not squeeze: a batch of one stays a vector
        return torch.sigmoid(self.mlp(self.reversal.apply(z, self.reversal_coeff))).flatten()


def build_backbone(spec):
    cls, kwargs = spec["backbone"]
    return cls(**kwargs)


def heads_seed(seed):
    """Seed of the label head and discriminator (the backbone uses ``seed``)."""
    return 10_000 + seed


def coefficient(spec, step, steps, lambda_=None):
    """skda's reversal coefficient before step ``step`` of ``steps``."""
    lambda_ = spec["lambda_"] if lambda_ is None else lambda_
    return lambda_ * ganin_schedule(step / steps) if spec["lambda_warmup"] else lambda_


def _grad_norm(module):
    grads = [p.grad.detach().flatten() for p in module.parameters() if p.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


# -- data -----------------------------------------------------------------------------


def load(spec, rows=None):
    """``X`` (float32), ``y`` and a target mask: source rows first, then target rows."""
    domains = (spec["source"], spec["target"])
    if spec["data"] == "mnist_usps":
        X, y, d = fetch_mnist_usps(images=True, domains=domains, download_if_missing=False,
                                   return_X_y_domains=True)
    else:
        X, y, d = fetch_amazon_reviews(domains=domains, download_if_missing=False,
                                       return_X_y_domains=True)
    keep = [np.flatnonzero(d == name) for name in domains]
    if rows is not None:  # the files are sorted by class: subsample at random
        rng = np.random.RandomState(0)
        keep = [np.sort(rng.choice(k, min(rows, len(k)), replace=False)) for k in keep]
    keep = np.concatenate(keep)
    return (np.ascontiguousarray(X[keep], dtype=np.float32), np.asarray(y[keep], np.int64),
            np.asarray(d[keep] == spec["target"]))


def skda_steps_per_epoch(spec, n_rows):
    return math.ceil(n_rows / max(min(spec["batch_size"], n_rows), 2))


# -- the programs ---------------------------------------------------------------------


class StepProbe(Callback):
    """Counts skda's steps; the discriminator's gradient norm at the first and last step."""

    def __init__(self, steps):
        self.steps = steps

    def on_train_begin(self, net, **kwargs):
        self.done, self.grad_norms = 0, {}

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if training and self.done in (0, self.steps - 1):
            self.grad_norms[self.done] = _grad_norm(net.module_.discriminator)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.done += 1


def fit_skda(spec, data, backbone, seed, steps, device):
    X, y, target = data
    clf = DANNClassifier(
        module=copy.deepcopy(backbone), lambda_=spec["lambda_"],
        lambda_warmup=spec["lambda_warmup"],
        discriminator_hidden_layer_sizes=spec["discriminator_hidden"],
        max_epochs=spec["epochs"], batch_size=spec["batch_size"], lr=spec["lr"],
        lr_annealing=False, optimizer=spec["optimizer"], device=device, random_state=seed,
        callbacks=[("probe", StepProbe(steps))],
        # skada neither scales inputs nor decays weights: the same network on the same columns
        input_scaling=None, optimizer__weight_decay=0.0)
    start = time.perf_counter()
    clf.fit(X, np.where(target, -1, y), domains=np.where(target, "target", "source"))
    _sync(device)
    seconds = time.perf_counter() - start
    probe = dict(clf.net_.callbacks_)["probe"]
    losses = clf.net_.history[:, "train_domain_loss"]
    return dict(accuracy=float(clf.score(X[target], y[target])), fit_seconds=seconds,
                steps=probe.done, domain_loss_first=float(losses[0]),
                domain_loss_last=float(losses[-1]), grad_norm_first=probe.grad_norms.get(0),
                grad_norm_last=probe.grad_norms.get(steps - 1))


class SkadaProbe(Callback):
    """What skada's net needs from outside: skda's schedule, an exact step count, logs.

    Before each step it sets the discriminator's ``reversal_coeff`` (when it has one);
    after each it records the domain loss per row from the module's output, and after
    ``steps`` steps it ends training, mid-epoch if need be (skorch's ``fit`` treats
    KeyboardInterrupt as "stop training", ``skorch/net.py``, ``partial_fit``).
    """

    def __init__(self, spec, steps, steps_per_epoch):
        self.spec, self.steps, self.steps_per_epoch = spec, steps, steps_per_epoch

    def on_train_begin(self, net, **kwargs):
        self.done, self.losses, self.grad_norms = 0, [], {}

    def on_batch_begin(self, net, training=False, **kwargs):
        disc = net.module_.domain_classifier_
        if training and hasattr(disc, "reversal_coeff"):
            disc.reversal_coeff = coefficient(self.spec, self.done, self.steps)

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if training and self.done in (0, self.steps - 1):
            self.grad_norms[self.done] = _grad_norm(net.module_.domain_classifier_)

    def on_batch_end(self, net, training=False, y_pred=None, **kwargs):
        if not training:
            return
        # in training, skada's module returns (y_pred, domain_pred, features,
        # sample_domain, sample_idx)
        _, domain_pred, _, sample_domain, _ = y_pred
        source = sample_domain >= 0
        p = domain_pred.detach()
        self.losses.append((F.binary_cross_entropy(p[source], torch.zeros_like(p[source]))
                            + F.binary_cross_entropy(p[~source], torch.ones_like(p[~source])))
                           / 2)
        self.done += 1
        if self.done == self.steps and self.steps % self.steps_per_epoch:
            raise KeyboardInterrupt


def fit_skada(spec, data, backbone, seed, steps, device, working=True):
    DANN, GradientReversalLayer = import_skada()
    X, y, target = data
    n_target = int(target.sum())
    per_domain = spec["batch_size"] // 2
    per_epoch = max((len(X) - n_target) // per_domain, n_target // per_domain)
    torch.manual_seed(heads_seed(seed))
    n_features = backbone.n_features_out
    module = FeaturesAndHead(copy.deepcopy(backbone),
                             nn.Linear(n_features, len(np.unique(y))))
    if working:
        disc = dict(domain_classifier=SigmoidDiscriminator(
            n_features, spec["discriminator_hidden"], GradientReversalLayer))
    else:
        disc = dict(num_features=n_features)  # skada builds its DomainClassifier here
    probe = SkadaProbe(spec, steps, per_epoch)
    net = DANN(module, layer_name="features", reg=SKADA_REG, **disc,
               optimizer=spec["optimizer"], lr=spec["lr"], batch_size=per_domain,
               max_epochs=math.ceil(steps / per_epoch),
               train_split=None,  # skorch's default 5-fold validation split is not for DA
               device=device, callbacks=[("probe", probe)], verbose=0)
    sample_domain = np.where(target, -2, 1)  # skada: source >= 0, target < 0
    torch.manual_seed(seed)  # skada's sampler draws from torch's global generator
    start = time.perf_counter()
    with warnings.catch_warnings():
        # the default DomainClassifier's nn.Softmax() without dim warns on every step
        warnings.filterwarnings("ignore", message="Implicit dimension choice for softmax")
        net.fit(X, np.where(target, -1, y), sample_domain=sample_domain)
    _sync(device)
    seconds = time.perf_counter() - start
    # predict keeps only rows with sample_domain < 0 (give them, or allow_source=True)
    predicted = net.predict(X[target], sample_domain=sample_domain[target])
    losses = torch.stack(probe.losses).cpu().numpy()
    k = skda_steps_per_epoch(spec, len(X))
    return dict(accuracy=float(np.mean(predicted == y[target])), fit_seconds=seconds,
                steps=probe.done, skada_batch_size=per_domain,
                skada_max_epochs=math.ceil(steps / per_epoch),
                skada_steps_per_epoch=per_epoch, domain_loss_first=float(losses[:k].mean()),
                domain_loss_last=float(losses[-k:].mean()),
                domain_loss_sd=float(losses.std()), grad_norm_first=probe.grad_norms.get(0),
                grad_norm_last=probe.grad_norms.get(steps - 1))


def _endless(members, count, generator):
    """The next ``count`` rows of an endless stream of shuffles of ``members``."""
    perms = [members[torch.randperm(len(members), generator=generator)]
             for _ in range(math.ceil(count / len(members)))]
    return torch.cat(perms)[:count]


def fit_plain(spec, data, backbone, seed, steps, device, lambda_=None):
    """skda's DANN step written out in torch: same batches, loss, schedule and updates."""
    X, y, target = data
    torch.manual_seed(heads_seed(seed))
    n_features, n_classes = backbone.n_features_out, len(np.unique(y))
    featurizer = copy.deepcopy(backbone).to(device)
    head = nn.Linear(n_features, n_classes).to(device)
    disc = MLP(n_features, spec["discriminator_hidden"], 2).to(device)
    generator = torch.Generator().manual_seed(seed)
    half = spec["batch_size"] // 2
    start = time.perf_counter()
    Xt = torch.tensor(X, device=device)
    yt = torch.tensor(np.where(target, -1, y), device=device)
    dt = torch.tensor(target.astype(np.int64), device=device)
    index = torch.cat([_endless(torch.from_numpy(np.flatnonzero(target == t)), steps * half,
                                generator).view(steps, half) for t in (False, True)], dim=1)
    index = index.to(device)
    params = [*featurizer.parameters(), *head.parameters(), *disc.parameters()]
    optimizer = spec["optimizer"](params, lr=spec["lr"])
    for m in (featurizer, head, disc):
        m.train()
    losses, grad_norms = [], {}
    for step, rows in enumerate(index):
        xb, yb, db = Xt.index_select(0, rows), yt.index_select(0, rows), dt.index_select(0, rows)
        z = featurizer(xb)
        label_loss = F.cross_entropy(head(z[:half]), yb[:half])
        domain_loss = F.cross_entropy(disc(grad_reverse(z, coefficient(spec, step, steps,
                                                                        lambda_))), db)
        loss = label_loss + domain_loss
        optimizer.zero_grad()
        loss.backward()
        if step in (0, steps - 1):
            grad_norms[step] = _grad_norm(disc)
        optimizer.step()
        loss.item()  # as skorch does, once per step
        losses.append(domain_loss.detach())
    _sync(device)
    seconds = time.perf_counter() - start
    for m in (featurizer, head, disc):
        m.eval()
    X_target = Xt[torch.from_numpy(target).to(device)]
    with torch.no_grad():
        logits = torch.cat([head(featurizer(X_target[i:i + 512]))
                            for i in range(0, len(X_target), 512)])
    losses = torch.stack(losses).cpu().numpy()
    k = skda_steps_per_epoch(spec, len(X))
    return dict(accuracy=float((logits.argmax(1).cpu().numpy() == y[target]).mean()),
                fit_seconds=seconds, steps=steps, domain_loss_first=float(losses[:k].mean()),
                domain_loss_last=float(losses[-k:].mean()), domain_loss_sd=float(losses.std()),
                grad_norm_first=grad_norms.get(0), grad_norm_last=grad_norms.get(steps - 1))


PROGRAMS = {
    METHODS[0]: (fit_skda, {}),
    METHODS[1]: (fit_skada, {"working": False}),
    METHODS[2]: (fit_skada, {"working": True}),
    METHODS[3]: (fit_plain, {}),
    METHODS[4]: (fit_plain, {"lambda_": 0.0}),
}


def warm_up(spec, data, device, programs=None):
    """One untimed epoch of every program on a batch's worth of each domain.

    The first fit in a process pays one-time costs (lazy imports on the optimizer's
    first step: about 1.5 s on a CPU), whichever program comes first. ``programs``:
    ``(fit function, its keyword arguments)`` pairs, default this script's.
    """
    X, y, target = data
    half = spec["batch_size"] // 2
    rng = np.random.RandomState(0)  # at random: the files are sorted by class
    rows = np.concatenate([rng.choice(np.flatnonzero(target == t), half, replace=False)
                           for t in (False, True)])
    small, spec = (X[rows], y[rows], target[rows]), dict(spec, epochs=1)
    steps = skda_steps_per_epoch(spec, len(rows))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for program, kwargs in programs or PROGRAMS.values():
            program(spec, small, build_backbone(spec), 0, steps, device, **kwargs)


def run_tasks(tasks, rows, epochs_given, default_epochs, seeds, device):
    import_skada()  # fail before any training when skada is missing
    records = []
    for name in tasks:
        spec = dict(TASKS[name])
        spec["epochs"] = epochs_given or default_epochs or spec["epochs"]
        if spec["batch_size"] % 2:
            raise ValueError(f"{name}: batch_size must be even (half source, half target)")
        data = load(spec, rows)
        n_rows, n_target = len(data[0]), int(data[2].sum())
        steps = spec["epochs"] * skda_steps_per_epoch(spec, n_rows)
        warm_up(spec, data, device)
        for seed in range(seeds):
            torch.manual_seed(seed)
            backbone = build_backbone(spec)  # one initial backbone for every program
            for method, (program, kwargs) in PROGRAMS.items():
                result = program(spec, data, backbone, seed, steps, device, **kwargs)
                if result["steps"] != steps:
                    raise RuntimeError(f"{method} took {result['steps']} steps, not {steps}")
                records.append(dict(
                    task=name, method=method, seed=seed, epochs=spec["epochs"],
                    batch_size=spec["batch_size"], lr=spec["lr"],
                    optimizer=spec["optimizer"].__name__, lambda_=spec["lambda_"],
                    lambda_warmup=spec["lambda_warmup"], n_source=n_rows - n_target,
                    n_target=n_target, threads=torch.get_num_threads(),
                    seconds_per_step=result["fit_seconds"] / steps,
                    seconds_per_epoch=result["fit_seconds"] / spec["epochs"], **result))
                print(json.dumps(records[-1]), flush=True)
    return records


# -- report ---------------------------------------------------------------------------


def _cell(records, task, method, key, fmt=None):
    values = [r[key] for r in records if r["task"] == task and r["method"] == method
              and r.get(key) is not None]
    if not values:
        return "—"
    return mean_sd(values) if fmt is None else fmt(np.mean(values))


def _relative(records, task, method):
    plain = {r["seed"]: r["seconds_per_step"] for r in records
             if r["task"] == task and r["method"] == PLAIN}
    ratios = [r["seconds_per_step"] / plain[r["seed"]] for r in records
              if r["task"] == task and r["method"] == method and r["seed"] in plain]
    return f"{np.mean(ratios):.2f}x" if ratios else "—"


def report(records, seeds, epochs, device, seconds, command=""):
    import skada

    tasks = list(dict.fromkeys(r["task"] for r in records))
    first = {t: next(r for r in records if r["task"] == t) for t in tasks}
    skada_row = {t: next(r for r in records if r["task"] == t and "skada_batch_size" in r)
                 for t in tasks}
    threads = sorted({r["threads"] for r in records})
    parts = [
        "# skda DANN beside skada 0.6.0 DANN and a plain torch loop",
        "",
        f"`{command}`; see the script's docstring for the protocol. Seeds 0..{seeds - 1}; "
        "mean ± sd (population sd over seeds). Every program: the same backbone class, "
        "width and initial weights, optimizer, lr, batch and number of optimizer steps; "
        "transductive UDA (target rows unlabeled in training), accuracy on all target rows.",
        "",
        machine_stamp(device) + f" skada {skada.__version__}; torch threads "
        f"{', '.join(map(str, threads))}. Total {seconds / 60:.1f} min.",
        "",
        "## Settings per task",
        "",
        markdown_table(
            ["task", "rows source / target", "optimizer, lr", "skda epochs x steps = steps",
             "batch (skda / skada per domain)", "skada max_epochs x steps", "lambda_"],
            [[t, f"{first[t]['n_source']} / {first[t]['n_target']}",
              f"{first[t]['optimizer']} {first[t]['lr']:g}",
              f"{first[t]['epochs']} x {first[t]['steps'] // first[t]['epochs']} = "
              f"{first[t]['steps']}",
              f"{first[t]['batch_size']} / {skada_row[t]['skada_batch_size']}",
              f"{skada_row[t]['skada_max_epochs']} x {skada_row[t]['skada_steps_per_epoch']}"
              f" (stopped at {first[t]['steps']})",
              f"{first[t]['lambda_']:g}" + (" ramped" if first[t]["lambda_warmup"] else "")]
             for t in tasks]),
        "",
        "## Target accuracy",
        "",
        markdown_table(["method", *tasks],
                       [[m, *[_cell(records, t, m, "accuracy") for t in tasks]]
                        for m in METHODS]),
        "",
        "## Time per optimizer step (ms; whole fit / steps) and against the plain torch loop",
        "",
        markdown_table(
            ["method", *[f"{t} ms" for t in tasks], *[f"{t} x plain" for t in tasks]],
            [[m, *[_cell(records, t, m, "seconds_per_step", lambda v: f"{1e3 * v:.2f}")
                   for t in tasks], *[_relative(records, t, m) for t in tasks]]
             for m in METHODS]),
        "",
        "skda seconds per epoch (fit time / epochs): " + ", ".join(
            f"{t} {_cell(records, t, METHODS[0], 'seconds_per_epoch', lambda v: f'{v:.3f}')}"
            for t in tasks) + ".",
        "",
        "## Discriminator diagnostics (mean over seeds)",
        "",
        "Domain loss per row (chance ln 2 = 0.693), mean over the first and the last "
        "skda-epoch's worth of steps (skda: its history's epoch means); sd: over all steps; "
        "gradient norm of the discriminator's parameters at the first and last step.",
        "",
        markdown_table(
            ["task", "method", "domain loss first → last", "sd over steps",
             "discriminator grad norm first / last"],
            [[t, m,
              f"{_cell(records, t, m, 'domain_loss_first', lambda v: f'{v:.3f}')} → "
              f"{_cell(records, t, m, 'domain_loss_last', lambda v: f'{v:.3f}')}",
              _cell(records, t, m, "domain_loss_sd", lambda v: f"{v:.2g}"),
              f"{_cell(records, t, m, 'grad_norm_first', lambda v: f'{v:.2g}')} / "
              f"{_cell(records, t, m, 'grad_norm_last', lambda v: f'{v:.2g}')}"]
             for t in tasks for m in METHODS]),
    ]
    return "\n".join(parts) + "\n"


def main():
    import_skada()
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--quick", action="store_true")
    extra.add_argument("--tasks", default=",".join(TASKS))
    options, rest = extra.parse_known_args()
    sys.argv = [sys.argv[0], *rest]
    args = accuracy_arguments(
        __doc__.splitlines()[0] + " Also: --quick (one Amazon pair, 300 rows a domain, 2 "
        f"epochs) and --tasks (comma-separated, of {', '.join(TASKS)}).", seeds=5, epochs=None)
    tasks = QUICK["tasks"] if options.quick else options.tasks.split(",")
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; choose from {list(TASKS)}")
    rows = QUICK["rows"] if options.quick else None
    command = " ".join(["python benchmarks/skada_side_by_side.py", "--seeds", str(args.seeds),
                        *(["--epochs", str(args.epochs)] if args.epochs else []),
                        "--threads", str(args.threads),
                        *(["--quick"] if options.quick else []),
                        *(["--tasks", ",".join(tasks)] if tasks != list(TASKS) and not
                          options.quick else [])])
    default_epochs = QUICK["epochs"] if options.quick else None
    run_and_save(
        "skada_side_by_side",
        lambda seeds, epochs, device: run_tasks(tasks, rows, epochs, default_epochs, seeds,
                                                device),
        lambda *a: report(*a, command=command), args)


if __name__ == "__main__":
    main()
