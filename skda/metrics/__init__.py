"""Per-domain scores and distances between domains."""

from ._distance import proxy_a_distance
from ._per_domain import per_domain_scores

__all__ = ["per_domain_scores", "proxy_a_distance"]
