"""The estimators: one module per method, each a network plus its loss."""

from .base import DomainClassifier
from .ccsa import CCSA, CCSAClassifier
from .dann import DANN, DANNClassifier
from .erm import ERM, ERMClassifier
from .sagnet import SagNet, SagNetClassifier

__all__ = ["CCSA", "CCSAClassifier", "DANN", "DANNClassifier", "DomainClassifier", "ERM",
           "ERMClassifier", "SagNet", "SagNetClassifier"]
