"""The backbone's weight decay chosen on held-out rows: ``optimizer__weight_decay="auto"``.

On tables, how much L2 a network needs depends on the problem: a few hundred
rows per site of a near-linear clinical table want a strong penalty (the
network then predicts held-out sites as well as a logistic regression), a
two-column nonlinear problem such as the rotated moons is flattened by that
same penalty. No single value served both on the development problems
(``benchmarks/results/tabular_defaults.md``), so the default on tabular X is
chosen per fit: plain ERM trained at each value of a grid, scored on a
held-out slice of the labeled rows, and the strongest penalty whose held-out
loss is within one standard error of the best kept (the "one standard
error" rule of Breiman, Friedman, Olshen and Stone's CART, and glmnet's
``lambda.1se``): under a distribution shift that the training rows cannot
show, the simpler model of two that fit the training domains equally well
is the safer one.
"""

import numpy as np
from sklearn.base import clone, is_regressor
from sklearn.utils import _safe_indexing, check_random_state

from .._validation import holdout_labeled, unlabeled_mask

#: the values ``optimizer__weight_decay="auto"`` chooses from, weakest first
WEIGHT_DECAY_GRID = (3e-3, 1e-2, 3e-2, 1e-1)

#: what ``"auto"`` trains with when no labeled row can be held out (too few rows); the
#: grid's value with the best mean over the development problems (tabular and UDA)
FALLBACK_WEIGHT_DECAY = 1e-2


def select_one_standard_error(losses):
    """Index of the last candidate whose mean loss is within one standard error of the best.

    ``losses`` has shape ``(n_candidates, n_rows)``: each candidate's loss on
    the same held-out rows, candidates ordered from the weakest to the
    strongest regularization. The standard error is that of the best
    candidate's mean loss.
    """
    losses = np.asarray(losses, dtype=float)
    means = losses.mean(axis=1)
    best = int(np.argmin(means))
    stderr = losses[best].std() / np.sqrt(losses.shape[1])
    return int(np.flatnonzero(means <= means[best] + stderr)[-1])


def held_out_rows(y, domains, fraction, random_state, regression=False):
    """Mask of the labeled rows held out: ``fraction`` of every domain (x class) cell.

    Drawn among the labeled rows alone, so that unlabeled rows, which ERM
    leaves out, change nothing: ERM fitted with or without them is the same
    model. Classes stratify the slice of a classifier's rows, domains alone a
    regressor's.
    """
    labeled = ~unlabeled_mask(y, regression=regression)
    valid = np.zeros(len(labeled), dtype=bool)
    if not labeled.any():
        return valid
    y, domains = np.asarray(y)[labeled], np.asarray(domains)[labeled]
    _, domain_codes = np.unique(domains, return_inverse=True)
    class_codes = None if regression else np.unique(y, return_inverse=True)[1]
    valid[labeled] = holdout_labeled(np.ones(len(y), dtype=bool), domain_codes, class_codes,
                                     fraction, check_random_state(random_state))
    return valid


def searches_weight_decay(estimator, X):
    """Whether fitting ``estimator`` on ``X`` would choose its weight decay (``"auto"``)."""
    setting = getattr(estimator, "_weight_decay_setting", None)
    tabular = hasattr(X, "iloc") or np.ndim(X) == 2
    return setting is not None and setting(tabular) == "auto"


def row_losses(model, X, y):
    """Each row's loss under ``model``: the log loss of a classifier, the squared error of a
    regressor."""
    if is_regressor(model):
        return (model.predict(X) - np.asarray(y, dtype=float)) ** 2
    proba = model.predict_proba(X)
    # a class the candidate never saw in training gets probability 0
    column = np.clip(np.searchsorted(model.classes_, y), 0, len(model.classes_) - 1)
    p = np.where(model.classes_[column] == y, proba[np.arange(len(y)), column], 0.0)
    return -np.log(np.clip(p, 1e-15, 1.0))


def choose_weight_decay(estimator, X, y, domains, sample_weight, valid, verbose=0):
    """Train ERM at each value of the grid without the ``valid`` rows; keep one by its loss there.

    Parameters
    ----------
    estimator : skda estimator
        The method; the candidates are its ERM baseline
        (:func:`~skda.model_selection._strength.baseline_estimator`) at each
        weight decay of :data:`WEIGHT_DECAY_GRID`.
    X, y, domains, sample_weight
        The training data as ``fit`` gets it (``domains`` may be None).
    valid : ndarray of bool
        The held-out labeled rows (:func:`held_out_rows`).
    verbose : int, default=0
        ``1`` prints a line per candidate.

    Returns
    -------
    weight_decay : float
        The value kept (:func:`select_one_standard_error`).
    results : dict of ndarray
        ``weight_decay``, ``validation_loss`` (mean over the held-out rows,
        NaN for a candidate that diverged), ``validation_loss_se`` (its
        standard error), ``fit_time`` and ``selected``.
    baseline : tuple
        ``(fitted ERM, seconds, None)`` of the value kept, trained without the
        ``valid`` rows (as a :class:`StrengthSearch` candidate is).
    """
    from ._strength import _fit_one, baseline_estimator

    y = np.asarray(y)
    domains = None if domains is None else np.asarray(domains)
    sample_weight = None if sample_weight is None else np.asarray(sample_weight)
    X_valid, y_valid = _safe_indexing(X, np.flatnonzero(valid)), y[valid]
    base = baseline_estimator(estimator)
    fitted, losses = [], []
    for value in WEIGHT_DECAY_GRID:
        fitted.append(_fit_one(clone(base).set_params(optimizer__weight_decay=value),
                               X, y, domains, sample_weight, ~valid))
        model, seconds, _ = fitted[-1]
        losses.append(np.full(len(y_valid), np.nan) if model is None
                      else row_losses(model, X_valid, y_valid))
        if verbose:
            done = "diverged" if model is None else f"held-out loss {losses[-1].mean():.4f}"
            print(f"[weight decay] {value:g}: {done} in {seconds:.1f} s", flush=True)
    ok = [k for k, (model, _, _) in enumerate(fitted) if model is not None]
    if not ok:
        raise fitted[-1][2]
    losses = np.array(losses)
    pick = ok[select_one_standard_error(losses[ok])]
    results = {
        "weight_decay": np.array(WEIGHT_DECAY_GRID),
        "validation_loss": losses.mean(axis=1),
        "validation_loss_se": losses.std(axis=1) / np.sqrt(losses.shape[1]),
        "fit_time": np.array([seconds for _, seconds, _ in fitted]),
        "selected": np.arange(len(WEIGHT_DECAY_GRID)) == pick,
    }
    return WEIGHT_DECAY_GRID[pick], results, fitted[pick]
