import numpy as np
import pytest
import torch

from skda.datasets import make_rotated_moons

# Keep the suite predictable on a 2-core CI machine: tiny networks gain nothing from a second
# thread, and on a busy machine extra threads cost several times the run time.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def moons():
    """Rotated moons: X, y (all labels), domains, and the target mask."""
    X, y, domains = make_rotated_moons(n_samples=100, random_state=0)
    return X, y, domains, domains == "target"


@pytest.fixture(scope="session")
def moons_uda(moons):
    """Rotated moons with the target labels hidden (``-1``)."""
    X, y, domains, target = moons
    return X, np.where(target, -1, y), domains


@pytest.fixture(scope="session")
def multi_domain():
    """Four labeled domains of a 3-class, 5-feature blob problem, each shifted."""
    rng = np.random.RandomState(0)
    n_per, centers = 60, rng.normal(scale=3.0, size=(3, 5))
    X, y, d = [], [], []
    for k in range(4):
        labels = rng.randint(3, size=n_per)
        X.append(centers[labels] + rng.normal(size=(n_per, 5)) + k * 0.5)
        y.append(labels)
        d.append(np.full(n_per, f"site{k}"))
    return np.vstack(X), np.concatenate(y), np.concatenate(d)



@pytest.fixture(scope="session")
def shifted_blobs():
    """Two domains, the target translated by +1.5 in every feature, target unlabeled.

    A translation is what a linear probe can see, so alignment is measurable.
    Returns X, y_true, y_train (target = -1), domains.
    """
    rng = np.random.RandomState(0)
    n = 200
    y = rng.randint(2, size=2 * n)
    X = rng.normal(size=(2 * n, 5)) + 2.0 * y[:, None] * np.array([1, -1, 0, 0, 0])
    domains = np.repeat(np.array(["source", "target"]), n)
    X[n:] += 1.5
    return X, y, np.where(domains == "target", -1, y), domains


@pytest.fixture(scope="session")
def digit_images():
    """Two rotation domains of the bundled digits: X (n, 1, 8, 8), y, domains (0 or 45)."""
    from skda.datasets import make_shifted_digits

    return make_shifted_digits("rotation", domains=[0, 45], random_state=0)

