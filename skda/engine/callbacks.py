"""skorch callbacks used by the skda estimators."""

import math

import torch
from skorch.callbacks import Callback

from .algorithm import TrainingObjective
from .batching import rows_in_order


def algorithm_of(net):
    """The net's :class:`~skda.engine.DomainAlgorithm`, inside any training wrapper."""
    module = net.module_
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        module = module.module
    if isinstance(module, TrainingObjective):
        module = module.algorithm
    return module


def training_steps_done(net):
    """Optimizer steps taken before the current training batch, over all epochs so far."""
    # plain list/dict access: History's tuple indexing is slow for a per-step hook
    return ((len(net.history) - 1) * net.train_steps_per_epoch_
            + len(net.history[-1]["batches"]) - 1)


def planned_training_steps(net):
    """Steps the schedules span: ``schedule_epochs`` (else ``max_epochs``) epochs.

    Under early stopping ``max_epochs`` is only a cap, possibly huge; the
    estimator then sets ``schedule_epochs`` to the length training is
    planned to have, so that warm-ups and annealing complete.
    """
    epochs = getattr(net, "schedule_epochs", None) or net.max_epochs
    return epochs * net.train_steps_per_epoch_


def training_progress(net):
    """Fraction of the planned training steps done before the current batch, at most 1."""
    return min(training_steps_done(net) / planned_training_steps(net), 1.0)


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


class DivergenceError(ValueError):
    """Training diverged: a loss, a weight or an output became NaN or infinite."""


class NonFiniteLossGuard(Callback):
    """Stop training with a clear error as soon as the training loss is NaN or infinite.

    The loss of a step is computed before its update, so the weights, and
    the outputs on a batch of training rows, are also checked at the end of
    training: an update can overflow on the very last step.

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
            raise DivergenceError(
                f"The training loss became {loss} at epoch {epoch}, batch {batch}; "
                f"training diverged. {self.hint}".rstrip()
            )

    def on_train_end(self, net, **kwargs):
        algorithm = algorithm_of(net)
        parameters = [p.detach() for p in algorithm.parameters()]
        if parameters and not torch.stack([torch.isfinite(p).all() for p in parameters]).all():
            raise DivergenceError(
                "The network's weights became NaN or infinite in the last updates of "
                f"training; training diverged. {self.hint}".rstrip())
        # finite but huge weights still overflow: the outputs are what predict returns
        batches = net.train_batches_
        if batches is None:
            return
        was_training = algorithm.training
        algorithm.eval()
        with torch.no_grad():
            first = next(rows_in_order(batches.data.X, net.batch_size,
                                       batches.data.y.device))
            outputs = algorithm(first)
        algorithm.train(was_training)
        if not torch.isfinite(outputs).all():
            raise DivergenceError(
                "The network's outputs on training rows are NaN or infinite at the end of "
                f"training (its weights overflow); training diverged. {self.hint}".rstrip())


class EarlyStopping(Callback):
    """Stop when ``valid_loss`` stops improving, and keep the weights of its best epoch.

    scikit-learn's ``MLPClassifier(early_stopping=True)`` rule on the
    validation loss: an epoch whose ``valid_loss`` is not below the best so
    far minus ``tol`` counts as no improvement, and training stops after
    ``n_iter_no_change`` such epochs in a row. At the end the method's
    weights are those of the epoch with the lowest ``valid_loss``. Needs a
    validation set (``DomainNet.fit(data, valid=...)``).

    Parameters
    ----------
    n_iter_no_change : int, default=10
        Epochs without improvement before training stops.
    tol : float, default=1e-4
        Least decrease of the validation loss that counts as improvement.

    Attributes
    ----------
    best_epoch_ : int
        Epoch (from 1) with the lowest validation loss.
    best_loss_ : float
        That loss.
    """

    def __init__(self, n_iter_no_change=10, tol=1e-4):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol

    def initialize(self):
        self.best_loss_, self.best_epoch_ = math.inf, 0
        self._best_state, self._no_improvement = None, 0
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if "valid_loss" not in row:
            raise ValueError(
                "EarlyStopping needs a validation loss: fit the estimator with "
                "early_stopping=True (it holds out validation_fraction of each domain).")
        loss = row["valid_loss"]
        self._no_improvement = 0 if loss < self.best_loss_ - self.tol else self._no_improvement + 1
        if loss < self.best_loss_:
            self.best_loss_, self.best_epoch_ = loss, len(net.history)
            self._best_state = {k: v.detach().clone()
                                for k, v in algorithm_of(net).state_dict().items()}
        if self._no_improvement >= self.n_iter_no_change:
            raise KeyboardInterrupt  # how skorch callbacks end training early

    def on_train_end(self, net, **kwargs):
        if self._best_state is not None:
            algorithm_of(net).load_state_dict(self._best_state)
            self._best_state = None  # the fitted net keeps one copy of the weights
