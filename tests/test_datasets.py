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
