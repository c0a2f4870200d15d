"""ERMRegressor and DANNRegressor: a continuous target, NaN marking unlabeled rows."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skda import DANNRegressor, ERMRegressor
from skda.model_selection import LeaveOneDomainOut

SMALL = dict(hidden_layer_sizes=(16,), max_epochs=60, lr=1e-2, random_state=0)


@pytest.fixture(scope="module")
def shifted_regression():
    """y = sin(x0) + x1 in three domains, each shifted; X, y, domains."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    domains = np.repeat(["a", "b", "c"], 100)
    X += np.repeat([0.0, 0.7, 1.4], 100)[:, None]
    y = np.sin(X[:, 0]) + X[:, 1]
    return X, y, domains


@pytest.mark.parametrize("Estimator", [ERMRegressor, DANNRegressor])
def test_fits_and_predicts_on_the_targets_scale(Estimator, shifted_regression):
    X, y, d = shifted_regression
    reg = Estimator(**SMALL).fit(X, y, domains=d)
    assert reg.score(X, y) > 0.8
    # the network learns the standardized target: an affine change of y changes nothing else
    scaled = Estimator(**SMALL).fit(X, 100.0 * y + 5.0, domains=d)
    np.testing.assert_allclose(scaled.predict(X), 100.0 * reg.predict(X) + 5.0, rtol=1e-5,
                               atol=1e-4)
    assert reg.target_mean_ == pytest.approx(y.mean())


def test_unlabeled_rows_train_dann_but_not_erm(shifted_regression):
    X, y, d = shifted_regression
    labeled = d != "c"
    y_missing = np.where(labeled, y, np.nan)
    for Estimator, changes in [(ERMRegressor, False), (DANNRegressor, True)]:
        with_target = Estimator(**SMALL).fit(X, y_missing, domains=d)
        without = Estimator(**SMALL).fit(X[labeled], y[labeled], domains=d[labeled])
        same = np.allclose(with_target.predict(X), without.predict(X))
        assert same is not changes, Estimator
    dann = DANNRegressor(**SMALL).fit(X, y_missing, domains=d)
    assert "train_domain_acc" in dann.net_.history[-1]
    assert list(dann.domains_) == ["a", "b", "c"]


def test_grid_search_over_held_out_domains(shifted_regression):
    X, y, d = shifted_regression
    search = GridSearchCV(DANNRegressor(**{**SMALL, "max_epochs": 5}), {"lambda_": [0.0, 1.0]},
                          cv=LeaveOneDomainOut()).fit(X, y, groups=d, domains=d)
    assert search.best_params_["lambda_"] in (0.0, 1.0)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_early_stopping_on_the_squared_error(shifted_regression):
    X, y, d = shifted_regression
    reg = ERMRegressor(**{**SMALL, "max_epochs": 500}, early_stopping=True,
                       n_iter_no_change=5).fit(X, y, domains=d)
    assert reg.n_iter_ < 500
    assert "valid_loss" in reg.net_.history[-1]


@pytest.mark.parametrize("y, match", [
    (np.zeros((300, 2)), "y should be a 1d array"),
    (np.r_[np.zeros(299), np.inf], "y contains infinity"),
    (np.array(["low"] * 300), "y must hold numbers"),
    (np.r_[1.0, np.full(299, np.nan)], "at least 2 labeled rows"),
    (np.zeros(299), "inconsistent numbers of samples"),
])
def test_bad_targets_are_refused(y, match, shifted_regression):
    X, _, d = shifted_regression
    with pytest.raises(ValueError, match=match):
        ERMRegressor(**SMALL).fit(X, y, domains=d)


def test_classification_only_methods_say_so():
    import skda

    assert not hasattr(skda, "CCSARegressor") and not hasattr(skda, "SagNetRegressor")
    assert "classification" in skda.CCSAClassifier.__doc__.lower()
