"""skda: deep domain adaptation and generalization as scikit-learn estimators."""

from .methods import (
    CAADAClassifier,
    CCSAClassifier,
    CDANClassifier,
    CDANNClassifier,
    DANNClassifier,
    DANNRegressor,
    DDAIGClassifier,
    DeepCORALClassifier,
    ERMClassifier,
    ERMRegressor,
    GroupDROClassifier,
    IRMClassifier,
    MCCClassifier,
    MixupClassifier,
    MMDClassifier,
    SagNetClassifier,
    VRExClassifier,
)

__version__ = "0.1.0"

__all__ = [
    "CAADAClassifier",
    "CCSAClassifier",
    "CDANClassifier",
    "CDANNClassifier",
    "DANNClassifier",
    "DANNRegressor",
    "DDAIGClassifier",
    "DeepCORALClassifier",
    "ERMClassifier",
    "ERMRegressor",
    "GroupDROClassifier",
    "IRMClassifier",
    "MCCClassifier",
    "MMDClassifier",
    "MixupClassifier",
    "SagNetClassifier",
    "VRExClassifier",
    "__version__",
]
