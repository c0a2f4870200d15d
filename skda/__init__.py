"""skda: deep domain adaptation and generalization as scikit-learn estimators."""

from ._validation import UnlabeledRowsWarning, unlabeled_rows_expected
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
    L2AOTClassifier,
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
    "L2AOTClassifier",
    "MCCClassifier",
    "MMDClassifier",
    "MixupClassifier",
    "SagNetClassifier",
    "UnlabeledRowsWarning",
    "VRExClassifier",
    "__version__",
    "unlabeled_rows_expected",
]
