"""skda: deep domain adaptation and generalization as scikit-learn estimators."""

from .methods import DANNClassifier, ERMClassifier

__version__ = "0.1.0"

__all__ = ["DANNClassifier", "ERMClassifier", "__version__"]
