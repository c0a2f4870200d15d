"""The one training engine every skda method runs on.

A method contributes a torch module with a ``training_loss`` (see
:class:`skda.methods.base.DomainAlgorithm`); the engine owns batching,
optimisation, history and callbacks.
"""

from .batching import BalancedBatches, DomainData
from .callbacks import NonFiniteLossGuard, ReversalWarmup
from .net import DomainNet

__all__ = [
    "BalancedBatches",
    "DomainData",
    "DomainNet",
    "NonFiniteLossGuard",
    "ReversalWarmup",
]
