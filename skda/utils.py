"""The estimators skda offers, found rather than listed: :func:`all_estimators`.

Tests, docs checks and benchmarks read the estimator list from here, so that
a new method is registered by existing: its class in ``skda.methods`` with
its metadata (:func:`estimator_info`).
"""

import inspect
from typing import NamedTuple

from sklearn.base import ClassifierMixin, RegressorMixin

#: the settings an estimator can serve, as :func:`estimator_info` names them
SETTINGS = ("baseline", "unsupervised DA", "few-shot DA", "domain generalization")


class EstimatorInfo(NamedTuple):
    """What an estimator is, for tables and benchmark lists."""

    #: the class name, e.g. ``"DeepCORALClassifier"``
    name: str
    #: the method's name in tables, e.g. ``"Deep CORAL"``
    display_name: str
    #: the settings it serves, from :data:`SETTINGS`
    settings: tuple
    #: the parameter that takes ``"auto"`` (None: the method has no strength to search)
    strength_param: str | None
    #: the strengths ``"auto"`` tries besides 0 (plain ERM); empty without a strength
    strength_grid: tuple
    #: the strength's default: a number, or ``"auto"``
    strength_default: object
    #: how many training domains ``fit`` needs (1: the domains are optional)
    min_domains: int
    #: whether ``fit`` learns from unlabeled rows (``y == -1``)
    uses_unlabeled: bool
    #: the first line of the class docstring
    summary: str


def _public_estimators():
    from . import methods
    from .methods.base import DomainClassifier, DomainEstimator, DomainRegressor

    bases = {DomainEstimator, DomainClassifier, DomainRegressor}
    for name in methods.__all__:
        cls = getattr(methods, name)
        if inspect.isclass(cls) and issubclass(cls, DomainEstimator) and cls not in bases:
            yield name, cls


def all_estimators(type_filter=None):
    """Every public skda estimator, as ``(name, class)`` pairs sorted by name.

    The counterpart of :func:`sklearn.utils.discovery.all_estimators`.

    Parameters
    ----------
    type_filter : {"classifier", "regressor"}, list of them, or None, default=None
        Only the estimators of these kinds; None: all.

    Returns
    -------
    estimators : list of (str, type)
        Class name and class.

    Examples
    --------
    >>> from skda.utils import all_estimators
    >>> [name for name, _ in all_estimators("regressor")]
    ['DANNRegressor', 'ERMRegressor']
    """
    kinds = {"classifier": ClassifierMixin, "regressor": RegressorMixin}
    if type_filter is None:
        wanted = list(kinds)
    else:
        wanted = [type_filter] if isinstance(type_filter, str) else list(type_filter)
        unknown = [k for k in wanted if k not in kinds]
        if unknown:
            raise ValueError(
                f"type_filter must be 'classifier', 'regressor', a list of them or None, "
                f"got {type_filter!r}.")
    found = [(name, cls) for name, cls in _public_estimators()
             if any(issubclass(cls, kinds[k]) for k in wanted)]
    return sorted(found)


def estimator_info(estimator):
    """The :class:`EstimatorInfo` of an skda estimator class or instance.

    Examples
    --------
    >>> from skda import DeepCORALClassifier
    >>> from skda.utils import estimator_info
    >>> info = estimator_info(DeepCORALClassifier)
    >>> info.display_name, info.settings, info.strength_param, info.strength_default
    ('Deep CORAL', ('unsupervised DA', 'domain generalization'), 'lambda_', 'auto')
    """
    cls = estimator if inspect.isclass(estimator) else type(estimator)
    param = cls._strength_param
    default = None
    if param is not None:
        default = inspect.signature(cls).parameters[param].default
    return EstimatorInfo(
        name=cls.__name__, display_name=cls._display_name, settings=tuple(cls._settings),
        strength_param=param, strength_grid=tuple(cls._strength_grid) if param else (),
        strength_default=default, min_domains=cls._min_domains,
        uses_unlabeled=cls._uses_unlabeled, summary=inspect.getdoc(cls).splitlines()[0])
