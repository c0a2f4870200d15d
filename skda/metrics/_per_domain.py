"""Scores of a fitted classifier computed separately on each domain."""

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.utils import _safe_indexing

from .._table import make_table
from .._validation import check_domains, unlabeled_mask

METRICS = ("accuracy", "balanced_accuracy", "roc_auc")


def _auc(y, proba, classes):
    present = np.unique(y)
    if len(present) < 2:
        return np.nan  # undefined with one class
    if len(classes) == 2:
        return roc_auc_score(y == classes[1], proba[:, 1])
    if len(present) < len(classes):
        return np.nan  # one-vs-rest needs every class in the domain
    return roc_auc_score(y, proba, multi_class="ovr", labels=classes)


def per_domain_scores(estimator, X, y, domains, *, metrics=METRICS, as_frame=False):
    """Accuracy, balanced accuracy and ROC AUC of a fitted classifier on each domain.

    The model predicts all rows once; each metric is then computed on each
    domain's labeled rows (rows with ``y == -1`` are left out).

    Parameters
    ----------
    estimator : fitted classifier
        Needs ``predict``, and ``predict_proba`` and ``classes_`` for
        ``"roc_auc"``.
    X : array-like of shape (n_samples, n_features) or image array
        Inputs.
    y : array-like of shape (n_samples,)
        True labels; ``-1`` for unlabeled rows.
    domains : array-like of shape (n_samples,)
        Domain label of each row.
    metrics : sequence of {"accuracy", "balanced_accuracy", "roc_auc"}, \
default=all three
        Which scores to compute. AUC is one-vs-rest for more than two
        classes and NaN in a domain that lacks a class.
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
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty subset of {METRICS}, got {metrics!r}.")
    y = np.asarray(y)
    domains = check_domains(domains, len(y))
    labeled = ~unlabeled_mask(y)
    if not labeled.any():
        raise ValueError("y has no labeled rows (every entry is -1); nothing to score.")
    X, y, domains = _safe_indexing(X, labeled), y[labeled], domains[labeled]
    y_pred = estimator.predict(X)
    proba = estimator.predict_proba(X) if "roc_auc" in metrics else None
    names = np.unique(domains)
    columns = {"domain": names, "n_samples": [int(np.sum(domains == n)) for n in names]}
    for metric in metrics:
        values = []
        for name in names:
            rows = domains == name
            if metric == "accuracy":
                values.append(accuracy_score(y[rows], y_pred[rows]))
            elif metric == "balanced_accuracy":
                values.append(balanced_accuracy_score(y[rows], y_pred[rows]))
            else:
                values.append(_auc(y[rows], proba[rows], estimator.classes_))
        columns[metric] = values
    return make_table(columns, as_frame)
