"""evaluate_transductive: each domain in turn the unlabeled target."""

import numpy as np
import pandas as pd
import pytest
from helpers import TINY
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier, ERMRegressor
from skda.model_selection import (
    evaluate_transductive,
)

# -- splitters ------------------------------------------------------------------------------


class NearestMeanClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the class of the nearest class mean of labeled rows; records what fit saw."""

    def fit(self, X, y, domains=None):
        self.seen_y_ = np.array(y, copy=True)
        self.seen_domains_ = np.asarray(domains)
        labeled = self.seen_y_ != -1
        self.classes_ = np.unique(self.seen_y_[labeled])
        self.means_ = np.array([np.asarray(X)[labeled & (self.seen_y_ == c)].mean(axis=0)
                                for c in self.classes_])
        return self

    def predict(self, X):
        distances = ((np.asarray(X)[:, None, :] - self.means_[None]) ** 2).sum(axis=2)
        return self.classes_[distances.argmin(axis=1)]


def test_transductive_hides_only_the_target_labels(multi_domain):
    X, y, d = multi_domain
    y_before = y.copy()
    table = evaluate_transductive(NearestMeanClassifier(), X, y, d, return_estimator=True)
    np.testing.assert_array_equal(y, y_before)  # the caller's labels untouched
    assert list(table["domain"]) == ["site0", "site1", "site2", "site3"]
    for name, model, score, n in zip(table["domain"], table["estimator"],
                                     table["test_score"], table["n_target"], strict=True):
        target = d == name
        assert np.all(model.seen_y_[target] == -1)
        np.testing.assert_array_equal(model.seen_y_[~target], y[~target])
        np.testing.assert_array_equal(model.seen_domains_, d)
        assert n == target.sum()
        assert score == pytest.approx(model.score(X[target], y[target]))


def test_transductive_matches_a_hand_made_dann_fit(moons):
    X, y, d, target = moons
    table = evaluate_transductive(DANNClassifier(**TINY), X, y, d, target_domains=["target"],
                                  scoring=["accuracy", "balanced_accuracy"])
    manual = DANNClassifier(**TINY).fit(X, np.where(target, -1, y), domains=d)
    assert table["test_accuracy"][0] == manual.score(X[target], y[target])
    assert set(table) == {"domain", "fit_time", "score_time", "n_target", "test_accuracy",
                          "test_balanced_accuracy"}


def test_transductive_parallel_pipeline_and_frame(multi_domain):
    X, y, d = multi_domain
    pipe = make_pipeline(StandardScaler(), NearestMeanClassifier())
    serial = evaluate_transductive(pipe, X, y, d, as_frame=True)
    parallel = evaluate_transductive(pipe, X, y, d, n_jobs=2, as_frame=True)
    assert isinstance(serial, pd.DataFrame) and len(serial) == 4
    pd.testing.assert_series_equal(serial["test_score"], parallel["test_score"])


def test_transductive_string_labels_and_unlabeled_target_rows(multi_domain):
    X, y, d = multi_domain
    names = np.array(["cat", "dog", "eel"])[y]
    table = evaluate_transductive(NearestMeanClassifier(), X, names.astype(object), d)
    expected = evaluate_transductive(NearestMeanClassifier(), X, y, d)
    np.testing.assert_allclose(table["test_score"], expected["test_score"])
    partly = y.copy()
    partly[:5] = -1  # rows never labeled are left out of their domain's score
    table = evaluate_transductive(NearestMeanClassifier(), X, partly, d, target_domains=["site0"])
    assert table["n_target"][0] == (d == "site0").sum() - 5


def test_transductive_rejects_bad_input(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(ValueError, match="not among the domains"):
        evaluate_transductive(NearestMeanClassifier(), X, y, d, target_domains=["nope"])
    with pytest.raises(ValueError, match="one domain label per row"):
        evaluate_transductive(NearestMeanClassifier(), X, y, d[:5])
    with pytest.raises(ValueError, match="at least 2 domains"):
        evaluate_transductive(NearestMeanClassifier(), X, y, np.zeros(len(y)))
    with pytest.raises(TypeError, match="estimator"):
        evaluate_transductive("model", X, y, d)


# -- regressors, and estimators evaluate_transductive cannot fit -----------------------------


class MeanRegressor(RegressorMixin, BaseEstimator):
    """Predicts the mean of the labeled targets plus x0; records what fit saw."""

    def fit(self, X, y, domains=None):
        self.seen_y_ = np.array(y, dtype=float, copy=True)
        self.mean_ = np.nanmean(self.seen_y_)
        return self

    def predict(self, X):
        return self.mean_ + np.asarray(X)[:, 0]


@pytest.fixture(scope="module")
def regression_domains():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    d = np.repeat(["source", "target"], 60)
    X[d == "target"] += 1.0
    return X, 5.0 + X[:, 0] + 0.1 * rng.normal(size=120), d


def test_transductive_hides_a_regressors_target_with_nan(regression_domains):
    X, y, d = regression_domains
    target = d == "target"
    y = y.copy()
    y[np.flatnonzero(target)[:5]] = np.nan  # target rows never labeled: left out of the score
    table = evaluate_transductive(MeanRegressor(), X, y, d, target_domains=["target"],
                                  return_estimator=True)
    model = table["estimator"][0]
    assert np.all(np.isnan(model.seen_y_[target]))  # not -1, a real target value
    np.testing.assert_array_equal(model.seen_y_[~target], y[~target])
    assert table["n_target"][0] == target.sum() - 5
    scored = target & ~np.isnan(y)
    # the default scoring of a regressor is R²
    assert table["test_score"][0] == pytest.approx(
        r2_score(y[scored], model.predict(X[scored])))


@pytest.mark.filterwarnings("ignore:ERMRegressor ignores the 60 rows")
def test_transductive_erm_regressor_learns_the_labeled_mean(regression_domains):
    X, y, d = regression_domains
    erm = ERMRegressor(max_epochs=2, hidden_layer_sizes=(8,), random_state=0)
    table = evaluate_transductive(erm, X, y, d, target_domains=["target"],
                                  return_estimator=True)
    assert table["estimator"][0].target_mean_ == pytest.approx(y[d == "source"].mean())
    assert np.isfinite(table["test_score"][0])
    table = evaluate_transductive(make_pipeline(StandardScaler(), erm), X, y, d,
                                  target_domains=["target"], scoring="neg_mean_absolute_error",
                                  return_estimator=True)
    assert table["estimator"][0][-1].target_mean_ == pytest.approx(y[d == "source"].mean())


def test_transductive_refuses_an_estimator_whose_fit_takes_no_domains(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(TypeError, match="evaluate_transductive fits a clone .* a Pipeline "
                                        "ending in LogisticRegression takes no domains"):
        evaluate_transductive(make_pipeline(StandardScaler(), LogisticRegression()), X, y, d)


def test_transductive_refuses_a_classifier_that_learns_the_hidden_labels_as_a_class(
        multi_domain):
    class EveryValueAClass(NearestMeanClassifier):
        def fit(self, X, y, domains=None):
            super().fit(X, y, domains)
            self.classes_ = np.unique(y)  # -1 included, as scikit-learn's classifiers do
            return self

    X, y, d = multi_domain
    with pytest.raises(ValueError, match="-1 among its classes_"):
        evaluate_transductive(EveryValueAClass(), X, y, d)
