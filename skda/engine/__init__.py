"""The one training engine every skda method runs on.

A method contributes a :class:`DomainAlgorithm`: a torch module with a
``training_loss`` (or, for alternating updates, a ``training_step``); the
engine owns batching, optimisation, history and callbacks, and knows nothing
of any particular method.
"""

from .algorithm import DomainAlgorithm, TrainingObjective, update
from .batching import BalancedBatches, Batch, DomainData, SequentialBatches
from .callbacks import (
    DivergenceError,
    EarlyStopping,
    LearningRateAnnealing,
    NonFiniteLossGuard,
    algorithm_of,
    planned_training_steps,
    training_progress,
    training_steps_done,
)
from .net import DomainNet
from .optim import Adam

__all__ = [
    "Adam",
    "BalancedBatches",
    "Batch",
    "DomainAlgorithm",
    "DomainData",
    "DivergenceError",
    "DomainNet",
    "EarlyStopping",
    "LearningRateAnnealing",
    "NonFiniteLossGuard",
    "SequentialBatches",
    "TrainingObjective",
    "algorithm_of",
    "planned_training_steps",
    "training_progress",
    "training_steps_done",
    "update",
]


def __getattr__(name):
    # imported on demand: it needs skorch.hf, used only with the [accelerate] extra
    if name == "AcceleratedDomainNet":
        from .accelerated import AcceleratedDomainNet

        return AcceleratedDomainNet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
