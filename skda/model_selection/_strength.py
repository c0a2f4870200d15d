"""The adaptation strength chosen without target labels, with plain ERM among the candidates.

:class:`StrengthSearch` trains one model per candidate strength, strength 0
being the ERM a user would otherwise fit, on all rows but a held-out slice
of the labeled rows, and keeps one by a label-free rule; the rules are
plain functions of the candidates' predictions (``select_*``), so that the
benchmark that chose among them scores exactly what the estimator does.
"""

import numbers
import time

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_regressor,
)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.validation import check_is_fitted

from .._params import NONE, RANDOM_STATE, Interval, Options, Satisfies, validate_params
from .._validation import holdout_labeled, unlabeled_mask, unlabeled_rows_expected
from ..engine import DivergenceError
from ._weight_decay import choose_weight_decay, searches_weight_decay

#: the rules ``StrengthSearch(selection=...)`` offers
SELECTIONS = ("entropy", "consensus", "source")


# -- the candidates ---------------------------------------------------------------------------


def baseline_estimator(estimator):
    """The ERM a user would fit instead of ``estimator``: strength 0 of any method.

    A method at strength 0 is not plain ERM: DANN keeps its learning rate of
    1e-2 and its annealing, for one. The baseline is :class:`ERMClassifier`
    (or :class:`ERMRegressor`) with every setting of ``estimator`` that ERM
    has (network, batch size, training length, weights, early stopping, seed,
    device, ``module__*`` and ``optimizer__*``). The learning rate too, but
    for a method whose default learning rate is its own (DANN's family):
    that one was set for the method's schedule, and ERM keeps its default.
    """
    import inspect

    from ..methods import ERMClassifier, ERMRegressor

    erm = ERMRegressor if is_regressor(estimator) else ERMClassifier
    own = set(erm._get_param_names())
    default_lr = inspect.signature(type(estimator)).parameters.get("lr")
    if default_lr is None or default_lr.default != inspect.signature(erm).parameters["lr"].default:
        own.discard("lr")
    params = estimator.get_params(deep=False)
    shared = {k: v for k, v in params.items()
              if k in own or k.startswith(("module__", "optimizer__"))}
    return erm(**clone(shared, safe=False))


def candidate_estimators(estimator, param, strengths):
    """One unfitted estimator per strength: :func:`baseline_estimator` for 0."""
    return [baseline_estimator(estimator) if s == 0 else clone(estimator).set_params(**{param: s})
            for s in strengths]


# -- the label-free rules -------------------------------------------------------------------


def ensemble_agreement(target_proba):
    """Each candidate's agreement with the candidates' mean prediction on the target rows.

    ``target_proba`` has shape ``(n_candidates, n_target, n_classes)``. The
    mean of the candidates' probabilities is a pseudo-label for each target
    row; a candidate's score is the share of rows whose predicted class is
    that pseudo-label (EnsV; Hu, Liang, Wang, Tang, Li, Hu and Tan, 2023).
    """
    target_proba = np.asarray(target_proba, dtype=float)
    pseudo = target_proba.mean(axis=0).argmax(axis=1)
    return (target_proba.argmax(axis=2) == pseudo).mean(axis=1)


def validation_accuracy(valid_proba, valid_y):
    """Each candidate's accuracy on the held-out labeled rows, ``(n_candidates,)``."""
    return (np.asarray(valid_proba).argmax(axis=2) == np.asarray(valid_y)).mean(axis=1)


def _first_best(scores):
    """Index of the best score; ties go to the first (the weaker strength)."""
    scores = np.asarray(scores, dtype=float)
    return int(np.flatnonzero(scores == scores.max())[0])


def select_source(valid_proba, valid_y):
    """Index of the candidate most accurate on the held-out labeled rows.

    DomainBed's training-domain validation: the rule for domain
    generalization, where the held-out slice comes from every training
    domain. Ties go to the weaker strength.
    """
    return _first_best(validation_accuracy(valid_proba, valid_y))


def prediction_entropy(target_proba):
    """Each candidate's mean entropy of its predicted probabilities on the target rows."""
    target_proba = np.asarray(target_proba, dtype=float)
    return -(target_proba * np.log(np.clip(target_proba, 1e-12, None))).sum(axis=2).mean(axis=1)


def select_entropy(target_proba, valid_proba, valid_y, tolerance=1.0):
    """Index of the candidate most confident on the target rows, unless it costs labels.

    The candidate of lowest mean prediction entropy on the target rows
    (:func:`prediction_entropy`) is kept when its accuracy on the held-out
    labeled rows is within ``tolerance`` standard errors of the baseline's
    (candidate 0, ERM); otherwise the baseline is
    (:func:`checked_against_baseline`). Entropy alone favours over-aligned
    models, confident and wrong together; they usually lose labeled
    accuracy too, which the check catches.
    """
    pick = int(np.argmin(prediction_entropy(target_proba)))
    return checked_against_baseline(pick, valid_proba, valid_y, tolerance)


def select_consensus(target_proba, valid_proba, valid_y, tolerance=1.0):
    """Index of the candidate closest to the candidates' consensus, unless it costs labels.

    The candidate that agrees most with the mean prediction of all
    candidates on the target rows (:func:`ensemble_agreement`) is kept when
    its accuracy on the held-out labeled rows is within ``tolerance``
    standard errors of the baseline's (candidate 0, ERM); otherwise the
    baseline is. The consensus of models trained at several strengths
    discounts both the over-aligned ones (confident, and wrong together)
    and the unadapted one; the check on labeled rows catches a consensus
    that has drifted from the labels.
    """
    pick = _first_best(ensemble_agreement(target_proba))
    return checked_against_baseline(pick, valid_proba, valid_y, tolerance)


def checked_against_baseline(pick, valid_proba, valid_y, tolerance=1.0):
    """``pick``, or 0 (the baseline) when it is less accurate on the held-out labeled rows.

    The pick is kept when its accuracy minus the baseline's, row by row, is
    above ``-tolerance`` standard errors of that paired difference.
    """
    correct = np.asarray(valid_proba).argmax(axis=2) == np.asarray(valid_y)
    difference = correct[pick].astype(float) - correct[0]
    stderr = difference.std() / np.sqrt(max(len(difference), 1))
    return pick if difference.mean() >= -tolerance * max(stderr, 1e-12) else 0


def target_class_mix_shift(target_proba):
    """How far each candidate moves the target's predicted class mix from the baseline's.

    The total variation (half the L1 distance), in [0, 1], between a
    candidate's mean predicted class probabilities on the target rows and
    those of candidate 0 (ERM): 0 for the baseline itself.

    Parameters
    ----------
    target_proba : array-like of shape (n_candidates, n_target, n_classes)
        Each candidate's predicted probabilities on the target rows.
    """
    means = np.asarray(target_proba, dtype=float).mean(axis=1)
    return 0.5 * np.abs(means - means[0]).sum(axis=1)


def select_strength(selection, valid_proba, valid_y, target_proba=None, tolerance=1.0,
                    mix_tolerance=0.1):
    """Index of the candidate :class:`StrengthSearch`'s rule keeps, from their predictions.

    ``target_proba`` None (domain generalization) or ``selection="source"``:
    :func:`select_source`; else :func:`select_entropy` or
    :func:`select_consensus` with ``tolerance``. With target rows and
    ``selection="source"``, the candidates whose
    :func:`target_class_mix_shift` exceeds ``mix_tolerance`` are left out
    first (None: none is); candidate 0, the baseline (ERM), never is. The
    entropy and consensus rules read the target's predictions already; on
    the development suite the same check cost two of their methods 1-2
    points (docs: "What the benchmarks show").
    """
    valid_proba = np.asarray(valid_proba)
    running = np.arange(len(valid_proba))
    if target_proba is not None:
        target_proba = np.asarray(target_proba)
        if selection == "source" and mix_tolerance is not None:
            running = np.flatnonzero(target_class_mix_shift(target_proba) <= mix_tolerance)
            running = np.union1d([0], running)
        target_proba = target_proba[running]
    valid_proba = valid_proba[running]
    if target_proba is None or selection == "source":
        pick = select_source(valid_proba, valid_y)
    else:
        rule = select_entropy if selection == "entropy" else select_consensus
        pick = rule(target_proba, valid_proba, valid_y, tolerance)
    return int(running[pick])


def between_domain_label_shift(y, domains):
    """How far the labeled domains' class shares differ: their mean total variation.

    Each domain's class shares are compared with the pooled shares of all
    rows (half the L1 distance); the result is the mean over domains,
    weighted by their rows, in [0, 1): 0 when every domain has the same class
    mix, and 0 for a single domain. Weighting by rows keeps a handful of
    rows from a rare domain from reading as a shift.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of the labeled rows only.
    domains : array-like of shape (n_samples,)
        Their domains.
    """
    counts = contingency_matrix(np.asarray(domains), np.asarray(y)).astype(float)
    rows = counts.sum(axis=1)
    pooled = counts.sum(axis=0) / rows.sum()
    distance = 0.5 * np.abs(counts / rows[:, None] - pooled).sum(axis=1)
    return float(distance @ rows / rows.sum())


def label_shift_keeps_erm(label_shift, unsupervised, aligns_domains, tolerance):
    """Whether the class-mix check keeps ERM without trying adaptation.

    The check applies in unsupervised DA, and in domain generalization to a
    method that aligns the domains' features; ``tolerance`` None turns it
    off. ``label_shift`` is :func:`between_domain_label_shift` of the
    labeled rows.
    """
    checked = unsupervised or aligns_domains
    return bool(checked and tolerance is not None and label_shift > tolerance)


# -- the meta-estimator ---------------------------------------------------------------------


def _fit_one(estimator, X, y, domains, sample_weight, rows):
    """``(fitted estimator, seconds, None)``, or ``(None, seconds, error)`` if training diverged."""
    start = time.perf_counter()
    # sample_weight only when given: a wrapped estimator need not take it
    weights = {} if sample_weight is None else {"sample_weight": sample_weight[rows]}
    try:
        with unlabeled_rows_expected():  # ERM, the baseline, leaves the target rows out
            estimator.fit(_safe_indexing(X, rows), y[rows],
                          domains=None if domains is None else domains[rows], **weights)
    except DivergenceError as error:
        return None, time.perf_counter() - start, error
    return estimator, time.perf_counter() - start, None


class StrengthSearch(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Choose a method's adaptation strength without target labels, ERM included.

    Trains one model per candidate strength on all rows but a held-out slice
    of the labeled rows (``validation_fraction`` of every domain's labeled
    rows, stratified by class), strength 0 being plain ERM with ERM's
    settings (:func:`baseline_estimator`), keeps one by a label-free rule,
    and refits it on all rows. Cost: one fit per candidate (strength 0
    included) and the refit; the candidates run in parallel with
    ``n_jobs``. A candidate whose training diverges is left out (its
    ``cv_results_["error"]`` says why); the baseline's divergence is raised.

    The rule depends on the setting, read from ``y``:

    * unsupervised domain adaptation (some rows unlabeled, ``y == -1``):
      ``selection="entropy"`` keeps the candidate whose predictions on the
      unlabeled rows are the most confident (lowest mean entropy), unless
      its accuracy on the held-out labeled rows falls more than
      ``tolerance`` standard errors below ERM's, in which case ERM is kept
      (:func:`select_entropy`); ``"consensus"`` puts the candidate that
      agrees most with the candidates' mean prediction through the same
      check (:func:`select_consensus`);
    * domain generalization (every row labeled) or ``selection="source"``:
      the candidate most accurate on the held-out labeled rows (DomainBed's
      training-domain validation, :func:`select_source`).

    In unsupervised DA with ``selection="source"`` (MCC's rule), a
    candidate that moves the target's predicted class mix more than
    ``target_mix_tolerance`` from ERM's (:func:`target_class_mix_shift`, the
    total variation between their mean predicted class probabilities on the
    unlabeled rows) is left out first (:func:`select_strength`). A method
    that pushes the target's predictions towards balanced classes (MCC on a
    target that holds 86% of one class) can stay accurate on the labeled
    source rows that check it while reversing the target's ranking; the
    target's predicted class mix moving far from ERM's is the sign, and
    needs no target label.

    In unsupervised DA, and in domain generalization for a method that
    aligns the domains' features (DANN, CDANN, CDAN, CAADA, Deep CORAL,
    MMD), the labeled domains' class mix is checked first:
    when their class shares differ by more than ``label_shift_tolerance``
    (:func:`between_domain_label_shift`, the row-weighted total variation
    from the pooled shares), ERM is kept and no other candidate is trained.
    Alignment presumes the domains share their class mix: when they do not,
    a feature space in which domains cannot be told apart mixes the classes
    (Zhao, Tachet des Combes, Zhang and Gordon, 2019), and the labeled
    domains differing is the evidence, available without target labels, that
    this problem's domains do. Only several labeled domains give that
    evidence: with one, the check passes.

    ``DANNClassifier(lambda_="auto")`` and the other methods' ``"auto"``
    strength run this search with its defaults (set
    ``joblib.parallel_config(n_jobs=...)`` to train their candidates in
    parallel). No label-free rule is safe: on the problems of
    ``benchmarks/results/auto_strength_report.md`` this one keeps part of
    the best strength's gain and still loses to ERM on some problems; the
    table says how often and by how much.

    Parameters
    ----------
    estimator : skda classifier
        The method, with every setting but the strength as it should train.
    param : str, default="lambda\\_"
        Name of the strength parameter of ``estimator``.
    strengths : sequence of float, default=(0.0, 0.1, 0.3, 1.0, 3.0)
        Candidate strengths; 0 (ERM) is added when missing.
    selection : {"entropy", "consensus", "source"}, default="entropy"
        Rule for unsupervised domain adaptation (see above); domain
        generalization always uses ``"source"``.
    tolerance : float, default=1.0
        How many standard errors of held-out accuracy the entropy or
        consensus pick may lose to ERM before ERM is kept instead.
    label_shift_tolerance : float or None, default=0.1
        Largest difference between the labeled domains' class mixes
        (:func:`between_domain_label_shift`) at which adaptation is still
        tried in unsupervised DA, or by an aligning method in domain
        generalization; above it, ERM is kept. ``None``: never checked.
    target_mix_tolerance : float or None, default=0.1
        In unsupervised DA with ``selection="source"``, largest change of
        the target's predicted class mix from ERM's
        (:func:`target_class_mix_shift`) at which a candidate stays in the
        running. ``None``: never checked.
    validation_fraction : float, default=0.2
        Share of every domain's labeled rows held out to check candidates.
    refit : bool, default=True
        Refit the chosen strength on all rows (one more fit). ``False``
        keeps the candidate trained without the held-out rows.
    n_jobs : int or None, default=None
        Candidates trained in parallel (joblib; ``-1``: all cores).
    verbose : int, default=0
        ``1`` prints a line per candidate trained (strength, seconds).
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out slice.

    Attributes
    ----------
    strength_ : float
        The strength kept (0: ERM).
    best_estimator_ : estimator
        The fitted model of that strength.
    setting_ : {"unsupervised DA", "domain generalization"}
        The setting read from ``y``.
    label_shift_ : float
        The labeled domains' difference in class mix
        (:func:`between_domain_label_shift`).
    guarded_ : bool
        True when that difference exceeded ``label_shift_tolerance`` where
        it is checked, so that ERM was kept without training the other
        candidates (``cv_results_`` then holds ERM alone).
    cv_results_ : dict of ndarray
        One entry per candidate: ``strength``, ``validation_accuracy``,
        ``target_entropy``, ``target_agreement`` and ``target_mix_shift``
        (NaN in domain generalization and for a candidate that diverged), ``fit_time``,
        ``error`` (why a candidate diverged, else None) and ``selected``
        (True for the one kept).
    weight_decay_search_ : dict of ndarray or None
        When the estimator's weight decay is ``"auto"`` (its default on
        tabular X), the weight decay is chosen first, once, with ERM on the
        same held-out rows (one fit per value; the one kept is the strength-0
        candidate), and every candidate trains at that value: this holds the
        per-value results (``weight_decay``, ``validation_loss``,
        ``validation_loss_se``, ``fit_time``, ``selected``). None otherwise.
    classes_ : ndarray
        Class labels of ``best_estimator_``.

    Examples
    --------
    >>> import numpy as np
    >>> from skda import DANNClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> from skda.model_selection import StrengthSearch
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> y_train = np.where(domains == "target", -1, y)
    >>> search = StrengthSearch(DANNClassifier(max_epochs=5, random_state=0),
    ...                         strengths=(0, 1), random_state=0)
    >>> search.fit(X, y_train, domains=domains).cv_results_["strength"]
    array([0., 1.])
    """

    _parameter_constraints = {
        "estimator": [Satisfies(lambda v: hasattr(v, "fit"), "an estimator")],
        "param": [Satisfies(lambda v: isinstance(v, str), "a str")],
        "strengths": [Satisfies(
            lambda v: hasattr(v, "__len__") and len(v) > 0 and all(
                isinstance(s, numbers.Real) and np.isfinite(s) and s >= 0 for s in v),
            "a non-empty sequence of finite, non-negative numbers")],
        "selection": [Options(*SELECTIONS)],
        "tolerance": [Interval(numbers.Real, 0)],
        "label_shift_tolerance": [NONE, Interval(numbers.Real, 0)],
        "target_mix_tolerance": [NONE, Interval(numbers.Real, 0)],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "refit": [Satisfies(lambda v: isinstance(v, (bool, np.bool_)), "a bool")],
        "n_jobs": [NONE, Interval(numbers.Integral, None)],
        "verbose": [Interval(numbers.Integral, 0)],
        "random_state": [NONE, RANDOM_STATE],
    }

    def __init__(self, estimator, *, param="lambda_", strengths=(0.0, 0.1, 0.3, 1.0, 3.0),
                 selection="entropy", tolerance=1.0, label_shift_tolerance=0.1,
                 target_mix_tolerance=0.1, validation_fraction=0.2, refit=True, n_jobs=None,
                 verbose=0, random_state=None):
        self.estimator = estimator
        self.param = param
        self.strengths = strengths
        self.selection = selection
        self.tolerance = tolerance
        self.label_shift_tolerance = label_shift_tolerance
        self.target_mix_tolerance = target_mix_tolerance
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    def fit(self, X, y, domains=None, sample_weight=None):
        """Train the candidates, keep one strength, refit it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs of every domain.
        y : array-like of shape (n_samples,)
            Labels, ``-1`` for the unlabeled (target) rows.
        domains : array-like of shape (n_samples,), default=None
            Domain of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the label loss, passed to every candidate's
            ``fit`` (the rows it trains on).

        Returns
        -------
        self : object
        """
        validate_params(self)
        if is_regressor(self.estimator):
            raise TypeError(
                "StrengthSearch chooses among classifiers (its rules read predicted "
                f"classes); got the regressor {type(self.estimator).__name__}.")
        if self.param not in self.estimator.get_params():
            raise ValueError(
                f"param={self.param!r} is not a parameter of {type(self.estimator).__name__}.")
        strengths = sorted({0.0, *(float(s) for s in self.strengths)})
        y = np.asarray(y)
        # the candidates get domains as given: None lets a method infer them (latent_domains)
        given = None if domains is None else np.asarray(domains)
        domains = np.zeros(len(y), dtype=int) if domains is None else given
        if len(domains) != len(y):
            raise ValueError(
                f"domains must hold one domain label per row of y ({len(y)} rows), got "
                f"{len(domains)}.")
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        valid = self._held_out(y, domains)
        unlabeled = unlabeled_mask(y)
        self.setting_ = "unsupervised DA" if unlabeled.any() else "domain generalization"
        self.label_shift_ = between_domain_label_shift(y[~unlabeled], domains[~unlabeled])
        self.guarded_ = label_shift_keeps_erm(
            self.label_shift_, self.setting_ == "unsupervised DA",
            getattr(self.estimator, "_aligns_domains", False), self.label_shift_tolerance)
        if self.guarded_:  # alignment would mix classes: ERM, and nothing else to train
            strengths = [0.0]
            if self.verbose:
                print(f"[StrengthSearch] the labeled domains' class mixes differ by "
                      f"{self.label_shift_:.3f} > label_shift_tolerance="
                      f"{self.label_shift_tolerance:g}: ERM kept", flush=True)
        estimator, baseline, self.weight_decay_search_ = self.estimator, None, None
        if searches_weight_decay(self.estimator, X):
            # chosen once, with ERM, on the same held-out rows: every candidate then trains
            # at that value, and the ERM of the value kept is the strength-0 candidate
            decay, self.weight_decay_search_, baseline = choose_weight_decay(
                self.estimator, X, y, given, sample_weight, valid, self.verbose)
            estimator = clone(self.estimator).set_params(optimizer__weight_decay=decay)
        candidates = candidate_estimators(estimator, self.param, strengths)
        fitted = self._fit_all(candidates[1:] if baseline else candidates, X, y, given,
                               sample_weight, ~valid, strengths[1:] if baseline else strengths)
        fitted = [baseline, *fitted] if baseline else fitted
        if fitted[0][0] is None:  # the baseline's failure is the user's to see
            raise fitted[0][2]
        # a candidate that diverged is out of the running, not the end of the search
        ok = [k for k, (model, _, _) in enumerate(fitted) if model is not None]
        valid_proba = np.stack([fitted[k][0].predict_proba(_safe_indexing(X, valid)) for k in ok])
        valid_y = np.searchsorted(fitted[0][0].classes_, y[valid])
        agreement, entropy, mix_shift = (np.full(len(strengths), np.nan) for _ in range(3))
        target_proba = None
        if self.setting_ == "unsupervised DA":
            target_proba = np.stack([fitted[k][0].predict_proba(_safe_indexing(X, unlabeled))
                                     for k in ok])
            agreement[ok] = ensemble_agreement(target_proba)
            entropy[ok] = prediction_entropy(target_proba)
            mix_shift[ok] = target_class_mix_shift(target_proba)
        pick = ok[select_strength(self.selection, valid_proba, valid_y, target_proba,
                                  self.tolerance, self.target_mix_tolerance)]
        self.strength_ = strengths[pick]
        accuracy = np.full(len(strengths), np.nan)
        accuracy[ok] = validation_accuracy(valid_proba, valid_y)
        self.cv_results_ = {
            "strength": np.array(strengths),
            "validation_accuracy": accuracy,
            "target_entropy": entropy,
            "target_agreement": agreement,
            "target_mix_shift": mix_shift,
            "fit_time": np.array([seconds for _, seconds, _ in fitted]),
            "error": np.array([None if e is None else str(e) for _, _, e in fitted],
                              dtype=object),
            "selected": np.arange(len(strengths)) == pick,
        }
        if self.refit:
            chosen = candidate_estimators(estimator, self.param, [self.strength_])
            (self.best_estimator_, _, error), = self._fit_all(
                chosen, X, y, given, sample_weight, np.ones(len(y), dtype=bool),
                [self.strength_])
            if error is not None:
                raise error
        else:
            self.best_estimator_ = fitted[pick][0]
        self.classes_ = self.best_estimator_.classes_
        return self

    def _held_out(self, y, domains):
        """Mask of the labeled rows held out: a slice of every domain x class cell."""
        labeled = ~unlabeled_mask(y)
        if not labeled.any():
            raise ValueError("y has no labeled rows: every entry is -1, the unlabeled marker.")
        _, domain_codes = np.unique(domains, return_inverse=True)
        class_codes = np.full(len(y), -1, dtype=np.int64)
        class_codes[labeled] = np.unique(y[labeled], return_inverse=True)[1]
        valid = holdout_labeled(labeled, domain_codes, class_codes, self.validation_fraction,
                                check_random_state(self.random_state))
        if not valid.any():
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r} holds out no labeled row: "
                "every domain x class cell has a single row. Raise validation_fraction.")
        return valid

    def _fit_all(self, candidates, X, y, domains, sample_weight, rows, strengths):
        jobs = (delayed(_fit_one)(c, X, y, domains, sample_weight, rows) for c in candidates)
        fitted = Parallel(n_jobs=self.n_jobs)(jobs)
        if self.verbose:
            for strength, (_, seconds, error) in zip(strengths, fitted, strict=True):
                done = "diverged" if error is not None else "trained"
                print(f"[StrengthSearch] {self.param}={strength:g}: {done} in {seconds:.1f} s",
                      flush=True)
        return fitted

    def _delegate(self, method, X):
        check_is_fitted(self, "best_estimator_")
        return getattr(self.best_estimator_, method)(X)

    def predict(self, X):
        """Labels predicted by the model of the strength kept."""
        return self._delegate("predict", X)

    def predict_proba(self, X):
        """Class probabilities of the model of the strength kept."""
        return self._delegate("predict_proba", X)

    def decision_function(self, X):
        """Decision function of the model of the strength kept."""
        return self._delegate("decision_function", X)

    def transform(self, X):
        """Features of the model of the strength kept."""
        return self._delegate("transform", X)

    def score(self, X, y, sample_weight=None):
        """Accuracy of the model of the strength kept on the labeled rows of ``X, y``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.score(X, y, sample_weight=sample_weight)
