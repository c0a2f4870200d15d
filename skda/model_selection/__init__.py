"""Splitters, evaluation protocols and unsupervised scorers for domain shift.

- Splitters (``cv=``): :class:`LeaveOneDomainOut` (domain generalization)
  and :class:`TrainingDomainValidation` (DomainBed's model selection).
- :func:`evaluate_transductive`: unsupervised DA scored on each target
  domain in turn.
- :class:`StrengthSearch`: a method's adaptation strength chosen without
  target labels, plain ERM among the candidates (what ``lambda_="auto"``
  runs), and :func:`between_domain_label_shift`, the class-mix check it
  makes first.
- Scorers for ``GridSearchCV(scoring=...)`` when the target has no labels:
  :class:`PredictionEntropyScorer`, :class:`MixValScorer`,
  :class:`SoftNeighborhoodDensityScorer`, :class:`CircularValidationScorer`,
  :class:`ImportanceWeightedScorer`, :class:`DeepEmbeddedValidationScorer`,
  and the baseline :class:`SourceAccuracyScorer`.
"""

from ._scorers import (
    CircularValidationScorer,
    DeepEmbeddedValidationScorer,
    ImportanceWeightedScorer,
    MixValScorer,
    PredictionEntropyScorer,
    SoftNeighborhoodDensityScorer,
    SourceAccuracyScorer,
)
from ._split import LeaveOneDomainOut, TrainingDomainValidation
from ._strength import StrengthSearch, between_domain_label_shift
from ._transductive import evaluate_transductive

__all__ = [
    "CircularValidationScorer",
    "DeepEmbeddedValidationScorer",
    "ImportanceWeightedScorer",
    "LeaveOneDomainOut",
    "MixValScorer",
    "PredictionEntropyScorer",
    "SoftNeighborhoodDensityScorer",
    "SourceAccuracyScorer",
    "StrengthSearch",
    "TrainingDomainValidation",
    "between_domain_label_shift",
    "evaluate_transductive",
]
