"""skorch callbacks used by the skda estimators."""

import math

import torch
from skorch.callbacks import Callback


def ganin_schedule(progress, gamma=10.0):
    """Ganin et al.'s ramp ``2 / (1 + exp(-gamma * p)) - 1``, from 0 at p=0 towards 1."""
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


def unwrapped_module(net):
    """``net.module_``, or the module inside it when it is wrapped for data parallelism."""
    module = net.module_
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        return module.module
    return module


def training_progress(net):
    """Fraction of all planned training steps done before the current batch."""
    steps = net.train_steps_per_epoch
    # plain list/dict access: History's tuple indexing is slow for a per-step hook
    done = (len(net.history) - 1) * steps + len(net.history[-1]["batches"]) - 1
    return min(done / (net.max_epochs * steps), 1.0)


class ReversalWarmup(Callback):
    """Ramp the gradient-reversal coefficient from 0 to ``lambda_`` over training.

    Before each training batch, sets ``net.module_.reversal_coeff`` to
    ``lambda_ * (2 / (1 + exp(-gamma * p)) - 1)``, with ``p`` the fraction of
    training done (Ganin et al., JMLR 2016, section 5.2.2). Early on, when the
    features are still noise, the discriminator's signal is damped.

    Parameters
    ----------
    lambda_ : float
        Final coefficient.
    gamma : float, default=10.0
        Steepness of the ramp.
    """

    def __init__(self, lambda_, gamma=10.0):
        self.lambda_ = lambda_
        self.gamma = gamma

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            unwrapped_module(net).reversal_coeff = self.lambda_ * ganin_schedule(
                training_progress(net), self.gamma)


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
