"""Entropic optimal transport (skda.modules.transport): against independent computations."""

import numpy as np
import pytest
import torch

from skda.modules.transport import padded_groups, sinkhorn_distance, sinkhorn_distances


def cosine_cost(x, y):
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    return 1.0 - x @ y.T


def plain_sinkhorn(x, y, epsilon, n_iter=2000):
    """The textbook scaling iterations (not in the log domain), in float64."""
    cost = cosine_cost(x, y)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    kernel = np.exp(-cost / epsilon)
    u = np.ones(len(x))
    for _ in range(n_iter):
        v = b / (kernel.T @ u)
        u = a / (kernel @ v)
    plan = u[:, None] * kernel * v[None, :]
    return float((plan * cost).sum()), plan


@pytest.fixture
def points():
    rng = np.random.RandomState(0)
    return rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.5


@pytest.mark.parametrize("epsilon", [0.1, 0.5])
def test_matches_the_textbook_iterations(points, epsilon):
    x, y = points
    expected, plan = plain_sinkhorn(x, y, epsilon)
    # the plan's marginals are the uniform weights: it is a transport plan
    np.testing.assert_allclose(plan.sum(1), 1 / len(x), rtol=1e-6)
    np.testing.assert_allclose(plan.sum(0), 1 / len(y), rtol=1e-6)
    got = sinkhorn_distance(torch.tensor(x, dtype=torch.float32),
                            torch.tensor(y, dtype=torch.float32), epsilon, n_iter=200)
    assert float(got) == pytest.approx(expected, rel=1e-4)


def test_matches_pot_where_installed(points):
    ot = pytest.importorskip("ot")
    x, y = points
    cost = cosine_cost(x, y)
    expected = ot.sinkhorn2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cost,
                            0.1, numItermax=10000, stopThr=1e-12)
    got = sinkhorn_distance(torch.tensor(x, dtype=torch.float32),
                            torch.tensor(y, dtype=torch.float32), 0.1, n_iter=200)
    assert float(got) == pytest.approx(float(expected), rel=1e-4)


def test_padding_changes_nothing_and_an_empty_set_gives_zero(points):
    x, y = (torch.tensor(p, dtype=torch.float32) for p in points)
    alone = sinkhorn_distance(x, y)
    features = torch.cat([x, y])
    groups = torch.tensor([0] * len(x) + [2] * len(y))  # group 1 is empty
    padded, mask = padded_groups(features, groups, 3)
    assert padded.shape == (3, len(x), 3) and mask.sum(1).tolist() == [len(x), 0, len(y)]
    distances = sinkhorn_distances(padded[[0, 0]], mask[[0, 0]], padded[[2, 1]], mask[[2, 1]])
    assert float(distances[0]) == pytest.approx(float(alone), rel=1e-5)
    assert float(distances[1]) == 0.0


def test_gradient_flows_to_both_sets(points):
    x, y = (torch.tensor(p, dtype=torch.float32, requires_grad=True) for p in points)
    sinkhorn_distance(x, y).backward()
    assert x.grad.abs().sum() > 0 and y.grad.abs().sum() > 0
