"""per_domain_scores of regressors: regression metrics, NaN rows left out."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skda import ERMRegressor
from skda.metrics import per_domain_scores


class ColumnRegressor(RegressorMixin, BaseEstimator):
    """Predicts column 1 of X (column 0 is an id)."""

    def predict(self, X):
        return np.asarray(X, dtype=float)[:, 1]


class UntaggedModel(BaseEstimator):
    """Neither a classifier nor a regressor by its tags; predicts column 1 of X."""

    def predict(self, X):
        return np.asarray(X, dtype=float)[:, 1]


def test_per_domain_scores_of_a_regressor_equal_hand_computed_values():
    y_pred = np.array([1.0, 2.0, 3.0, 5.0, 0.0, 1.0, 9.0, 2.0])
    y = np.array([1.0, 3.0, 2.0, 5.0, 0.0, 3.0, np.nan, -1.0])  # -1 is a value, NaN unlabeled
    d = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    table = per_domain_scores(ColumnRegressor(), np.c_[np.arange(8), y_pred], y, d)
    assert list(table) == ["domain", "n_samples", "rmse", "mae", "r2"]
    assert list(table["n_samples"]) == [4, 3]  # the NaN row is not scored, the -1 row is
    # a: errors 0 -1 1 0 around mean 2.75; b: errors 0 -2 3 around mean 2/3
    np.testing.assert_allclose(table["rmse"], [np.sqrt(2 / 4), np.sqrt(13 / 3)])
    np.testing.assert_allclose(table["mae"], [2 / 4, 5 / 3])
    np.testing.assert_allclose(table["r2"], [1 - 2 / 8.75, 1 - 13 / (26 / 3)])


def test_per_domain_scores_of_a_regressor_choose_and_check_metrics():
    X = np.c_[np.arange(4), [1.0, 2.0, 3.0, 4.0]]
    y, d = np.array([1.0, 2.0, 3.0, 5.0]), np.array(["a", "a", "a", "b"])
    table = per_domain_scores(ColumnRegressor(), X, y, d, metrics="mae")
    np.testing.assert_allclose(table["mae"], [0.0, 1.0])
    assert np.isnan(per_domain_scores(ColumnRegressor(), X, y, d, metrics="r2")["r2"][1])
    with pytest.raises(ValueError, match=r"subset of \('rmse', 'mae', 'r2'\) for a regressor"):
        per_domain_scores(ColumnRegressor(), X, y, d, metrics=["accuracy"])
    with pytest.raises(ValueError, match="no labeled rows \\(every entry is NaN\\)"):
        per_domain_scores(ColumnRegressor(), X, np.full(4, np.nan), d)
    # not tagged as either kind: a y with NaN or fractions is read as a regression target
    assert "rmse" in per_domain_scores(UntaggedModel(), X, [0.5, 1, 2, np.nan], d)


@pytest.mark.filterwarnings("ignore:ERMRegressor ignores the 30 rows")
def test_per_domain_scores_of_a_fitted_skda_regressor_pipeline():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    d = np.repeat(["source", "target"], 30)
    y = 5.0 + X[:, 0]
    model = make_pipeline(FunctionTransformer(), ERMRegressor(
        max_epochs=2, hidden_layer_sizes=(8,), random_state=0)).fit(
        X, np.where(d == "target", np.nan, y), ermregressor__domains=d)
    table = per_domain_scores(model, X, y, d, as_frame=True)
    assert list(table.columns) == ["domain", "n_samples", "rmse", "mae", "r2"]
    assert table["rmse"].notna().all() and (table["rmse"] > 0).all()
