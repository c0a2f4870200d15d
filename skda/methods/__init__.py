"""The estimators: one module per method, each a network plus its loss."""

from .base import DomainAlgorithm, DomainClassifier
from .dann import DANN, DANNClassifier
from .erm import ERM, ERMClassifier

__all__ = ["DANN", "DANNClassifier", "DomainAlgorithm", "DomainClassifier", "ERM",
           "ERMClassifier"]
