"""skda: deep domain adaptation and generalization as scikit-learn estimators."""

from .methods import (
    CCSAClassifier,
    DANNClassifier,
    DANNRegressor,
    ERMClassifier,
    ERMRegressor,
    SagNetClassifier,
)

__version__ = "0.1.0"

__all__ = ["CCSAClassifier", "DANNClassifier", "DANNRegressor", "ERMClassifier",
           "ERMRegressor", "SagNetClassifier", "__version__"]
