"""CCSAClassifier: its loss, its settings, and that it aligns classes across domains."""

import math

import numpy as np
import pytest
import torch
from helpers import TINY
from scipy.spatial.distance import cdist

from skda import CCSAClassifier, ERMClassifier
from skda.methods.ccsa import contrastive_alignment


def test_alpha_zero_is_erm(multi_domain):
    X, y, d = multi_domain
    ccsa = CCSAClassifier(alpha=0.0, **TINY).fit(X, y, domains=d)
    erm = ERMClassifier(**TINY).fit(X, y, domains=d)
    np.testing.assert_allclose(ccsa.predict_proba(X), erm.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_history_records_the_weighted_loss(multi_domain):
    X, y, d = multi_domain
    clf = CCSAClassifier(alpha=0.4, margin=3.0, **TINY).fit(X, y, domains=d)
    h = clf.net_.history[-1]
    expected = 0.6 * h["train_label_loss"] + 0.4 * (
        h["train_alignment_loss"] + h["train_separation_loss"])
    assert h["train_loss"] == pytest.approx(expected, rel=1e-5)
    assert h["train_separation_loss"] > 0  # margin 3 is wider than early distances


def test_unlabeled_rows_are_dropped_with_a_warning(moons):
    X, y, d, target = moons
    y_train = np.where(target, -1, y)
    y_train[np.flatnonzero(target)[:6]] = y[np.flatnonzero(target)[:6]]  # 6 labeled target rows
    with pytest.warns(UserWarning, match=r"CCSAClassifier ignores the 94 rows with y == -1"):
        clf = CCSAClassifier(**TINY).fit(X, y_train, domains=d)
    assert list(clf.domains_) == ["source", "target"]


def test_one_labeled_domain_is_an_error(moons_uda):
    X, y, d = moons_uda  # target entirely unlabeled
    with pytest.warns(UserWarning, match="ignores the 100 rows"), pytest.raises(
            ValueError, match="CCSAClassifier needs labeled rows from at least 2 domains, "
                              "got 1"):
        CCSAClassifier(**TINY).fit(X, y, domains=d)


@pytest.mark.parametrize("params, error, match", [
    ({"alpha": 1.5}, ValueError,
     r"alpha must be a finite real number in \[0, 1\] or .auto., got 1.5"),
    ({"alpha": float("nan")}, ValueError, "alpha must be a finite real number in .*, got nan"),
    ({"margin": -1}, ValueError, "margin must be a finite real number >= 0, got -1"),
    ({"margin": "wide"}, TypeError, "margin must be a finite real number >= 0, got 'wide'"),
])
def test_invalid_parameters(params, error, match, multi_domain):
    X, y, d = multi_domain
    with pytest.raises(error, match=match):
        CCSAClassifier(**{**TINY, **params}).fit(X, y, domains=d)


def cross_domain_ratio(Z, y, d):
    """Mean same-class over mean different-class distance, cross-domain pairs only.

    Measured between the features scaled to unit length, as the loss compares them.
    """
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True).clip(1e-12)
    dist = cdist(Z, Z)
    cross = d[:, None] != d[None, :]
    same = y[:, None] == y[None, :]
    return dist[cross & same].mean() / dist[cross & ~same].mean()


def test_features_of_a_class_come_together_across_domains(multi_domain):
    X, y, d = multi_domain
    params = dict(hidden_layer_sizes=(16,), max_epochs=80, batch_size=64, lr=3e-3)
    ratios = {}
    for alpha in (0.0, 0.75):
        ratios[alpha] = np.mean([
            cross_domain_ratio(
                CCSAClassifier(alpha=alpha, random_state=seed, **params).fit(
                    X, y, domains=d).transform(X), y, d)
            for seed in range(2)])
    # same-class pairs end up clearly closer, relative to different-class pairs
    assert ratios[0.75] < 0.8 * ratios[0.0], ratios  # measured: 0.20 vs 0.32


def test_pair_losses_ignore_the_scale_of_the_features():
    # the fix for a margin that a network can outgrow: distances between unit vectors
    import torch
    from torch import nn

    from skda.methods.ccsa import CCSA
    from skda.modules import MaskedCrossEntropy

    torch.manual_seed(0)
    X, y, d = torch.randn(16, 3), torch.randint(2, (16,)), torch.arange(16) % 2
    terms = {}
    for normalize in (True, False):
        for scale in (1.0, 10.0):
            torch.manual_seed(1)  # the same weights every time, before scaling
            model = CCSA(nn.Linear(3, 4), 4, 2, alpha=0.5, normalize_features=normalize)
            with torch.no_grad():
                model.featurizer.weight.mul_(scale)
                model.featurizer.bias.mul_(scale)
            _, parts = model.training_loss(X, y, d, MaskedCrossEntropy())
            terms[normalize, scale] = (parts["alignment_loss"].item(),
                                       parts["separation_loss"].item())
    assert terms[True, 1.0] == pytest.approx(terms[True, 10.0], rel=1e-5)
    assert terms[False, 10.0][0] == pytest.approx(100 * terms[False, 1.0][0], rel=1e-4)
    with pytest.raises(TypeError, match="normalize_features must be a bool"):
        CCSAClassifier(normalize_features=1, **TINY).fit(
            X.numpy(), y.numpy(), domains=d.numpy())


def test_contrastive_alignment_of_two_known_pairs():
    # rows 0, 1 in domain 0; rows 2, 3 in domain 1. Cross-domain pairs:
    # (0,2) same class at distance 5, (1,3) same class at distance 0.5,
    # (0,3) and (1,2) different classes at distance sqrt(0.5^2 + 4^2) etc.
    z = torch.tensor([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0], [3.0, 0.5]])
    y = torch.tensor([0, 1, 0, 1])
    domains = torch.tensor([0, 0, 1, 1])
    alignment, separation = contrastive_alignment(z, y, domains, margin=1.0)
    # same-class cross-domain pairs (each counted both ways): d^2 = 25 and 0.25
    assert alignment.item() == pytest.approx((25 + 0.25) / 2)
    # different-class pairs: (0,3) at sqrt(9.25) > margin -> 0; (1,2) at 4 -> 0
    assert separation.item() == pytest.approx(0.0)
    # a larger margin makes the pair (0,3) cost (m - sqrt(9.25))^2 and (1,2) (m - 4)^2
    _, separation = contrastive_alignment(z, y, domains, margin=5.0)
    expected = ((5 - math.sqrt(9.25)) ** 2 + (5 - 4) ** 2) / 2
    assert separation.item() == pytest.approx(expected, rel=1e-5)


def test_contrastive_alignment_ignores_same_domain_and_unlabeled_pairs():
    z = torch.tensor([[0.0], [10.0], [0.0], [7.0]])
    # rows 0 and 1 share domain and class: no pair; row 3 is unlabeled
    y = torch.tensor([0, 0, 0, -1])
    domains = torch.tensor([0, 0, 1, 1])
    alignment, separation = contrastive_alignment(z, y, domains)
    assert alignment.item() == pytest.approx((0 + 100) / 2)  # pairs (0,2) and (1,2)
    assert separation.item() == 0.0  # no different-class pair at all, no NaN


def test_contrastive_alignment_gradient_is_finite_for_coincident_points():
    z = torch.zeros(4, 3, requires_grad=True)
    alignment, separation = contrastive_alignment(
        z, torch.tensor([0, 1, 0, 1]), torch.tensor([0, 0, 1, 1]))
    (alignment + separation).backward()
    assert torch.isfinite(z.grad).all()
