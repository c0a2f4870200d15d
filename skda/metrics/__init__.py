"""Per-domain scores, distances between domains, and site-label confounding."""

from ._confounding import ConfoundingReport, ConfoundingWarning, confounding_report
from ._distance import proxy_a_distance
from ._per_domain import per_domain_scores

__all__ = ["ConfoundingReport", "ConfoundingWarning", "confounding_report",
           "per_domain_scores", "proxy_a_distance"]
