"""The label-free scorers, on cases whose answer is known."""

import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import TINY
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier, ERMClassifier, ERMRegressor
from skda.model_selection import (
    CircularValidationScorer,
    DeepEmbeddedValidationScorer,
    ImportanceWeightedScorer,
    LeaveOneDomainOut,
    MixValScorer,
    PredictionEntropyScorer,
    SoftNeighborhoodDensityScorer,
    SourceAccuracyScorer,
    TrainingDomainValidation,
)

# -- splitters ------------------------------------------------------------------------------


class FixedModel(ClassifierMixin, BaseEstimator):
    """A 'fitted' binary model of one feature: p(1 | x) = sigmoid(slope * (x - threshold))."""

    def __init__(self, threshold=0.0, slope=1.0):
        self.threshold = threshold
        self.slope = slope
        self.classes_ = np.array([0, 1])

    def fit(self, X, y, domains=None):
        return self

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-self.slope * (np.asarray(X)[:, 0] - self.threshold)))
        return np.c_[1 - p, p]

    def predict(self, X):
        return (np.asarray(X)[:, 0] > self.threshold).astype(int)

    def transform(self, X):
        return np.asarray(X)


@pytest.fixture(scope="module")
def covariate_shift():
    """x ~ N(0, 1) in the source, N(1, 1) in the target; y = [x > 1.5] in both (covariate shift).

    Returns the validation fold as a scorer sees it (target rows have y = -1) and the
    target's true labels.
    """
    rng = np.random.RandomState(0)
    x_source, x_target = rng.normal(0, 1, 4000), rng.normal(1, 1, 4000)
    X = np.r_[x_source, x_target][:, None]
    y_true = (X[:, 0] > 1.5).astype(int)
    target = np.r_[np.zeros(4000, bool), np.ones(4000, bool)]
    return X, np.where(target, -1, y_true), y_true, target


def test_entropy_scorer_equals_hand_computed_value():
    model = FixedModel(slope=np.log(3.0))  # p(1 | x=1) = 0.75, p(1 | x=-1) = 0.25
    X = np.array([[1.0], [-1.0], [0.0], [50.0]])
    y = np.array([-1, -1, -1, 0])  # the labeled source row is not part of the entropy
    expected = -np.mean([0.5623351446, 0.5623351446, np.log(2)])
    assert PredictionEntropyScorer()(model, X, y) == pytest.approx(expected, abs=1e-9)


def test_entropy_scorer_prefers_the_confident_model(covariate_shift):
    X, y, _, _ = covariate_shift
    vague, sharp = FixedModel(1.5, slope=0.3), FixedModel(1.5, slope=5.0)
    assert PredictionEntropyScorer()(sharp, X, y) > PredictionEntropyScorer()(vague, X, y)


@pytest.mark.parametrize("Scorer", [ImportanceWeightedScorer, DeepEmbeddedValidationScorer])
def test_weighted_scorers_recover_the_target_accuracy(Scorer, covariate_shift):
    X, y, y_true, target = covariate_shift
    model = FixedModel(threshold=0.0)  # wrong between 0 and 1.5
    true_target = 1 - (norm.cdf(0.5) - norm.cdf(-1.0))  # 0.467
    source = 1 - (norm.cdf(1.5) - norm.cdf(0.0))  # 0.567
    estimate = Scorer(loss="zero_one")(model, X, y)
    assert abs(estimate - true_target) < 0.025
    assert abs(estimate - true_target) < abs(source - true_target) / 3
    assert SourceAccuracyScorer()(model, X, y) == pytest.approx(source, abs=0.02)


@pytest.mark.parametrize("Scorer", [ImportanceWeightedScorer, DeepEmbeddedValidationScorer])
def test_weighted_scorers_recover_the_target_log_loss(Scorer, covariate_shift):
    X, y, y_true, target = covariate_shift
    model = FixedModel(threshold=1.0, slope=2.0)
    proba = model.predict_proba(X[target])[np.arange(target.sum()), y_true[target]]
    true_loss = -np.mean(np.log(proba))
    source_loss = -np.mean(np.log(
        model.predict_proba(X[~target])[np.arange((~target).sum()), y_true[~target]]))
    estimate = -Scorer()(model, X, y)
    assert abs(estimate - true_loss) < 0.1 * abs(source_loss - true_loss)


def test_dev_control_variate_is_exact_for_a_constant_loss():
    # every source row has the same loss, so the estimated risk must be that loss,
    # whatever the (here very uneven) weights
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 1, 300), rng.normal(2, 1, 300)][:, None]
    y = np.r_[np.zeros(300, int), -np.ones(300, int)]
    always_wrong = FixedModel(threshold=-100.0)  # predicts 1 everywhere; source is all 0
    assert DeepEmbeddedValidationScorer(loss="zero_one")(always_wrong, X, y) == pytest.approx(0)
    assert ImportanceWeightedScorer(loss="zero_one")(always_wrong, X, y) == pytest.approx(0)


def test_weighted_scorers_stay_in_range_and_warn_on_separable_domains():
    # source and target 8 standard deviations apart: a few source rows carry all the
    # weight, and DEV's control variate used to push the risk far outside [0, 1]
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 1, 200), rng.normal(8, 1, 200)][:, None]
    y = np.r_[(X[:200, 0] > 0.5).astype(int), -np.ones(200, int)]
    model = FixedModel(threshold=0.0)
    for Scorer in (ImportanceWeightedScorer, DeepEmbeddedValidationScorer):
        with pytest.warns(UserWarning, match="nearly separable"):
            accuracy = Scorer(loss="zero_one")(model, X, y)
        assert 0.0 <= accuracy <= 1.0, (Scorer, accuracy)
        with pytest.warns(UserWarning, match="nearly separable"):
            log_loss = -Scorer()(model, X, y)
        losses = -np.log(model.predict_proba(X[:200])[np.arange(200), y[:200]])
        assert losses.min() - 1e-12 <= log_loss <= losses.max() + 1e-12


def test_snd_equals_hand_computed_value():
    # two clusters of five one-hot predictions: each row's neighbour distribution puts
    # ~1/4 on each of the four other rows of its cluster, so its entropy is ~log 4
    class OneHot(FixedModel):
        def predict_proba(self, X):
            return np.eye(2)[(np.asarray(X)[:, 0] > 0).astype(int)]

    X = np.r_[-np.ones(5), np.ones(5)][:, None]
    y = -np.ones(10, int)
    assert SoftNeighborhoodDensityScorer()(OneHot(), X, y) == pytest.approx(np.log(4), abs=1e-6)
    with pytest.raises(ValueError, match="temperature"):
        SoftNeighborhoodDensityScorer(temperature=0)(OneHot(), X, y)


def test_mixval_prefers_the_boundary_between_the_target_clusters():
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(-1, 0.02, 100), rng.normal(1, 0.02, 100)][:, None]
    y = -np.ones(200, int)
    middle, off_centre = FixedModel(threshold=0.0), FixedModel(threshold=0.6)
    # a mixture 0.55 x_i + 0.45 x_j of the two clusters lies near +-0.1: on x_i's side
    # of a central boundary, and on the wrong side of one close to a cluster
    assert MixValScorer(pairs="inter")(middle, X, y) == pytest.approx(1.0)
    assert MixValScorer(pairs="inter")(off_centre, X, y) < 0.6
    assert MixValScorer()(middle, X, y) > MixValScorer()(off_centre, X, y)
    # a model that puts the whole target in one class has no 'inter' pair: it counts as 0
    collapsed = FixedModel(threshold=-100.0)
    assert MixValScorer()(collapsed, X, y) == pytest.approx(0.5)
    frame = pd.DataFrame(X, columns=["x"])
    assert MixValScorer()(middle, frame, y) == MixValScorer()(middle, X, y)
    with pytest.raises(ValueError, match="ratio"):
        MixValScorer(ratio=0.4)(middle, X, y)
    with pytest.raises(ValueError, match="pairs"):
        MixValScorer(pairs="all")(middle, X, y)


class LearnedThreshold(FixedModel):
    """FixedModel whose fit puts the threshold halfway between the labeled class means."""

    fits = []  # (y, domains) of every fit, to check what the reverse fit was given

    def fit(self, X, y, domains=None):
        y = np.asarray(y, dtype=object)
        self.fits.append((y, np.asarray(domains)))
        labeled = y != -1
        x, labels = np.asarray(X)[labeled, 0], y[labeled].astype(int)
        self.threshold = (x[labels == 0].mean() + x[labels == 1].mean()) / 2
        return self


def test_circular_validation_fits_the_reverse_problem_and_rewards_good_target_labels():
    rng = np.random.RandomState(0)
    y_source = rng.randint(2, size=200)
    x_source = rng.normal(2.0 * y_source - 1, 0.3)
    x_target = rng.normal(2.0 * rng.randint(2, size=200) - 1 + 0.5, 0.3)  # shifted by 0.5
    X = np.r_[x_source, x_target][:, None]
    y = np.r_[y_source, -np.ones(200, int)]
    good, bad = LearnedThreshold(threshold=0.5), LearnedThreshold(threshold=1.6)
    scorer = CircularValidationScorer()
    LearnedThreshold.fits.clear()
    assert scorer(good, X, y) > 0.95
    assert good.threshold == 0.5  # the scored model is left alone; a clone is refitted
    (fit_y, fit_domains), = LearnedThreshold.fits
    assert np.all(fit_y[:200] == -1)  # source labels hidden
    np.testing.assert_array_equal(fit_y[200:].astype(int), good.predict(X[200:]))
    assert len(np.unique(fit_domains[:200])) == 1 and fit_domains[0] != fit_domains[-1]
    assert scorer(bad, X, y) < scorer(good, X, y) - 0.1
    constant = FixedModel(threshold=100.0)  # one class for the whole target
    assert scorer(constant, X, y) == pytest.approx(0.5)


def test_scorers_refuse_folds_without_target_or_source(covariate_shift):
    X, y, y_true, target = covariate_shift
    model = FixedModel()
    for scorer in (PredictionEntropyScorer(), ImportanceWeightedScorer(),
                   DeepEmbeddedValidationScorer(), SoftNeighborhoodDensityScorer(),
                   MixValScorer(), CircularValidationScorer()):
        with pytest.raises(ValueError, match="no unlabeled rows"):
            scorer(model, X, y_true)
    for scorer in (ImportanceWeightedScorer(), CircularValidationScorer()):
        with pytest.raises(ValueError, match="needs labeled source rows"):
            scorer(model, X[target], y[target])
    with pytest.raises(ValueError, match="loss must be None or 'log_loss' or 'zero_one'"):
        ImportanceWeightedScorer(loss="hinge")(model, X, y)
    with pytest.raises(TypeError, match="transform"):
        DeepEmbeddedValidationScorer()(LogisticRegression().fit(X, y_true), X, y)
    with pytest.raises(ValueError, match="no labeled rows"):
        SourceAccuracyScorer()(model, X[target], y[target])


def test_scorers_drive_a_grid_search_on_unlabeled_target(moons_uda):
    X, y, d = moons_uda
    scoring = {"source": SourceAccuracyScorer(), "entropy": PredictionEntropyScorer(),
               "iwcv": ImportanceWeightedScorer(), "dev": DeepEmbeddedValidationScorer(),
               "snd": SoftNeighborhoodDensityScorer(), "mixval": MixValScorer(),
               "circular": CircularValidationScorer()}
    search = GridSearchCV(ERMClassifier(**TINY), {"lr": [1e-3, 1e-2]}, scoring=scoring,
                          refit="dev", cv=TrainingDomainValidation(random_state=0))
    search.fit(X, y, groups=d, domains=d)
    for name in scoring:
        scores = search.cv_results_[f"mean_test_{name}"]
        assert np.all(np.isfinite(scores)), name
    assert np.all(search.cv_results_["mean_test_entropy"] <= 0)
    assert search.best_params_["lr"] in (1e-3, 1e-2)
    assert "loss='log_loss'" in repr(ImportanceWeightedScorer(loss="log_loss"))


def test_nested_domain_generalization_protocol(multi_domain):
    # the docs' recipe: select on slices of the training domains, evaluate on a held-out one
    X, y, d = multi_domain
    search = GridSearchCV(DANNClassifier(**TINY), {"lambda_": [0.0, 1.0]},
                          cv=TrainingDomainValidation(random_state=0))
    result = cross_validate(search, X, y, cv=LeaveOneDomainOut(), groups=d,
                            params={"groups": d, "domains": d}, return_estimator=True)
    assert len(result["test_score"]) == 4
    for held_out, fitted in zip(np.unique(d), result["estimator"], strict=True):
        assert held_out not in fitted.best_estimator_.domains_
        assert len(fitted.best_estimator_.domains_) == 3


# -- regressors, and estimators the scorers cannot read -------------------------------------


class FixedRegressor(RegressorMixin, BaseEstimator):
    """A 'fitted' regressor of one feature: y_hat = slope * x."""

    def __init__(self, slope=0.0):
        self.slope = slope

    def fit(self, X, y, domains=None):
        return self

    def predict(self, X):
        return self.slope * np.asarray(X)[:, 0]

    def transform(self, X):
        return np.asarray(X)


@pytest.fixture(scope="module")
def regression_shift():
    """x ~ N(0, 1) in the source, N(1, 1) in the target, y = x; the target's y is NaN."""
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(0, 1, 4000), rng.normal(1, 1, 4000)][:, None]
    target = np.r_[np.zeros(4000, bool), np.ones(4000, bool)]
    return X, np.where(target, np.nan, X[:, 0]), X[:, 0], target


@pytest.mark.parametrize("Scorer", [ImportanceWeightedScorer, DeepEmbeddedValidationScorer])
def test_weighted_scorers_recover_a_regressors_target_squared_error(Scorer, regression_shift):
    X, y, y_true, target = regression_shift
    model = FixedRegressor(slope=0.0)  # squared error x**2: about 1 on the source, 2 on the target
    true_mse = np.mean(y_true[target] ** 2)
    source_mse = np.mean(y_true[~target] ** 2)
    estimate = -Scorer()(model, X, y)  # loss=None: the squared error for a regressor
    assert abs(estimate - true_mse) < 0.1 * abs(source_mse - true_mse)
    assert Scorer(loss="squared_error")(model, X, y) == -estimate
    with pytest.raises(ValueError, match="is a regressor: use loss='squared_error'"):
        Scorer(loss="log_loss")(model, X, y)
    with pytest.raises(ValueError, match="no unlabeled rows \\(y = NaN\\)"):
        Scorer()(model, X, y_true)


def test_source_score_of_a_regressor_is_r2_on_the_labeled_rows(regression_shift):
    X, y, y_true, target = regression_shift
    model = FixedRegressor(slope=0.5)
    expected = r2_score(y_true[~target], model.predict(X[~target]))
    assert SourceAccuracyScorer()(model, X, y) == pytest.approx(expected)
    assert 0.5 < expected < 1  # not a silent 0.0
    weights = np.linspace(1, 2, len(y))
    assert SourceAccuracyScorer()(model, X, y, sample_weight=weights) == pytest.approx(
        r2_score(y_true[~target], model.predict(X[~target]), sample_weight=weights[~target]))


@pytest.mark.parametrize("scorer", [PredictionEntropyScorer(), SoftNeighborhoodDensityScorer(),
                                    MixValScorer(), CircularValidationScorer()])
def test_class_reading_scorers_refuse_a_regressor(scorer, regression_shift):
    X, y, _, _ = regression_shift
    with pytest.raises(TypeError, match="classifiers only; got the regressor FixedRegressor"):
        scorer(FixedRegressor(), X, y)


def test_weighted_scorers_refuse_squared_error_for_a_classifier(covariate_shift):
    X, y, _, _ = covariate_shift
    with pytest.raises(ValueError, match="is for regressors"):
        ImportanceWeightedScorer(loss="squared_error")(FixedModel(), X, y)


def test_grid_search_of_a_regressor_with_an_unlabeled_target():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    d = np.repeat(["source", "target"], 60)
    X[d == "target"] += 1.0
    y = np.where(d == "target", np.nan, 5.0 + X[:, 0])
    scoring = {"source": SourceAccuracyScorer(), "iwcv": ImportanceWeightedScorer(),
               "dev": DeepEmbeddedValidationScorer()}
    search = GridSearchCV(ERMRegressor(max_epochs=2, hidden_layer_sizes=(8,), random_state=0),
                          {"lr": [1e-3, 1e-2]}, scoring=scoring, refit="dev",
                          cv=TrainingDomainValidation(random_state=0), error_score="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ERM ignores the NaN rows; IW warns
        search.fit(X, y, groups=d, domains=d)
    for name in scoring:
        assert np.all(np.isfinite(search.cv_results_[f"mean_test_{name}"])), name


def test_circular_validation_names_the_estimator_it_needs():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = np.r_[(X[:20, 0] > 0).astype(int), -np.ones(20, int)]
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:20], y[:20])
    with pytest.raises(TypeError, match="CircularValidationScorer fits a clone .* a Pipeline "
                                        "ending in LogisticRegression takes no domains"):
        CircularValidationScorer()(pipe, X, y)


@pytest.mark.parametrize("scorer", [
    PredictionEntropyScorer(), ImportanceWeightedScorer(), DeepEmbeddedValidationScorer(),
    SoftNeighborhoodDensityScorer(), MixValScorer(), CircularValidationScorer(),
    SourceAccuracyScorer()])
def test_scorers_refuse_a_model_that_learned_the_unlabeled_marker_as_a_class(scorer, moons_uda):
    X, y, _ = moons_uda
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)  # -1 is a class
    with pytest.raises(ValueError, match=r"-1 among its classes_ \(\[-1, 0, 1\]\): it treated "
                                         r"the unlabeled rows \(y == -1\) as a class"):
        scorer(pipe, X, y)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_documented_search_refuses_a_scikit_learn_pipeline(moons_uda):
    X, y, d = moons_uda
    search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()),
                          {"logisticregression__C": [0.1, 1.0]},
                          scoring=PredictionEntropyScorer(),
                          cv=TrainingDomainValidation(random_state=0))
    # GridSearchCV turns a scorer's error into a NaN score and a warning holding the message
    with pytest.warns(UserWarning, match="treated the unlabeled rows"):
        search.fit(X, y, groups=d)
    assert np.all(np.isnan(search.cv_results_["mean_test_score"]))
    with pytest.raises(ValueError, match="treated the unlabeled rows"):
        search.set_params(error_score="raise").fit(X, y, groups=d)
