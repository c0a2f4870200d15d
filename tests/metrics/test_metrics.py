"""Per-domain scores and the proxy A-distance (skda.metrics)."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score

from skda.metrics import per_domain_scores, proxy_a_distance


class TableModel(ClassifierMixin, BaseEstimator):
    """Returns the probabilities stored in column 1.. of X (column 0 is an id)."""

    def __init__(self, classes=(0, 1)):
        self.classes = classes
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X):
        return np.asarray(X)[:, 1:]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def test_per_domain_scores_equal_hand_computed_values():
    p1 = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.4, 0.7, 0.1, 0.5])
    X = np.c_[np.arange(9), 1 - p1, p1]
    y = np.array([1, 1, 0, 0, 0, 1, -1, 0, 1])
    d = np.array(["a", "a", "a", "a", "b", "b", "b", "b", "b"])
    table = per_domain_scores(TableModel(), X, y, d)
    assert list(table["domain"]) == ["a", "b"]
    assert list(table["n_samples"]) == [4, 4]  # the -1 row is not scored
    # a: predictions 1 1 0 1 vs 1 1 0 0; b (labeled rows): 0 0 0 0 vs 0 1 0 1
    np.testing.assert_allclose(table["accuracy"], [0.75, 0.5])
    np.testing.assert_allclose(table["balanced_accuracy"], [0.75, 0.5])
    np.testing.assert_allclose(table["roc_auc"], [1.0, roc_auc_score([0, 1, 0, 1],
                                                                     [0.2, 0.4, 0.1, 0.5])])


def test_auc_is_nan_when_a_domain_lacks_a_class_and_multiclass_is_ovr():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet(np.ones(3), size=60)
    X = np.c_[np.arange(60), proba]
    y = rng.randint(3, size=60)
    d = np.repeat(["a", "b"], 30)
    y[d == "b"] = 2
    table = per_domain_scores(TableModel(classes=(0, 1, 2)), X, y, d, metrics="roc_auc")
    a = d == "a"
    assert table["roc_auc"][0] == pytest.approx(
        roc_auc_score(y[a], proba[a], multi_class="ovr", labels=[0, 1, 2]))
    assert np.isnan(table["roc_auc"][1])


def test_per_domain_scores_frame_and_errors():
    X = np.c_[np.arange(4), [[0.2, 0.8]] * 4]
    frame = per_domain_scores(TableModel(), X, [1, 1, 0, 1], ["a", "a", "b", "b"],
                              metrics=["accuracy"], as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert frame["accuracy"].tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="metrics must be"):
        per_domain_scores(TableModel(), X, [1, 1, 0, 1], ["a"] * 4, metrics=["f1"])
    with pytest.raises(ValueError, match="one domain label per row"):
        per_domain_scores(TableModel(), X, [1, 1, 0, 1], ["a"] * 3)
    with pytest.raises(ValueError, match="no labeled rows"):
        per_domain_scores(TableModel(), X, [-1] * 4, ["a"] * 4)
    with pytest.raises(TypeError, match="as_frame"):
        per_domain_scores(TableModel(), X, [1, 1, 0, 1], ["a"] * 4, as_frame="yes")


def test_proxy_a_distance_known_cases():
    rng = np.random.RandomState(0)
    same = proxy_a_distance(rng.normal(size=(1000, 3)), rng.normal(size=(1000, 3)),
                            random_state=0)
    assert abs(same) < 0.2
    apart = proxy_a_distance(rng.normal(size=(300, 3)), rng.normal(8, 1, (300, 3)),
                             random_state=0)
    assert apart == 2.0
    # two unit Gaussians 2 apart: the best classifier errs Phi(-1) of the time
    shift = proxy_a_distance(rng.normal(0, 1, (3000, 1)), rng.normal(2, 1, (3000, 1)),
                             random_state=0)
    assert shift == pytest.approx(2 * (1 - 2 * norm.cdf(-1)), abs=0.08)


def test_proxy_a_distance_flattens_images_and_rejects_bad_input():
    rng = np.random.RandomState(0)
    images = proxy_a_distance(rng.normal(size=(50, 1, 4, 4)), rng.normal(3, 1, (50, 1, 4, 4)),
                              random_state=0)
    assert images == 2.0
    with pytest.raises(ValueError, match="same number of features"):
        proxy_a_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        proxy_a_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        proxy_a_distance(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="test_size"):
        proxy_a_distance(np.zeros((5, 2)), np.ones((5, 2)), test_size=2)
