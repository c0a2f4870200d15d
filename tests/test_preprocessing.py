"""TabularScaler, and the estimators' input_scaling that applies it."""

import numpy as np
import pytest
from helpers import CLASSIFIERS, TINY
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from skda import DANNRegressor, ERMClassifier, ERMRegressor, preprocessing
from skda.preprocessing import TabularScaler, smooth_clip


def test_smooth_clip_is_its_formula_for_arrays_and_scalars_and_writes_into_out():
    z = np.linspace(-50, 50, 11)
    expected = z / np.sqrt(1.0 + (z / 3.0) ** 2)
    np.testing.assert_array_equal(smooth_clip(z, 3.0), expected)
    assert smooth_clip(2.0, 3.0) == 2.0 / np.sqrt(1.0 + (2.0 / 3.0) ** 2)
    assert smooth_clip(np.float32(2.0), 3.0).dtype == np.float32
    smooth_clip(z, 3.0, out=z)
    np.testing.assert_array_equal(z, expected)


def test_passes_check_estimator():
    check_estimator(TabularScaler())
    check_estimator(TabularScaler(method="standard", clip=None))


def test_standard_scaling_uses_mean_and_sd():
    X = np.array([[1.0], [2.0], [3.0], [6.0]])
    Z = TabularScaler(clip=None).fit_transform(X)
    np.testing.assert_allclose(Z[:, 0], (X[:, 0] - 3.0) / X[:, 0].std())


def test_robust_scaling_uses_median_and_quartiles_then_clips_smoothly():
    X = np.arange(1.0, 101.0)[:, None]  # median 50.5, quartiles 25.75 and 75.25
    Z = TabularScaler("robust", clip=None).fit_transform(X)
    np.testing.assert_allclose(Z[:, 0], (X[:, 0] - 50.5) / 49.5)
    clipped = TabularScaler("robust", clip=3.0).fit_transform(X * 1e6 + 7)  # units do not matter
    np.testing.assert_allclose(clipped[:, 0], smooth_clip(Z[:, 0], 3.0), rtol=1e-6)
    far = TabularScaler("robust").fit(X).transform([[1e9]])
    assert 2.9 < far[0, 0] < 3.0  # bounded, still the largest value


def test_flat_quartiles_fall_back_to_the_range_and_constants_to_zero():
    indicator = np.r_[np.zeros(95), np.ones(5)]  # quartiles both 0
    X = np.c_[indicator, np.full(100, 4.0)]
    scaler = TabularScaler("robust", clip=None).fit(X)
    np.testing.assert_allclose(scaler.scale_, [2.0, 0.0])
    Z = scaler.transform(X)
    assert set(Z[:, 0]) == {0.0, 2.0} and not Z[:, 1].any()


def test_missing_values_become_the_center_with_an_indicator():
    X = np.array([[1.0, 5.0], [np.nan, 6.0], [3.0, 7.0], [5.0, 8.0]])
    scaler = TabularScaler().fit(X)
    np.testing.assert_array_equal(scaler.missing_columns_, [0])
    Z = scaler.transform(X)
    assert Z.shape == (4, 3)
    np.testing.assert_array_equal(Z[:, 2], [0, 1, 0, 0])
    assert Z[1, 0] == 0.0  # the mean, centered
    # a column complete in fit gets no indicator: a NaN there is filled alone
    Z = scaler.transform([[1.0, np.nan]])
    assert Z.shape == (1, 3) and Z[0, 1] == 0.0 and Z[0, 2] == 0.0


def test_refuses_infinity_and_bad_parameters():
    with pytest.raises(ValueError, match="infinity"):
        TabularScaler().fit([[1.0], [np.inf]])
    with pytest.raises(ValueError, match="method"):
        TabularScaler(method="minmax").fit([[1.0], [2.0]])
    with pytest.raises(ValueError, match="clip"):
        TabularScaler(clip=0).fit([[1.0], [2.0]])


def _raw_problem(seed=0):
    """A linear rule on columns whose units span 12 orders of magnitude."""
    rng = np.random.RandomState(seed)
    Z = rng.normal(size=(400, 4))
    y = (Z[:, 0] - Z[:, 1] > 0).astype(int)
    X = Z * [1e-6, 1e6, 1.0, 1e3] + [0.0, 5e7, 0.0, -2e4]
    return X, y


def test_raw_columns_train_as_well_as_standardized_ones():
    X, y = _raw_problem()
    params = dict(hidden_layer_sizes=(16,), max_epochs=100, random_state=0)
    raw = ERMClassifier(input_scaling=None, **params).fit(X[:300], y[:300])
    scaled = ERMClassifier(**params).fit(X[:300], y[:300])
    Xs = StandardScaler().fit(X[:300]).transform(X)
    standardized = ERMClassifier(input_scaling=None, **params).fit(Xs[:300], y[:300])
    assert raw.score(X[300:], y[300:]) < 0.75  # the former default on raw units
    assert scaled.score(X[300:], y[300:]) > 0.88
    assert scaled.score(X[300:], y[300:]) >= standardized.score(Xs[300:], y[300:]) - 0.03
    assert isinstance(scaled.input_scaler_, TabularScaler)


def test_the_scaler_is_learnt_in_fit_and_reused_at_prediction():
    X, y = _raw_problem()
    clf = ERMClassifier(**TINY).fit(X, y)
    center = clf.input_scaler_.center_.copy()
    clf.predict(X[:10] * 100)  # prediction never refits it
    np.testing.assert_array_equal(clf.input_scaler_.center_, center)
    np.testing.assert_allclose(center, X.mean(axis=0), rtol=1e-5)
    assert ERMClassifier(**TINY, input_scaling=None).fit(X, y).input_scaler_ is None


def test_unlabeled_rows_join_the_scaling_only_where_the_method_trains_on_them():
    from skda import DANNClassifier

    X, y = _raw_problem()
    X[200:] += 1e7  # the unlabeled (target) rows sit elsewhere
    y = np.where(np.arange(400) < 200, y, -1)
    d = np.r_[np.zeros(200), np.ones(200)]
    dann = DANNClassifier(**TINY, lambda_=1.0).fit(X, y, d)
    np.testing.assert_allclose(dann.input_scaler_.center_, X.mean(axis=0), rtol=1e-5)
    with pytest.warns(UserWarning, match="ignores"):
        erm = ERMClassifier(**TINY).fit(X, y, d)
    np.testing.assert_allclose(erm.input_scaler_.center_, X[:200].mean(axis=0), rtol=1e-5)


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=lambda c: c.__name__)
def test_every_classifier_takes_missing_values(Estimator):
    X, y = _raw_problem()
    X[::7, 2] = np.nan
    d = np.arange(400) % 2
    clf = Estimator(**TINY).fit(X, y, d)
    assert clf.input_scaler_.missing_columns_.tolist() == [2]
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    assert clf.transform(X).shape[0] == 400


@pytest.mark.parametrize("Estimator", [ERMRegressor, DANNRegressor], ids=lambda c: c.__name__)
def test_regressors_take_missing_values_and_raw_units(Estimator):
    X, y = _raw_problem()
    target = X[:, 1] / 1e6
    X[::5, 0] = np.nan
    reg = Estimator(**TINY).fit(X, target, np.arange(400) % 2)
    assert np.isfinite(reg.predict(X)).all()


def test_without_scaling_missing_values_are_refused_naming_the_fix():
    X, y = _raw_problem()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="input_scaling=None.*SimpleImputer"):
        ERMClassifier(**TINY, input_scaling=None).fit(X, y)
    clf = ERMClassifier(**TINY, input_scaling=None).fit(X[1:], y[1:])
    with pytest.raises(ValueError, match="X contains NaN"):
        clf.predict(X[:2])


def test_images_are_never_scaled():
    from helpers import TINY_IMAGES

    rng = np.random.RandomState(0)
    X = rng.rand(40, 1, 8, 8).astype(np.float32)
    y = np.arange(40) % 2
    clf = ERMClassifier(**TINY_IMAGES).fit(X, y)
    assert clf.input_scaler_ is None
    X[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X[:2])


def test_input_scaling_is_validated():
    X, y = _raw_problem()
    with pytest.raises(ValueError, match="input_scaling"):
        ERMClassifier(**TINY, input_scaling="quantile").fit(X, y)


@pytest.mark.parametrize("method", ["standard", "robust"])
def test_blocks_give_the_figures_of_one_pass(method, monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.lognormal(size=(300, 7)) * np.logspace(0, 6, 7)
    X[rng.rand(*X.shape) < 0.1] = np.nan
    X[:, 3] = np.nan  # a column never observed
    whole = TabularScaler(method).fit(X)
    expected = whole.transform(X)
    monkeypatch.setattr(preprocessing, "BLOCK_ELEMENTS", 50)  # 1 column, 7 rows a block
    blocks = TabularScaler(method).fit(X)
    np.testing.assert_array_equal(blocks.center_, whole.center_)
    np.testing.assert_array_equal(blocks.scale_, whole.scale_)
    np.testing.assert_array_equal(blocks.missing_columns_, whole.missing_columns_)
    np.testing.assert_array_equal(blocks.transform(X), expected)
