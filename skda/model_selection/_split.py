"""Cross-validation splitters that know about domains."""

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator, LeaveOneGroupOut
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples

from .._params import NONE, RANDOM_STATE, Interval, validate_params
from .._validation import UNLABELED, check_domains, holdout_per_cell


def _domain_labels(X, groups, domains):
    """The per-row domain labels given as ``domains`` (preferred) or ``groups``."""
    values = domains if domains is not None else groups
    if values is None:
        raise ValueError(
            "The splitter needs each row's domain: pass groups=domains to split() or "
            "GridSearchCV.fit(), or, with metadata routing enabled, domains=domains.")
    return check_domains(values, _num_samples(X), name="groups/domains")


def _is_continuous(y):
    """Whether ``y`` is a regression target, too many-valued to stratify by its values.

    True when its labeled values (neither NaN nor ``-1``) are numbers that
    are not all integers, or that take more distinct values than half their
    count: most values then occur once, and a (domain, value) cell of one
    row is never held out.
    """
    if y.dtype.kind not in "iuf":
        return False
    values = y[~np.isnan(y) & (y != UNLABELED)] if y.dtype.kind == "f" else y[y != UNLABELED]
    if values.size == 0:
        return False
    return bool(np.any(values != np.round(values)) or len(np.unique(values)) > values.size / 2)


def _strata(y, labels):
    """One integer code per row: its stratum, (domain, label) or, for a continuous y, domain.

    For a continuous ``y`` (a regressor's), the NaN rows, unlabeled, form a
    stratum of their own in each domain, as the ``-1`` rows of a
    classifier's ``y`` do through their label.
    """
    if y is None:
        keys = labels
    elif _is_continuous(y):
        keys = np.char.add(labels.astype(str), np.where(np.isnan(y), "\x00nan", "\x00"))
    else:
        keys = np.char.add(labels.astype(str), np.char.add("\x00", y.astype(str)))
    return np.unique(keys, return_inverse=True)[1]


class _DomainSplitter:
    # Domains come as ``groups`` (GridSearchCV.fit(..., groups=d)) or, with
    # metadata routing, as ``domains`` (GridSearchCV.fit(..., domains=d)).
    __metadata_request__split = {"groups": True, "domains": True}

    def split(self, X, y=None, groups=None, domains=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs; only their number is used.
        y : array-like of shape (n_samples,), default=None
            Labels (``-1`` for unlabeled rows), or a regression target
            (``NaN`` for unlabeled rows).
        groups : array-like of shape (n_samples,), default=None
            Domain label of each row (used when ``domains`` is None).
        domains : array-like of shape (n_samples,), default=None
            Domain label of each row.

        Yields
        ------
        train : ndarray
            Training row indices.
        test : ndarray
            Test row indices.
        """
        labels = _domain_labels(X, groups, domains)
        yield from self._split(X, None if y is None else np.asarray(y), labels)

    def _split(self, X, y, labels):
        raise NotImplementedError


class LeaveOneDomainOut(_DomainSplitter, LeaveOneGroupOut):
    """Hold out one whole domain per split: the domain-generalization protocol.

    scikit-learn's :class:`~sklearn.model_selection.LeaveOneGroupOut`, the
    domains being the groups, that also reads them as ``domains`` (with
    metadata routing, ``GridSearchCV.fit(X, y, domains=d)`` then reaches
    both the splitter and the estimator). Each split trains on every domain
    but one and tests on the domain left out, which the model never saw,
    not even unlabeled: as many splits as domains (DomainBed's
    "leave-one-domain-out"). ``domains`` is used when given, otherwise
    ``groups``.

    Examples
    --------
    >>> import numpy as np
    >>> from skda.model_selection import LeaveOneDomainOut
    >>> domains = np.array(["a", "a", "b", "c"])
    >>> for train, test in LeaveOneDomainOut().split(np.zeros((4, 1)), groups=domains):
    ...     print(train, test)
    [2 3] [0 1]
    [0 1 3] [2]
    [0 1 2] [3]
    """

    def _split(self, X, y, labels):
        n_domains = len(np.unique(labels))
        if n_domains < 2:
            raise ValueError(f"LeaveOneDomainOut needs at least 2 domains, got {n_domains}.")
        yield from LeaveOneGroupOut.split(self, X, y, labels)

    def get_n_splits(self, X=None, y=None, groups=None, domains=None):
        """Number of splits: the number of distinct domains.

        Parameters
        ----------
        X, y : object
            Ignored.
        groups, domains : array-like of shape (n_samples,)
            Domain label of each row (``domains`` preferred).

        Returns
        -------
        n_splits : int
        """
        values = domains if domains is not None else groups
        if values is None:
            raise ValueError("LeaveOneDomainOut.get_n_splits needs groups or domains.")
        return super().get_n_splits(X, y, values)


class TrainingDomainValidation(_DomainSplitter, BaseCrossValidator):
    """Hold out a stratified slice of every domain: DomainBed's training-domain validation.

    Each split puts a fraction ``test_size`` of each domain's rows in the
    test set, drawn separately for every (domain, label) cell, so the test
    set has the domains and classes in the training proportions. Rows with
    ``y == -1`` (unlabeled) form a cell of their own in each domain; they
    land in both sides, which is what the unsupervised scorers of
    :mod:`skda.model_selection` need: labeled source rows and unlabeled
    target rows in the validation fold.

    A continuous ``y`` (a regression target: numbers that are not all
    integers, or more distinct values than half the labeled rows) has no
    classes to stratify by: the cells are then the domains, each split in
    its labeled rows and its unlabeled rows (``y`` NaN, the skda
    regressors' marker), so that here too both sides hold both.

    Since the validation folds hold unlabeled rows, score them with
    :class:`SourceAccuracyScorer` or a skda estimator's own ``score``
    (``scoring=None``), which leave those rows out; a metric named by a
    string (``scoring="accuracy"`` or ``"r2"``) reads every row.

    Used inside a leave-one-domain-out evaluation, it selects
    hyper-parameters with the training domains only (Gulrajani and
    Lopez-Paz, 2021).

    Parameters
    ----------
    n_splits : int, default=1
        Number of independent random splits (DomainBed uses one).
    test_size : float, default=0.2
        Fraction of each (domain, label) cell held out, in (0, 1). A cell's
        share is rounded half up; a cell of one row stays in training.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws.

    Examples
    --------
    >>> import numpy as np
    >>> from skda.model_selection import TrainingDomainValidation
    >>> y = np.array([0, 1] * 10)
    >>> domains = np.repeat(["a", "b"], 10)
    >>> cv = TrainingDomainValidation(test_size=0.2, random_state=0)
    >>> train, test = next(cv.split(np.zeros((20, 1)), y, groups=domains))
    >>> print(domains[test], y[test])
    ['a' 'a' 'b' 'b'] [1 0 0 1]
    """

    _parameter_constraints = {
        "n_splits": [Interval(numbers.Integral, 1)],
        "test_size": [Interval(numbers.Real, 0, 1, closed="neither")],
        "random_state": [NONE, RANDOM_STATE],
    }

    def __init__(self, n_splits=1, test_size=0.2, random_state=None):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state

    def _split(self, X, y, labels):
        validate_params(self)
        if y is not None and len(y) != len(labels):
            raise ValueError(f"y has {len(y)} entries but X has {len(labels)} rows.")
        cells = _strata(y, labels)
        rng = check_random_state(self.random_state)
        rows = np.arange(len(labels))
        for _ in range(self.n_splits):
            test = holdout_per_cell(cells, self.test_size, rng)
            yield rows[~test], rows[test]

    def get_n_splits(self, X=None, y=None, groups=None, domains=None):
        """Number of splits: ``n_splits``.

        Parameters
        ----------
        X, y, groups, domains : object
            Ignored.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits
