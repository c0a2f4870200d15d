"""The synthetic generators: shapes, determinism, disjoint domains, clear errors."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skda.datasets import make_shifted_digits


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
