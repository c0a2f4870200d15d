"""The estimators: one module per method, each a network plus its loss."""

from .base import DomainClassifier, DomainEstimator, DomainRegressor
from .ccsa import CCSA, CCSAClassifier
from .dann import DANN, DANNClassifier, DANNRegressor
from .erm import ERM, ERMClassifier, ERMRegressor
from .sagnet import SagNet, SagNetClassifier

__all__ = ["CCSA", "CCSAClassifier", "DANN", "DANNClassifier", "DANNRegressor",
           "DomainClassifier", "DomainEstimator", "DomainRegressor", "ERM", "ERMClassifier",
           "ERMRegressor", "SagNet", "SagNetClassifier"]
