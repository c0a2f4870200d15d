"""skda: deep domain adaptation and generalization as scikit-learn estimators."""

from . import methods
from ._validation import UnlabeledRowsWarning, unlabeled_rows_expected
from .methods import *  # noqa: F403  (the estimators, listed once in skda.methods)

__version__ = "0.1.0"

__all__ = [
    *methods.__all__,
    "UnlabeledRowsWarning",
    "__version__",
    "unlabeled_rows_expected",
]
