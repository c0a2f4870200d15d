"""skorch callbacks used by the skda estimators."""

import math

import torch
from skorch.callbacks import Callback

from .algorithm import TrainingObjective


def algorithm_of(net):
    """The net's :class:`~skda.engine.DomainAlgorithm`, inside any training wrapper."""
    module = net.module_
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        module = module.module
    if isinstance(module, TrainingObjective):
        module = module.algorithm
    return module


def training_progress(net):
    """Fraction of all planned training steps done before the current batch."""
    steps = net.train_steps_per_epoch
    # plain list/dict access: History's tuple indexing is slow for a per-step hook
    done = (len(net.history) - 1) * steps + len(net.history[-1]["batches"]) - 1
    return min(done / (net.max_epochs * steps), 1.0)


class LearningRateAnnealing(Callback):
    """Anneal every optimizer's learning rate as ``lr / (1 + alpha * p) ** beta``.

    ``p`` is the fraction of training done, so the rate falls from ``lr``
    to ``lr / (1 + alpha) ** beta`` at the end (a sixth of it with the
    defaults). This is the schedule of Ganin et al. (JMLR 2016, section
    5.2.2), who pair it with the reversal warm-up: a large rate while the
    discriminator's signal is damped, a small one once the game is on.
    Set before each training batch, for every optimizer of the net (all
    its parameter groups).

    Parameters
    ----------
    alpha : float, default=10.0
        Speed of the decay.
    beta : float, default=0.75
        Exponent of the decay.
    """

    def __init__(self, alpha=10.0, beta=0.75):
        self.alpha = alpha
        self.beta = beta

    def initialize(self):
        self.initial_lrs_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.initial_lrs_ = [[group["lr"] for group in opt.param_groups]
                             for opt in _optimizers(net)]

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        factor = (1.0 + self.alpha * training_progress(net)) ** -self.beta
        for opt, initial in zip(_optimizers(net), self.initial_lrs_, strict=True):
            for group, lr in zip(opt.param_groups, initial, strict=True):
                group["lr"] = lr * factor


def _optimizers(net):
    """The net's optimizers: one per parameter group of the method, or ``optimizer_``."""
    groups = getattr(net, "optimizer_groups_", ())
    if groups:
        return [getattr(net, f"optimizer_{name}_") for name in groups]
    return [net.optimizer_]


class NonFiniteLossGuard(Callback):
    """Stop training with a clear error as soon as the training loss is NaN or infinite.

    Parameters
    ----------
    hint : str, default=""
        Advice appended to the error, e.g. which parameters to lower.
    """

    def __init__(self, hint=""):
        self.hint = hint

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        batches = net.history[-1]["batches"]  # plain access, see training_progress
        loss = batches[-1]["train_loss"]
        if not math.isfinite(loss):
            epoch, batch = len(net.history), len(batches)
            raise ValueError(
                f"The training loss became {loss} at epoch {epoch}, batch {batch}; "
                f"training diverged. {self.hint}".rstrip()
            )
