"""The one training engine every skda method runs on.

A method contributes a torch module with a ``training_loss`` (see
:class:`skda.methods.base.DomainAlgorithm`); the engine owns batching,
optimisation, history and callbacks.
"""

from .batching import BalancedBatches, DomainData
from .callbacks import LearningRateAnnealing, NonFiniteLossGuard, ReversalWarmup
from .net import DomainNet
from .optim import Adam

__all__ = [
    "Adam",
    "BalancedBatches",
    "DomainData",
    "DomainNet",
    "LearningRateAnnealing",
    "NonFiniteLossGuard",
    "ReversalWarmup",
]


def __getattr__(name):
    # imported on demand: it needs skorch.hf, used only with the [accelerate] extra
    if name == "AcceleratedDomainNet":
        from .accelerated import AcceleratedDomainNet

        return AcceleratedDomainNet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
