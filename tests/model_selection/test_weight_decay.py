"""optimizer__weight_decay="auto": the backbone's L2 penalty chosen on held-out training rows."""

import numpy as np
import pytest
from helpers import TINY, TINY_IMAGES

from skda import DANNClassifier, ERMClassifier, ERMRegressor, IRMClassifier
from skda.datasets import make_rotated_moons, make_shifted_digits
from skda.model_selection import StrengthSearch
from skda.model_selection._weight_decay import (
    FALLBACK_WEIGHT_DECAY,
    WEIGHT_DECAY_GRID,
    held_out_rows,
    select_one_standard_error,
)

#: TINY with the default weight decay, "auto"
AUTO = {k: v for k, v in TINY.items() if k != "optimizer__weight_decay"}


def test_one_standard_error_rule_keeps_the_strongest_value_within_reach_of_the_best():
    rng = np.random.RandomState(0)
    noise = rng.normal(scale=1.0, size=400)  # standard error of a mean of 400 rows: 0.05
    losses = np.stack([1.0 + noise, 0.9 + noise, 0.93 + noise, 1.2 + noise])
    # the best is 0.9; 0.93 is within 0.05 of it, 1.2 is not
    assert select_one_standard_error(losses) == 2
    # with noiseless losses only the best itself is within reach
    assert select_one_standard_error(np.array([[0.5, 0.5], [0.4, 0.4], [0.45, 0.45]])) == 1


def test_held_out_rows_are_labeled_and_stratified():
    y = np.array([0, 1] * 50 + [-1] * 20)
    domains = np.array(["a"] * 60 + ["b"] * 60)
    valid = held_out_rows(y, domains, 0.2, 0)
    assert not valid[y == -1].any()
    for d in ("a", "b"):
        for c in (0, 1):
            cell = (domains == d) & (y == c)
            assert 0 < valid[cell].sum() < cell.sum()


def _moons(n=300, seed=0):
    X, y, domains = make_rotated_moons(n_samples=n, noise=0.08, random_state=seed)
    source = domains == "source"
    return X[source], y[source]


def _linear_with_noise_columns(seed=0):
    """A near-linear problem on few rows with many irrelevant columns: an MLP overfits it."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(240, 40))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=1.0, size=240) > 0).astype(int)
    return X, y


SMALL_MLP = dict(hidden_layer_sizes=(32,), max_epochs=60, batch_size=64, random_state=0)


def test_auto_weight_decay_is_the_tabular_default_and_is_what_the_model_trains_at():
    X, y = _moons()
    clf = ERMClassifier(**SMALL_MLP).fit(X, y)
    search = clf.weight_decay_search_
    np.testing.assert_array_equal(search["weight_decay"], WEIGHT_DECAY_GRID)
    assert search["selected"].sum() == 1
    assert clf.weight_decay_ == search["weight_decay"][search["selected"]][0]
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == clf.weight_decay_
    assert np.isfinite(search["validation_loss"]).all()


def test_auto_weight_decay_adapts_to_the_problem():
    """A weak penalty for the nonlinear moons, a strong one for the noisy linear table.

    Fails if the search always keeps the same value (or ignores the held-out loss).
    """
    moons = ERMClassifier(**SMALL_MLP).fit(*_moons())
    linear = ERMClassifier(**SMALL_MLP).fit(*_linear_with_noise_columns())
    assert moons.weight_decay_ <= 1e-2
    assert linear.weight_decay_ >= 3e-2


def test_a_number_trains_once_at_that_value():
    X, y = _moons(n=60)
    clf = ERMClassifier(**AUTO, optimizer__weight_decay=0.05).fit(X, y)
    assert clf.weight_decay_ == 0.05
    assert clf.weight_decay_search_ is None
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == 0.05


def test_images_keep_the_optimizers_default_unless_asked():
    X, y, domains = make_shifted_digits(random_state=0)
    X, y, domains = X[::10], y[::10], domains[::10]
    clf = ERMClassifier(**TINY_IMAGES).fit(X, y, domains=domains)
    assert clf.weight_decay_ is None
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == 0
    asked = ERMClassifier(**TINY_IMAGES, optimizer__weight_decay="auto").fit(
        X, y, domains=domains)
    assert asked.weight_decay_ in WEIGHT_DECAY_GRID


def test_too_few_rows_to_hold_out_fall_back():
    X, y = _moons(n=60)
    clf = ERMClassifier(**AUTO).fit(X[:3], np.array([0, 1, 0]))
    assert clf.weight_decay_ == FALLBACK_WEIGHT_DECAY
    assert clf.weight_decay_search_ is None


def test_regressor_chooses_by_squared_error():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = 3.0 * X[:, 0] + 100.0 + rng.normal(scale=0.1, size=200)
    reg = ERMRegressor(**AUTO).fit(X, y)
    assert reg.weight_decay_ in WEIGHT_DECAY_GRID
    # the held-out loss is in the target's units: far above the noise for 3 epochs
    assert np.all(reg.weight_decay_search_["validation_loss"] > 0.01)


def test_other_methods_choose_with_erm_then_train_once():
    X, y, domains = make_rotated_moons(n_samples=120, random_state=0)
    clf = IRMClassifier(**AUTO).fit(X, y, domains=domains)
    assert clf.weight_decay_ in WEIGHT_DECAY_GRID
    assert len(clf.weight_decay_search_["fit_time"]) == len(WEIGHT_DECAY_GRID)


def test_auto_strength_chooses_the_weight_decay_once_and_trains_every_candidate_at_it():
    X, y, domains = make_rotated_moons(n_samples=120, random_state=0)
    y = np.where(domains == "target", -1, y)
    clf = DANNClassifier(**AUTO).fit(X, y, domains=domains)
    assert clf.weight_decay_ in WEIGHT_DECAY_GRID
    assert clf.weight_decay_search_["selected"].sum() == 1
    assert clf.net_.optimizer_.param_groups[0]["weight_decay"] == clf.weight_decay_
    # the ERM of the value kept is the search's strength-0 candidate, not trained again
    kept = clf.weight_decay_search_["fit_time"][clf.weight_decay_search_["selected"]][0]
    assert clf.strength_search_["fit_time"][0] == kept
    # the same through StrengthSearch itself
    search = StrengthSearch(DANNClassifier(**AUTO, lambda_=1.0), strengths=(0, 1),
                            random_state=0).fit(X, y, domains=domains)
    assert search.weight_decay_search_ is not None
    assert search.best_estimator_.weight_decay_ in WEIGHT_DECAY_GRID


def test_same_seed_same_choice_and_predictions():
    X, y = _moons(n=100)
    a = ERMClassifier(**AUTO).fit(X, y)
    b = ERMClassifier(**AUTO).fit(X, y)
    assert a.weight_decay_ == b.weight_decay_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("value", ["high", "Auto"])
def test_a_string_other_than_auto_is_refused(value):
    X, y = _moons(n=60)
    with pytest.raises(ValueError, match="optimizer__weight_decay must be"):
        ERMClassifier(**AUTO, optimizer__weight_decay=value).fit(X, y)
