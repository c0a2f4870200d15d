"""The synthetic generators: shapes, determinism, disjoint domains, clear errors."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skda.datasets import make_shifted_digits, make_site_shift


def test_rotation_domains_partition_the_digits():
    X, y, d = make_shifted_digits("rotation", random_state=0)
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float32
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    assert sorted(set(d.tolist())) == [0, 15, 30, 45, 60, 75]
    counts = np.unique(d, return_counts=True)[1]
    assert counts.max() - counts.min() <= 1
    assert X.min() >= 0 and X.max() <= 1


def test_angle_zero_is_the_original_images():
    X, y, d = make_shifted_digits("rotation", domains=[0], random_state=0)
    digits = load_digits()
    # one domain holds every image, in the dealt order: compare as sets of rows
    original = {(img / 16.0).astype(np.float32).tobytes() for img in digits.images}
    assert {img[0].tobytes() for img in X} == original


def test_rotation_by_90_degrees_is_exact():
    X0, _, _ = make_shifted_digits("rotation", domains=[0], random_state=3)
    X90, _, _ = make_shifted_digits("rotation", domains=[90], random_state=3)
    np.testing.assert_allclose(X90[:, 0], np.rot90(X0[:, 0], k=1, axes=(1, 2)), atol=1e-6)


def test_style_domains():
    X, y, d = make_shifted_digits("style", random_state=0)
    assert X.shape == (1797, 3, 8, 8)
    gray, inverted = X[d == "gray"], X[d == "inverted"]
    assert np.array_equal(gray[:, 0], gray[:, 1])  # colourless
    # inverted: dark ink on white, so far brighter on average
    assert inverted.mean() > 2 * gray.mean()


def test_same_seed_same_data():
    a = make_shifted_digits("style", random_state=5)
    b = make_shifted_digits("style", random_state=5)
    c = make_shifted_digits("style", random_state=6)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"shift": "blur"}, ValueError, "shift must be 'rotation' or 'style'"),
    ({"shift": "style", "domains": ["sepia"]}, ValueError, r"unknown style\(s\) \['sepia'\]"),
    ({"shift": "rotation", "domains": ["x"]}, TypeError, "angles in degrees"),
    ({"shift": "rotation", "domains": [0, 0]}, ValueError, "distinct"),
    ({"shift": "rotation", "domains": []}, ValueError, "non-empty"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_shifted_digits(**kwargs)


def colour_of(X):
    """The tint of each image: its RGB value at its brightest pixel, normalized."""
    flat = X.reshape(len(X), 3, -1)
    brightest = flat.sum(axis=1).argmax(axis=1)
    colour = flat[np.arange(len(X)), :, brightest]
    return colour / colour.sum(axis=1, keepdims=True)


def test_colored_digits_correlation_per_domain():
    from skda.datasets import make_colored_digits

    X, y, d = make_colored_digits(correlations=(1.0, 0.0), random_state=0)
    assert X.shape == (1797, 3, 8, 8) and X.dtype == np.float32 and set(d) == {0, 1}
    colours = colour_of(X)
    # domain 0: every image of a class wears the same colour
    for c in range(10):
        rows = (d == 0) & (y == c)
        np.testing.assert_allclose(colours[rows], colours[rows][:1].repeat(rows.sum(), 0),
                                   atol=1e-5)
    # domain 1: colour is drawn independently of the class (about 1 in 10 match)
    class_colour = {c: colours[(d == 0) & (y == c)][0] for c in range(10)}
    match = np.mean([np.allclose(colours[i], class_colour[y[i]], atol=1e-5)
                     for i in np.flatnonzero(d == 1)])
    assert 0.05 < match < 0.2


@pytest.mark.parametrize("correlations", [(), (1.5,), ("high",)])
def test_colored_digits_bad_correlations(correlations):
    from skda.datasets import make_colored_digits

    with pytest.raises(ValueError, match="correlations must be a non-empty sequence"):
        make_colored_digits(correlations=correlations)


# -- make_site_shift ------------------------------------------------------------------------

def _site_rules(X, y, d):
    from sklearn.linear_model import LogisticRegression

    coefs = [LogisticRegression(C=100.0).fit(X[d == s], y[d == s]).coef_[0] for s in np.unique(d)]
    return [c @ coefs[0] / np.linalg.norm(c) / np.linalg.norm(coefs[0]) for c in coefs]


def test_site_shift_without_shift_makes_alike_sites():
    X, y, d = make_site_shift(n_samples=2000, covariate_shift=0.0, random_state=0)
    assert X.shape == (8000, 8) and set(np.unique(y)) == {0, 1}
    assert np.unique(d).tolist() == ["site0", "site1", "site2", "site3"]
    prevalences = [y[d == s].mean() for s in np.unique(d)]
    assert np.ptp(prevalences) < 0.05
    assert min(_site_rules(X, y, d)) > 0.95


def test_site_shift_covariate_knob_moves_p_x_but_not_the_rule():
    X, y, d = make_site_shift(n_samples=2000, covariate_shift=2.0, random_state=0)
    for s in np.unique(d):
        assert np.linalg.norm(X[d == s].mean(axis=0)) == pytest.approx(2.0, abs=0.15)
    assert min(_site_rules(X, y, d)) > 0.95


def test_site_shift_label_knob_sets_prevalence_and_keeps_p_x_given_y():
    X, y, d = make_site_shift(n_samples=2000, covariate_shift=0.0, label_shift=2.0,
                              random_state=0)
    expected = 1 / (1 + np.exp(-2.0 * np.linspace(-1, 1, 4)))
    np.testing.assert_allclose([y[d == s].mean() for s in np.unique(d)], expected, atol=1e-3)
    for label in (0, 1):
        means = np.array([X[(d == s) & (y == label)].mean(axis=0) for s in np.unique(d)])
        assert np.abs(means - means.mean(axis=0)).max() < 0.2


def test_site_shift_concept_knob_changes_the_rule():
    X, y, d = make_site_shift(n_samples=2000, covariate_shift=0.0, concept_shift=1.0,
                              random_state=0)
    assert min(_site_rules(X, y, d)) < 0.7


def test_site_shift_is_seeded_and_takes_per_site_sizes():
    a = make_site_shift(n_sites=3, n_samples=[50, 80, 20], random_state=1)
    b = make_site_shift(n_sites=3, n_samples=[50, 80, 20], random_state=1)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert [int((a[2] == f"site{k}").sum()) for k in range(3)] == [50, 80, 20]


@pytest.mark.parametrize("dependence, expected", [
    (0.0, [0.5, 0.5, 0.5, 0.5]), (0.8, [0.1, 0.9, 0.1, 0.9]), (1.0, [0.0, 1.0, 0.0, 1.0])])
def test_site_label_dependence_sets_the_sites_class_shares(dependence, expected):
    X, y, d = make_site_shift(n_samples=500, site_label_dependence=dependence, random_state=0)
    np.testing.assert_allclose([y[d == s].mean() for s in np.unique(d)], expected)


def test_rows_random_state_draws_new_rows_from_the_same_sites():
    kwargs = dict(n_sites=3, covariate_shift=3.0, random_state=4)
    X, y, d = make_site_shift(n_samples=3000, prevalence=[0.2, 0.5, 0.8], rows_random_state=1,
                              **kwargs)
    X2, y2, d2 = make_site_shift(n_samples=2000, prevalence=[0.8, 0.5, 0.2],
                                 rows_random_state=2, **kwargs)
    np.testing.assert_allclose([y2[d2 == s].mean() for s in np.unique(d2)], [0.8, 0.5, 0.2])
    assert not np.isin(X2[:, 0], X[:, 0]).any()
    # same sites: each class looks the same in both draws (p(x | y, site) is kept)
    for s in np.unique(d):
        for label in (0, 1):
            gap = X[(d == s) & (y == label)].mean(0) - X2[(d2 == s) & (y2 == label)].mean(0)
            assert np.abs(gap).max() < 0.25
    # without rows_random_state a different seed gives different sites
    X3, _, d3 = make_site_shift(n_samples=3000, random_state=5, n_sites=3, covariate_shift=3.0)
    assert np.abs(X3[d3 == "site0"].mean(0) - X[d == "site0"].mean(0)).max() > 0.5


@pytest.mark.parametrize("kwargs, match", [
    ({"site_label_dependence": 0.5, "label_shift": 1.0}, "give one"),
    ({"site_label_dependence": 1.5}, "site_label_dependence"),
    ({"prevalence": [0.5, 0.5]}, "prevalence must be a list of 4"),
    ({"prevalence": [0.5, 0.5, 0.5, 1.2]}, "prevalence must be a list of 4"),
    ({"prevalence": [0.5] * 4, "label_shift": 1.0}, "leave label_shift"),
    ({"n_samples": [10, 10]}, "one per site"), ({"label_shift": -1.0}, "label_shift"),
    ({"covariate_shift": float("inf")}, "covariate_shift"), ({"n_sites": 0}, "n_sites")])
def test_site_shift_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_site_shift(random_state=0, **kwargs)
