"""Scorers for choosing hyper-parameters when the target domain has no labels.

Every scorer here is a callable ``scorer(estimator, X, y)`` that
:class:`~sklearn.model_selection.GridSearchCV` accepts as ``scoring``. It
reads the validation fold the way skda reads training data: the unlabeled
rows (``y == -1`` for a classifier, ``y`` NaN for a regressor) are the
target, the other rows are labeled source rows. A fold therefore needs
both, as :class:`TrainingDomainValidation` gives when the target's rows are
in X, unlabeled. Higher is better.

:class:`ImportanceWeightedScorer`, :class:`DeepEmbeddedValidationScorer`
and :class:`SourceAccuracyScorer` also score regressors (squared error,
R²); the others read predicted classes or class probabilities, and refuse
a regressor with a TypeError.
"""

import numbers
import warnings

import numpy as np
from scipy.special import softmax
from sklearn.base import clone, is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing, check_random_state

from .._params import NONE, RANDOM_STATE, Interval, Options, Satisfies, validate_params
from .._validation import UNLABELED, unlabeled_mask
from ._transductive import (
    check_unlabeled_not_a_class,
    domain_fit_params,
    regression_targets,
)

CLASSIFICATION_LOSSES = ("log_loss", "zero_one")
REGRESSION_LOSSES = ("squared_error",)


def _fold(scorer, estimator, y):
    """``(y, regressor)``: the fold's targets as the estimator's kind reads them.

    Refuses a classifier that learned ``-1`` as a class, and a regressor
    when the scorer reads classes.
    """
    name = type(scorer).__name__
    regressor = is_regressor(estimator)
    if regressor and scorer._reads_classes:
        raise TypeError(
            f"{name} reads {scorer._reads_classes}, so it scores classifiers only; got the "
            f"regressor {type(estimator).__name__}. For a regressor use "
            "ImportanceWeightedScorer, DeepEmbeddedValidationScorer or SourceAccuracyScorer.")
    if regressor:
        return regression_targets(y, name), True
    check_unlabeled_not_a_class(estimator, name)
    return np.asarray(y), False


class _FoldScorer:
    """Split the validation fold into labeled source rows and unlabeled target rows."""

    #: whether the score needs labeled source rows besides the target rows
    _needs_source = True
    #: what of a classifier's output the score reads (None: it also scores regressors)
    _reads_classes = None
    #: valid values of the scorer's parameters (checked at each call)
    _parameter_constraints = {}

    def __call__(self, estimator, X, y, sample_weight=None):
        validate_params(self)
        name = type(self).__name__
        if sample_weight is not None:
            raise ValueError(f"{name} does not support sample_weight.")
        if y is None:
            raise ValueError(
                f"{name} needs y, with the target rows unlabeled (y == -1 for a classifier, "
                "NaN for a regressor).")
        y, regressor = _fold(self, estimator, y)
        target = unlabeled_mask(y, regressor)
        marker = "y = NaN" if regressor else "y = -1"
        if not target.any():
            raise ValueError(
                f"{name} found no unlabeled rows ({marker}) in the validation fold. Put the "
                f"target domain's rows in X with {marker} and use a splitter that keeps some "
                "of them in every validation fold, such as "
                "skda.model_selection.TrainingDomainValidation.")
        if self._needs_source and target.all():
            raise ValueError(
                f"{name} needs labeled source rows in the validation fold besides the "
                f"unlabeled target rows ({marker}); the fold has none.")
        return float(self._score(estimator, X, y, target))

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


def _row_losses(estimator, X, y, loss):
    """Per-row zero-one, log or squared loss of ``estimator`` on labeled rows."""
    if loss == "squared_error":
        return (estimator.predict(X) - y) ** 2
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
    # zero-one: the estimated accuracy; log loss, squared error: the negated estimated loss
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
    separability = roc_auc_score(target, proba)
    proba = np.clip(proba[~target], 1e-6, 1 - 1e-6)
    weights = proba / (1.0 - proba) * (n_source / n_target)
    effective = weights.sum() ** 2 / np.sum(weights ** 2)
    if separability > 0.99 or effective < max(5.0, 0.05 * n_source):
        warnings.warn(
            f"Source and target are nearly separable in this space (target-vs-source AUC "
            f"{separability:.3f}; the importance weights' effective sample size is "
            f"{effective:.1f} of {n_source} source rows), so the weighted risk is "
            "unreliable. Prefer a scorer that needs no density ratio (PredictionEntropyScorer, "
            "MixValScorer) here.", UserWarning, stacklevel=4)
    return weights


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
    _reads_classes = "the predicted class probabilities"

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
    (``sum(w * loss) / sum(w)``). Scores classifiers and regressors: for a
    regressor the target rows are those with ``y`` NaN and the loss is the
    squared error.

    Assumes covariate shift: ``p(y | x)`` is the same in source and target
    and only ``p(x)`` differs, and every target input is likely under the
    source (else the weights explode). It cannot see label or concept
    shift. With few validation rows the weights are noisy. When the
    domains are nearly separable (high-dimensional inputs often are), the
    weights rest on a handful of rows; a ``UserWarning`` then gives their
    effective sample size.

    Parameters
    ----------
    loss : {"log_loss", "zero_one", "squared_error"} or None, default=None
        ``"log_loss"``: the score is minus the estimated target log loss.
        ``"zero_one"``: the score is the estimated target accuracy; coarser
        (on a small fold, many candidates tie at the same accuracy).
        ``"squared_error"`` (regressors only): the score is minus the
        estimated target mean squared error. ``None``: ``"log_loss"`` for a
        classifier, ``"squared_error"`` for a regressor.
    discriminator : classifier with predict_proba or None, default=None
        Classifier of target vs source; ``None``: logistic regression on
        standardised inputs (images are flattened).
    cv : int, default=5
        Folds of the cross-fitting of the weights.
    random_state : int or None, default=0
        Seeds the cross-fitting folds.
    """

    _parameter_constraints = {
        "loss": [NONE, Options(*CLASSIFICATION_LOSSES, *REGRESSION_LOSSES)],
        "discriminator": [NONE, Satisfies(lambda v: hasattr(v, "fit"), "an estimator")],
        "cv": [Interval(numbers.Integral, 2)],
        "random_state": [NONE, RANDOM_STATE],
    }

    def __init__(self, loss=None, discriminator=None, cv=5, random_state=0):
        self.loss = loss
        self.discriminator = discriminator
        self.cv = cv
        self.random_state = random_state

    def _features(self, estimator, X):
        return _flat(X)

    def _loss(self, estimator):
        regressor = is_regressor(estimator)
        if self.loss is None:
            return "squared_error" if regressor else "log_loss"
        if regressor and self.loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"loss={self.loss!r} is a classification loss, but {type(estimator).__name__} "
                "is a regressor: use loss='squared_error' (or None).")
        if not regressor and self.loss in REGRESSION_LOSSES:
            raise ValueError(
                f"loss={self.loss!r} is for regressors, but {type(estimator).__name__} is not "
                "one: use loss='log_loss' or 'zero_one' (or None).")
        return self.loss

    def _score(self, estimator, X, y, target):
        loss = self._loss(estimator)  # before the density ratio: a wrong loss fails fast
        weights = _density_ratio(self._features(estimator, X), target, self.discriminator,
                                 self.cv, self.random_state)
        losses = _row_losses(estimator, _safe_indexing(X, ~target), y[~target], loss)
        # a weighted mean of the row losses lies between their extremes; DEV's control
        # variate can leave that range when the weights are extreme, so it is clipped
        risk = np.clip(self._risk(losses, weights), losses.min(), losses.max())
        return _as_score(risk, loss)

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
    one). The estimate is clipped to the range of the row losses (the
    control variate can leave it when the weights are extreme), and a
    warning says when the weights rest on few rows. Scores classifiers and
    regressors (squared error, target rows with ``y`` NaN).

    Parameters
    ----------
    loss : {"log_loss", "zero_one", "squared_error"} or None, default=None
        ``"log_loss"``: the score is minus the estimated target log loss.
        ``"zero_one"``: the score is the estimated target accuracy; coarser
        (on a small fold, many candidates tie at the same accuracy).
        ``"squared_error"`` (regressors only): the score is minus the
        estimated target mean squared error. ``None``: ``"log_loss"`` for a
        classifier, ``"squared_error"`` for a regressor.
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


class SoftNeighborhoodDensityScorer(_FoldScorer):
    """Soft neighborhood density (SND) of the predictions on the target rows.

    Each target row's predicted probability vector is L2-normalised; the
    similarities to the other target rows, divided by ``temperature``, go
    through a softmax over the neighbours, and the score is the mean
    entropy of those neighbour distributions (Saito, Kim, Teterwak,
    Sclaroff, Darrell and Saenko, ICCV 2021). It is high when target rows
    form dense neighbourhoods of similar predictions: it favours models
    that cluster the target, without collapsing it onto one class (that
    makes every row a neighbour of every other, with a flat, high-entropy
    distribution, which SND also rewards: watch for it). Needs no labeled
    rows. Memory grows with the square of the target rows in the fold.

    Parameters
    ----------
    temperature : float, default=0.05
        Softmax temperature of the similarities (the paper's 0.05).
    """

    _needs_source = False
    _reads_classes = "the predicted class probabilities"
    _parameter_constraints = {"temperature": [Interval(numbers.Real, 0, closed="neither")]}

    def __init__(self, temperature=0.05):
        self.temperature = temperature

    def _score(self, estimator, X, y, target):
        proba = estimator.predict_proba(_safe_indexing(X, target))
        proba = proba / np.linalg.norm(proba, axis=1, keepdims=True)
        similarity = proba @ proba.T / self.temperature
        np.fill_diagonal(similarity, -np.inf)  # a row is not its own neighbour
        neighbours = softmax(similarity, axis=1)
        return -np.mean(np.sum(neighbours * np.log(np.clip(neighbours, 1e-15, 1.0)), axis=1))


class MixValScorer(_FoldScorer):
    """Mixed validation (MixVal): are mixtures of target rows predicted consistently?

    Each target row is mixed with another, ``ratio * x_i + (1 - ratio) *
    x_j`` in input space, and the mixture should keep ``x_i``'s predicted
    class (Hu, Liang, Wang, Tang, Li, Hu and Tan, NeurIPS 2023). The score
    is the accuracy of the model's prediction on the mixtures against that
    pseudo-label, over pairs predicted as the same class (``"intra"``:
    are classes compact?), as different classes (``"inter"``: do decision
    boundaries fall between the target clusters?), or their mean
    (``"both"``, default). Needs no labeled rows and no density ratio.
    A model that predicts a single class for the whole target has no
    "inter" pairs; those then count as 0, since a collapsed target is the
    failure this scorer must not reward.

    Assumes that the target classes are separated in input space (the
    cluster assumption, as entropy does) and that mixing two inputs makes
    sense (tabular features, images of the same size).

    Parameters
    ----------
    ratio : float, default=0.55
        Weight of the first row in each mixture, in ``(0.5, 1)``: the
        paper's fixed 0.55.
    pairs : {"both", "intra", "inter"}, default="both"
        Which pairs are scored.
    random_state : int, RandomState instance or None, default=0
        Seeds the pairing of the rows.
    """

    _needs_source = False
    _reads_classes = "the predicted classes"
    _parameter_constraints = {
        "ratio": [Interval(numbers.Real, 0.5, 1.0, closed="neither")],
        "pairs": [Options("both", "intra", "inter")],
        "random_state": [NONE, RANDOM_STATE],
    }

    def __init__(self, ratio=0.55, pairs="both", random_state=0):
        self.ratio = ratio
        self.pairs = pairs
        self.random_state = random_state

    def _score(self, estimator, X, y, target):
        X_target = _safe_indexing(X, target)
        values = np.asarray(X_target, dtype=np.float64)
        pseudo = estimator.predict(X_target)
        partner = check_random_state(self.random_state).permutation(len(values))
        mixed = self.ratio * values + (1.0 - self.ratio) * values[partner]
        if hasattr(X_target, "columns"):  # keep a DataFrame's feature names
            mixed = X_target.__class__(mixed, columns=X_target.columns)
        kept = estimator.predict(mixed) == pseudo
        same = pseudo == pseudo[partner]
        intra = kept[same].mean() if same.any() else 0.0
        inter = kept[~same].mean() if (~same).any() else 0.0
        return {"both": (intra + inter) / 2, "intra": intra, "inter": inter}[self.pairs]


class CircularValidationScorer(_FoldScorer):
    """Circular (reverse) validation: can the target's predicted labels teach the source back?

    The fitted model labels the target rows of the validation fold; a
    fresh clone of it is then trained the other way round, on those
    pseudo-labeled target rows with the source rows unlabeled (as a
    source domain and a target domain), and scored by its balanced
    accuracy on the source rows' true labels (Bruzzone and Marconcini,
    TPAMI 2010; Zhong et al., ECML 2010). A model whose target labels are
    wrong in a way that cannot be adapted back scores low.

    Each call fits a clone on the validation fold, so scoring costs about
    one more fit per candidate, on the fold's rows; with a budget counted in
    optimizer steps that fit is as long as the model's own. The reverse
    fit treats all source rows as one domain. The estimator's ``fit`` must
    take ``domains``: a skda classifier, or a Pipeline ending in one.
    """

    _reads_classes = "the predicted classes"

    def _score(self, estimator, X, y, target):
        domains = np.where(target, "pseudo-labeled target", "source")
        # before predicting, so that an estimator that cannot be refitted is refused even
        # when the target gets a single class and no refit happens
        fit_params = domain_fit_params(estimator, domains, type(self).__name__)
        source = ~target
        pseudo = estimator.predict(_safe_indexing(X, target))
        if len(np.unique(pseudo)) < 2:  # nothing to learn back: every source row gets one class
            return balanced_accuracy_score(y[source], np.full(source.sum(), pseudo[0]))
        reverse = np.empty(len(y), dtype=object)
        reverse[source] = UNLABELED
        reverse[target] = pseudo
        if all(isinstance(v, numbers.Integral) for v in pseudo):
            reverse = reverse.astype(np.int64)
        model = clone(estimator).fit(X, reverse, **fit_params)
        check_unlabeled_not_a_class(model, type(self).__name__)
        return balanced_accuracy_score(y[source], model.predict(_safe_indexing(X, source)))


class SourceAccuracyScorer(_FoldScorer):
    """Accuracy (R² for a regressor) on the labeled rows of the validation fold.

    The baseline that every unsupervised scorer should beat: it assumes the
    target behaves like the source (no shift). With
    :class:`TrainingDomainValidation` it is DomainBed's training-domain
    validation. It leaves out the unlabeled rows (``y == -1`` for a
    classifier, ``y`` NaN for a regressor), which ``scoring="accuracy"``
    would count as errors, and it needs no target rows. For a regressor
    the score is the coefficient of determination R², as
    ``scoring="r2"`` on the labeled rows.
    """

    def __call__(self, estimator, X, y, sample_weight=None):
        y, regressor = _fold(self, estimator, y)
        labeled = ~unlabeled_mask(y, regressor)
        if not labeled.any():
            marker = "y = NaN" if regressor else "y = -1"
            raise ValueError(
                f"SourceAccuracyScorer found no labeled rows in the validation fold (every "
                f"row has {marker}).")
        weights = None if sample_weight is None else np.asarray(sample_weight)[labeled]
        y_pred = estimator.predict(_safe_indexing(X, labeled))
        if regressor:
            return float(r2_score(y[labeled], y_pred, sample_weight=weights))
        return float(np.average(y_pred == y[labeled], weights=weights))
