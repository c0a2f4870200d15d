"""evaluate_transductive: each domain in turn the unlabeled target."""

import numpy as np
import pandas as pd
import pytest
from helpers import TINY
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier
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
