"""Transductive evaluation of unsupervised domain adaptation, one target domain at a time."""

import time

import numpy as np
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing

from .._table import make_table
from .._validation import UNLABELED, check_domains, unlabeled_mask


def domain_fit_params(estimator, domains):
    """Fit keyword arguments that hand ``domains`` to ``estimator`` (or a Pipeline's last step)."""
    if isinstance(estimator, Pipeline) and not get_config()["enable_metadata_routing"]:
        return {f"{estimator.steps[-1][0]}__domains": domains}
    return {"domains": domains}


def _mask_target(y, target):
    """A copy of ``y`` with the target rows set to -1 (object dtype when y holds strings)."""
    masked = np.array(y, dtype=object if np.asarray(y).dtype.kind in "US" else None)
    masked[target] = UNLABELED
    return masked


def _fit_and_score(estimator, X, y, domains, name, scorers, return_estimator):
    target = domains == name
    start = time.perf_counter()
    model = clone(estimator).fit(X, _mask_target(y, target),
                                 **domain_fit_params(estimator, domains))
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    scored = target & ~unlabeled_mask(y)  # target rows that have a true label
    scores = scorers(model, _safe_indexing(X, scored), y[scored])
    row = {"fit_time": fit_time, "score_time": time.perf_counter() - start,
           "n_target": int(scored.sum())}
    row.update({f"test_{k}": v for k, v in scores.items()})
    if return_estimator:
        row["estimator"] = model
    return row


def evaluate_transductive(estimator, X, y, domains, *, target_domains=None,
                          scoring="accuracy", n_jobs=None, verbose=0,
                          return_estimator=False, as_frame=False):
    """Score unsupervised domain adaptation on each domain in turn, transductively.

    For each target domain, a clone of ``estimator`` is fitted on all rows,
    with the target's labels hidden (set to ``-1`` in a copy of ``y``), and
    scored on the target's rows against their true labels. This is the
    protocol of the unsupervised DA papers: the model sees the target's
    inputs, never its labels. ``y`` itself is not modified.

    Parameters
    ----------
    estimator : estimator
        A skda estimator, or a Pipeline ending in one; ``fit`` receives
        ``domains`` (as ``<last step>__domains`` for a Pipeline unless
        metadata routing is enabled).
    X : array-like of shape (n_samples, n_features) or image array
        Inputs of every domain.
    y : array-like of shape (n_samples,)
        True labels of every row (``-1`` allowed for rows never labeled;
        such rows of a target domain are left out of its score).
    domains : array-like of shape (n_samples,)
        Domain label of each row.
    target_domains : array-like or None, default=None
        Domains to use as target; ``None``: every domain.
    scoring : str, callable, list, tuple or dict, default="accuracy"
        As in :func:`sklearn.model_selection.cross_validate`.
    n_jobs : int or None, default=None
        Target domains fitted in parallel (joblib; ``-1`` for all cores).
    verbose : int, default=0
        joblib's progress messages.
    return_estimator : bool, default=False
        Add each fitted model in an ``estimator`` column.
    as_frame : bool, default=False
        Return a pandas DataFrame instead of a dict of arrays.

    Returns
    -------
    table : dict of ndarray or pandas.DataFrame
        One row per target domain: ``domain``, ``n_target`` (labeled target
        rows scored), ``fit_time``, ``score_time`` and ``test_<metric>``
        (``test_score`` for a single metric).

    Examples
    --------
    >>> from skda import DANNClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> from skda.model_selection import evaluate_transductive
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> table = evaluate_transductive(DANNClassifier(max_epochs=5, random_state=0),
    ...                               X, y, domains, target_domains=["target"])
    >>> table["domain"]
    array(['target'], dtype='<U6')
    """
    if not hasattr(estimator, "fit"):
        raise TypeError(f"estimator must be an estimator with fit, got {estimator!r}.")
    y = np.asarray(y)
    domains = check_domains(domains, len(y))
    names = np.unique(domains)
    if target_domains is None:
        targets = names
    else:
        targets = np.asarray(target_domains).ravel()
        unknown = [t for t in targets if t not in set(names.tolist())]
        if unknown:
            raise ValueError(
                f"target_domains {unknown} are not among the domains {names.tolist()}.")
    if len(names) < 2:
        raise ValueError(
            f"evaluate_transductive needs at least 2 domains (sources and a target), got "
            f"{len(names)}.")
    unscorable = [t for t in targets if unlabeled_mask(y[domains == t]).all()]
    if unscorable:
        raise ValueError(
            f"target domain(s) {np.asarray(unscorable).tolist()} have no labeled rows "
            "(y == -1 on every row), so they cannot be scored. Pass the true labels: "
            "evaluate_transductive hides the target's labels from the model itself.")
    scorer = check_scoring(estimator, scoring=scoring)
    single = not isinstance(scoring, (list, tuple, set, dict))

    def scorers(model, X_target, y_target):
        result = scorer(model, X_target, y_target)
        return {"score": result} if single else result

    rows = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_and_score)(estimator, X, y, domains, name, scorers, return_estimator)
        for name in targets)
    columns = {"domain": list(targets)}
    for key in rows[0]:
        columns[key] = [row[key] for row in rows]
    if return_estimator:  # a 1-D object array: numpy would try to unpack the models
        models = np.empty(len(rows), dtype=object)
        for k, model in enumerate(columns["estimator"]):
            models[k] = model
        columns["estimator"] = models
    return make_table(columns, as_frame)
