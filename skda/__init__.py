"""skda: deep domain adaptation and generalization as scikit-learn estimators."""

from .methods import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier

__version__ = "0.1.0"

__all__ = ["CCSAClassifier", "DANNClassifier", "ERMClassifier", "SagNetClassifier",
           "__version__"]
