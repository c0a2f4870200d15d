"""Scores of a fitted classifier or regressor computed separately on each domain."""

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.utils import _safe_indexing

from .._table import make_table
from .._validation import check_domains, unlabeled_mask

METRICS = ("accuracy", "balanced_accuracy", "roc_auc")
REGRESSION_METRICS = ("rmse", "mae", "r2")


def _auc(y, proba, classes):
    present = np.unique(y)
    if len(present) < 2:
        return np.nan  # undefined with one class
    if len(classes) == 2:
        return roc_auc_score(y == classes[1], proba[:, 1])
    if len(present) < len(classes):
        return np.nan  # one-vs-rest needs every class in the domain
    return roc_auc_score(y, proba, multi_class="ovr", labels=classes)


def _r2(y, y_pred):
    # undefined on one row or a constant target; sklearn would warn and return NaN or 0
    if len(y) < 2 or np.all(y == y[0]):
        return np.nan
    return r2_score(y, y_pred)


def _is_continuous(y):
    """Whether ``y`` holds numbers with NaN (unlabeled) or non-integer values: a regression y."""
    if np.asarray(y).dtype.kind not in "iuf":
        return False
    y = np.asarray(y, dtype=np.float64)
    return bool(np.isnan(y).any() or np.any(y != np.round(y)))


def _regression_targets(y):
    try:
        return np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "The estimator is a regressor, so y must hold numbers (NaN for unlabeled rows), "
            f"got dtype {np.asarray(y).dtype}.") from None


def per_domain_scores(estimator, X, y, domains, *, metrics=None, as_frame=False):
    """Scores of a fitted classifier or regressor on each domain.

    The model predicts all rows once; each metric is then computed on each
    domain's labeled rows (rows with ``y == -1`` for a classifier, ``y``
    NaN for a regressor, are left out).

    Parameters
    ----------
    estimator : fitted classifier or regressor
        Needs ``predict``, and ``predict_proba`` and ``classes_`` for
        ``"roc_auc"``. It is read as a regressor when
        :func:`sklearn.base.is_regressor` says so (for a Pipeline, when its
        last step is one), or when it is not a classifier and ``y`` holds
        NaN or non-integer values.
    X : array-like of shape (n_samples, n_features) or image array
        Inputs.
    y : array-like of shape (n_samples,)
        True targets; ``-1`` for a classifier's unlabeled rows, ``NaN`` for
        a regressor's.
    domains : array-like of shape (n_samples,)
        Domain label of each row.
    metrics : str, sequence of str or None, default=None
        Which scores to compute. For a classifier, among ``"accuracy"``,
        ``"balanced_accuracy"`` and ``"roc_auc"`` (one-vs-rest for more
        than two classes, NaN in a domain that lacks a class). For a
        regressor, among ``"rmse"`` (root mean squared error), ``"mae"``
        (mean absolute error), both in the units of ``y``, lower is better,
        and ``"r2"`` (coefficient of determination, NaN in a domain of
        fewer than two rows or a constant target). ``None``: all three of
        the estimator's kind.
    as_frame : bool, default=False
        Return a pandas DataFrame instead of a dict of arrays.

    Returns
    -------
    table : dict of ndarray or pandas.DataFrame
        One row per domain (sorted): ``domain``, ``n_samples`` (labeled rows)
        and one column per metric.

    Examples
    --------
    >>> from skda import ERMClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> from skda.metrics import per_domain_scores
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> model = ERMClassifier(max_epochs=5, random_state=0).fit(X, y, domains=domains)
    >>> table = per_domain_scores(model, X, y, domains, metrics=["accuracy"])
    >>> list(table)
    ['domain', 'n_samples', 'accuracy']

    A regressor gets regression metrics:

    >>> from skda import ERMRegressor
    >>> model = ERMRegressor(max_epochs=5, random_state=0).fit(X, X[:, 0], domains=domains)
    >>> list(per_domain_scores(model, X, X[:, 0], domains))
    ['domain', 'n_samples', 'rmse', 'mae', 'r2']
    """
    regressor = is_regressor(estimator) or (
        not is_classifier(estimator) and _is_continuous(y))
    valid = REGRESSION_METRICS if regressor else METRICS
    if metrics is None:
        metrics = valid
    elif isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in valid]
    if unknown or not metrics:
        kind = "a regressor" if regressor else "a classifier"
        raise ValueError(
            f"metrics must be a non-empty subset of {valid} for {kind}, got {metrics!r}.")
    y = _regression_targets(y) if regressor else np.asarray(y)
    domains = check_domains(domains, len(y))
    labeled = ~unlabeled_mask(y, regressor)
    if not labeled.any():
        marker = "NaN" if regressor else "-1"
        raise ValueError(f"y has no labeled rows (every entry is {marker}); nothing to score.")
    X, y, domains = _safe_indexing(X, labeled), y[labeled], domains[labeled]
    y_pred = estimator.predict(X)
    proba = estimator.predict_proba(X) if "roc_auc" in metrics else None
    scores = {"accuracy": accuracy_score, "balanced_accuracy": balanced_accuracy_score,
              "rmse": root_mean_squared_error, "mae": mean_absolute_error, "r2": _r2}
    names = np.unique(domains)
    columns = {"domain": names, "n_samples": [int(np.sum(domains == n)) for n in names]}
    for metric in metrics:
        values = []
        for name in names:
            rows = domains == name
            if metric == "roc_auc":
                values.append(_auc(y[rows], proba[rows], estimator.classes_))
            else:
                values.append(float(scores[metric](y[rows], y_pred[rows])))
        columns[metric] = values
    return make_table(columns, as_frame)
