"""Transductive evaluation of unsupervised domain adaptation, one target domain at a time."""

import inspect
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn import get_config
from sklearn.base import clone, is_regressor
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing

from .._table import make_table
from .._validation import UNLABELED, check_domains, unlabeled_mask, unlabeled_rows_expected


def _accepts_domains(estimator):
    fit = getattr(estimator, "fit", None)
    if fit is None:
        return False
    try:
        parameters = inspect.signature(fit).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let fit itself decide
        return True
    return any(p.name == "domains" or p.kind is p.VAR_KEYWORD for p in parameters)


def domain_fit_params(estimator, domains, caller):
    """Fit keyword arguments that hand ``domains`` to ``estimator`` (or a Pipeline's last step).

    Raises a TypeError naming ``caller`` when the estimator's ``fit`` takes
    no ``domains``, rather than letting ``fit`` fail on an unexpected keyword.
    """
    pipeline = isinstance(estimator, Pipeline)
    final = estimator.steps[-1][1] if pipeline else estimator
    if not _accepts_domains(final):
        where = f"a Pipeline ending in {type(final).__name__}" if pipeline else type(
            final).__name__
        raise TypeError(
            f"{caller} fits a clone of the estimator with fit(X, y, domains=...), but "
            f"{where} takes no domains. Use a skda estimator (skda.DANNClassifier, "
            "skda.ERMRegressor...) or a Pipeline ending in one.")
    if pipeline and not get_config()["enable_metadata_routing"]:
        return {f"{estimator.steps[-1][0]}__domains": domains}
    return {"domains": domains}


def check_unlabeled_not_a_class(estimator, caller):
    """Raise if a fitted classifier learned the unlabeled marker ``-1`` as one of its classes.

    A scikit-learn classifier fitted on rows with ``y == -1`` (the target
    rows of a domain-adaptation search) takes ``-1`` for a class: its
    predictions and probabilities then answer another question, and any
    score of them is meaningless.
    """
    classes = getattr(estimator, "classes_", None)
    if classes is None or np.ndim(classes) != 1 or not unlabeled_mask(classes).any():
        return
    name = type(estimator).__name__
    if isinstance(estimator, Pipeline):
        name = f"a Pipeline ending in {type(estimator.steps[-1][1]).__name__}"
    raise ValueError(
        f"{caller}: {name} has -1 among its classes_ ({np.asarray(classes).tolist()}): it "
        "treated the unlabeled rows (y == -1) as a class of their own. Use a skda estimator "
        "(or a Pipeline ending in one), which leaves rows with y == -1 out of its label loss, "
        "or drop the unlabeled rows from the estimator's training data.")


def regression_targets(y, caller):
    """``y`` of a regressor as float64, NaN marking the unlabeled rows; raise if not numbers."""
    try:
        return np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{caller}: the estimator is a regressor, so y must hold numbers (NaN for the "
            f"unlabeled rows), got dtype {np.asarray(y).dtype}.") from None


def _mask_target(y, target, regressor):
    """A copy of ``y`` with the target rows unlabeled: NaN for a regressor, -1 otherwise.

    For a regressor ``-1`` is a real target value, so hiding a label with it
    would train the model on fabricated targets.
    """
    if regressor:
        masked = np.array(y, dtype=np.float64)
        masked[target] = np.nan
        return masked
    # object dtype when y holds strings: a string array would store the marker as '-1'
    masked = np.array(y, dtype=object if np.asarray(y).dtype.kind in "US" else None)
    masked[target] = UNLABELED
    return masked


def _fit_and_score(estimator, X, y, domains, name, scorers, return_estimator, regressor,
                   fit_params):
    target = domains == name
    start = time.perf_counter()
    with unlabeled_rows_expected():  # the target's labels are hidden here, on purpose
        model = clone(estimator).fit(X, _mask_target(y, target, regressor), **fit_params)
    fit_time = time.perf_counter() - start
    if not regressor:
        check_unlabeled_not_a_class(model, "evaluate_transductive")
    start = time.perf_counter()
    scored = target & ~unlabeled_mask(y, regressor)  # target rows that have a true label
    scores = scorers(model, _safe_indexing(X, scored), y[scored])
    row = {"fit_time": fit_time, "score_time": time.perf_counter() - start,
           "n_target": int(scored.sum())}
    row.update({f"test_{k}": v for k, v in scores.items()})
    if return_estimator:
        row["estimator"] = model
    return row


def evaluate_transductive(estimator, X, y, domains, *, target_domains=None,
                          scoring=None, n_jobs=None, verbose=0,
                          return_estimator=False, as_frame=False):
    """Score unsupervised domain adaptation on each domain in turn, transductively.

    For each target domain, a clone of ``estimator`` is fitted on all rows,
    with the target's labels hidden in a copy of ``y`` (set to ``-1`` for a
    classifier, ``NaN`` for a regressor, for which ``-1`` is a real target
    value), and scored on the target's rows against their true labels. This
    is the protocol of the unsupervised DA papers: the model sees the
    target's inputs, never its labels. ``y`` itself is not modified.

    Parameters
    ----------
    estimator : estimator
        A skda estimator, or a Pipeline ending in one; ``fit`` receives
        ``domains`` (as ``<last step>__domains`` for a Pipeline unless
        metadata routing is enabled). It is read as a regressor when
        :func:`sklearn.base.is_regressor` says so (for a Pipeline, when its
        last step is one). A classifier that learns ``-1`` as a class, as
        scikit-learn's own do, is refused with a ValueError.
    X : array-like of shape (n_samples, n_features) or image array
        Inputs of every domain.
    y : array-like of shape (n_samples,)
        True labels of every row. Rows never labeled (``-1`` for a
        classifier, ``NaN`` for a regressor) are allowed; those of a target
        domain are left out of its score.
    domains : array-like of shape (n_samples,)
        Domain label of each row.
    target_domains : array-like or None, default=None
        Domains to use as target; ``None``: every domain.
    scoring : str, callable, list, tuple or dict, default=None
        As in :func:`sklearn.model_selection.cross_validate`. ``None``:
        ``"accuracy"`` for a classifier, ``"r2"`` (the coefficient of
        determination, as a regressor's ``score``) for a regressor.
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
    # a Pipeline is a regressor when its last step is
    regressor = is_regressor(estimator)
    y = regression_targets(y, "evaluate_transductive") if regressor else np.asarray(y)
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
    unlabeled = unlabeled_mask(y, regressor)
    unscorable = [t for t in targets if unlabeled[domains == t].all()]
    if unscorable:
        marker = "y is NaN" if regressor else "y == -1"
        raise ValueError(
            f"target domain(s) {np.asarray(unscorable).tolist()} have no labeled rows "
            f"({marker} on every row), so they cannot be scored. Pass the true labels: "
            "evaluate_transductive hides the target's labels from the model itself.")
    fit_params = domain_fit_params(estimator, domains, "evaluate_transductive")
    if scoring is None:
        scoring = "r2" if regressor else "accuracy"
    scorer = check_scoring(estimator, scoring=scoring)
    single = not isinstance(scoring, (list, tuple, set, dict))

    def scorers(model, X_target, y_target):
        result = scorer(model, X_target, y_target)
        return {"score": result} if single else result

    rows = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_and_score)(estimator, X, y, domains, name, scorers, return_estimator,
                                regressor, fit_params)
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
