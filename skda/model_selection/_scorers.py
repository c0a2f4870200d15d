"""Scorers for choosing hyper-parameters when the target domain has no labels.

Every scorer here is a callable ``scorer(estimator, X, y)`` that
:class:`~sklearn.model_selection.GridSearchCV` accepts as ``scoring``. It
reads the validation fold the way skda reads training data: rows with
``y == -1`` are the unlabeled target, the other rows are labeled source
rows. A fold therefore needs both, as :class:`TrainingDomainValidation`
gives when the target's rows are in X with ``y = -1``. Higher is better.
"""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing

from .._validation import unlabeled_mask

LOSSES = ("zero_one", "log_loss")


class _FoldScorer:
    """Split the validation fold into labeled source rows and unlabeled target rows."""

    #: whether the score needs labeled source rows besides the target rows
    _needs_source = True

    def __call__(self, estimator, X, y, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__} does not support sample_weight.")
        if y is None:
            raise ValueError(f"{type(self).__name__} needs y, with -1 on the target rows.")
        y = np.asarray(y)
        target = unlabeled_mask(y)
        if not target.any():
            raise ValueError(
                f"{type(self).__name__} found no unlabeled rows (y == -1) in the validation "
                "fold. Put the target domain's rows in X with y = -1 and use a splitter that "
                "keeps some of them in every validation fold, such as "
                "skda.model_selection.TrainingDomainValidation.")
        if self._needs_source and target.all():
            raise ValueError(
                f"{type(self).__name__} needs labeled source rows in the validation fold "
                "besides the unlabeled target rows (y == -1); the fold has none.")
        return float(self._score(estimator, X, y, target))

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


def _check_loss(loss):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")


def _row_losses(estimator, X, y, loss):
    """Per-row zero-one or log loss of ``estimator`` on labeled rows."""
    if loss == "zero_one":
        return (estimator.predict(X) != y).astype(np.float64)
    proba = estimator.predict_proba(X)
    columns = np.searchsorted(estimator.classes_, y)
    if np.any(columns >= len(estimator.classes_)) or np.any(
            estimator.classes_[np.minimum(columns, len(estimator.classes_) - 1)] != y):
        raise ValueError("The validation fold has labels the estimator was not trained on.")
    picked = proba[np.arange(len(y)), columns]
    return -np.log(np.clip(picked, 1e-15, 1.0))


def _as_score(risk, loss):
    # zero-one: the estimated accuracy; log loss: the negated estimated loss
    return 1.0 - risk if loss == "zero_one" else -risk


def _flat(X):
    X = np.asarray(X, dtype=np.float64)
    return X.reshape(len(X), -1)


def _density_ratio(features, target, discriminator, cv, random_state):
    """Estimated ``p_target(x) / p_source(x)`` at the source rows.

    A probabilistic classifier learns target vs source; its odds, corrected
    for the two sides' sizes, estimate the ratio of the densities. The
    probabilities are cross-fitted (each row scored by a model that did not
    see it), so the weights are not fitted to the rows they weigh.
    """
    if discriminator is None:
        discriminator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    n_target, n_source = int(target.sum()), int((~target).sum())
    folds = min(cv, n_target, n_source)
    if folds < 2:
        raise ValueError(
            f"Estimating importance weights needs at least 2 source and 2 target rows in the "
            f"validation fold, got {n_source} and {n_target}.")
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    proba = cross_val_predict(clone(discriminator), features, target.astype(int),
                              cv=splitter, method="predict_proba")[:, 1]
    proba = np.clip(proba[~target], 1e-6, 1 - 1e-6)
    return proba / (1.0 - proba) * (n_source / n_target)


class PredictionEntropyScorer(_FoldScorer):
    """Negative mean entropy of the predicted class probabilities on the target rows.

    Scores a model by how confident it is on the unlabeled target: ``-mean
    H(p(.|x))`` over rows with ``y == -1``, in nats (0 is the best score,
    ``-log(n_classes)`` the worst). Needs no labeled rows.

    Assumes the cluster assumption: that target classes form separated
    clusters, so a model that fits them is confident. It fails when a model
    is confidently wrong, e.g. when adaptation collapses the target onto
    the wrong classes; use it with the labeled-source scorers, not alone.
    (Morerio et al., "Minimal-entropy correlation alignment", ICLR 2018.)

    Examples
    --------
    >>> from skda.model_selection import PredictionEntropyScorer
    >>> scorer = PredictionEntropyScorer()
    >>> # GridSearchCV(estimator, grid, scoring=scorer, cv=TrainingDomainValidation())
    """

    _needs_source = False

    def _score(self, estimator, X, y, target):
        proba = np.clip(estimator.predict_proba(_safe_indexing(X, target)), 1e-15, 1.0)
        return np.mean(np.sum(proba * np.log(proba), axis=1))


class ImportanceWeightedScorer(_FoldScorer):
    """Importance-weighted validation (IWCV) on the labeled source rows.

    Estimates the target risk as the source risk reweighted by
    ``w(x) = p_target(x) / p_source(x)`` (Sugiyama, Krauledat and Müller,
    JMLR 2007). The weights come from ``discriminator``, a classifier of
    target vs source rows of the validation fold on the *inputs*, cross-fitted
    in ``cv`` folds; the weighted mean is self-normalised
    (``sum(w * loss) / sum(w)``).

    Assumes covariate shift: ``p(y | x)`` is the same in source and target
    and only ``p(x)`` differs, and every target input is likely under the
    source (else the weights explode). It cannot see label or concept
    shift. With few validation rows the weights are noisy.

    Parameters
    ----------
    loss : {"log_loss", "zero_one"}, default="log_loss"
        ``"log_loss"``: the score is minus the estimated target log loss.
        ``"zero_one"``: the score is the estimated target accuracy; coarser
        (on a small fold, many candidates tie at the same accuracy).
    discriminator : classifier with predict_proba or None, default=None
        Classifier of target vs source; ``None``: logistic regression on
        standardised inputs (images are flattened).
    cv : int, default=5
        Folds of the cross-fitting of the weights.
    random_state : int or None, default=0
        Seeds the cross-fitting folds.
    """

    def __init__(self, loss="log_loss", discriminator=None, cv=5, random_state=0):
        self.loss = loss
        self.discriminator = discriminator
        self.cv = cv
        self.random_state = random_state

    def _features(self, estimator, X):
        return _flat(X)

    def _score(self, estimator, X, y, target):
        _check_loss(self.loss)
        if not isinstance(self.cv, numbers.Integral) or self.cv < 2:
            raise ValueError(f"cv must be an int >= 2, got {self.cv!r}.")
        weights = _density_ratio(self._features(estimator, X), target, self.discriminator,
                                 self.cv, self.random_state)
        losses = _row_losses(estimator, _safe_indexing(X, ~target), y[~target], self.loss)
        return _as_score(self._risk(losses, weights), self.loss)

    def _risk(self, losses, weights):
        return np.sum(weights * losses) / np.sum(weights)


class DeepEmbeddedValidationScorer(ImportanceWeightedScorer):
    """Deep embedded validation (DEV): importance weighting on learned features.

    As :class:`ImportanceWeightedScorer`, but the target-vs-source
    discriminator works on the model's features, ``estimator.transform(X)``,
    where adapted source and target are closer and the ratio is easier to
    estimate, and the weighted risk gets a control variate that cancels
    much of the weights' variance (You et al., ICML 2019)::

        L = w * loss,  eta = -cov(L, w) / var(w),
        risk = mean(L) + eta * mean(w) - eta

    Assumes covariate shift in feature space, and an estimator with a
    ``transform`` method (every skda estimator, and a Pipeline ending in
    one).

    Parameters
    ----------
    loss : {"log_loss", "zero_one"}, default="log_loss"
        ``"log_loss"``: the score is minus the estimated target log loss.
        ``"zero_one"``: the score is the estimated target accuracy; coarser
        (on a small fold, many candidates tie at the same accuracy).
    discriminator : classifier with predict_proba or None, default=None
        Classifier of target vs source on the features; ``None``: logistic
        regression on standardised features.
    cv : int, default=5
        Folds of the cross-fitting of the weights.
    random_state : int or None, default=0
        Seeds the cross-fitting folds.
    """

    def _features(self, estimator, X):
        if not hasattr(estimator, "transform"):
            raise TypeError(
                f"DeepEmbeddedValidationScorer needs an estimator with transform(X), got "
                f"{type(estimator).__name__}.")
        return _flat(estimator.transform(X))

    def _risk(self, losses, weights):
        weighted = weights * losses
        variance = np.var(weights, ddof=1)
        if variance <= 0:  # constant weights: the plain weighted mean
            return np.mean(weighted)
        eta = -np.cov(weighted, weights)[0, 1] / variance
        return np.mean(weighted) + eta * np.mean(weights) - eta


class SourceAccuracyScorer(_FoldScorer):
    """Accuracy on the labeled rows of the validation fold, ignoring ``y == -1``.

    The baseline that every unsupervised scorer should beat: it assumes the
    target behaves like the source (no shift). With
    :class:`TrainingDomainValidation` it is DomainBed's training-domain
    validation. Unlike ``scoring="accuracy"``, it does not count unlabeled
    rows as errors, and it needs no target rows.
    """

    _needs_source = True

    def __call__(self, estimator, X, y, sample_weight=None):
        y = np.asarray(y)
        labeled = ~unlabeled_mask(y)
        if not labeled.any():
            raise ValueError("SourceAccuracyScorer found no labeled rows in the validation fold.")
        weights = None if sample_weight is None else np.asarray(sample_weight)[labeled]
        correct = estimator.predict(_safe_indexing(X, labeled)) == y[labeled]
        return float(np.average(correct, weights=weights))
