"""Deep CORAL: the penalty is DomainBed's over all pairs of domains, and it aligns the features."""

import itertools

import numpy as np
import pytest
import torch
from helpers import FIXED_DECAY, domain_probe_accuracy
from torch import nn

from skda._params import InvalidParameterError
from skda.methods.coral import DeepCORAL, DeepCORALClassifier, coral_penalty
from skda.modules import MaskedCrossEntropy


def coral_numpy(z, domains):
    """Mean over domain pairs of mean((m_i - m_j)^2) + mean((C_i - C_j)^2), written out."""
    gaps = []
    for i, j in itertools.combinations(np.unique(domains), 2):
        a, b = z[domains == i], z[domains == j]
        mean_gap = ((a.mean(0) - b.mean(0)) ** 2).mean()
        cov_gap = ((np.cov(a.T) - np.cov(b.T)) ** 2).mean() if min(len(a), len(b)) > 1 else None
        gaps.append((mean_gap, cov_gap))
    means = np.mean([m for m, _ in gaps])
    covs = [c for _, c in gaps if c is not None]
    return means + (np.mean(covs) if covs else 0.0)


def batch(seed=0):
    """Three domains of unequal size (3, 5, 4 rows), 4 features, row 6 unlabeled."""
    rng = np.random.RandomState(seed)
    domains = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2])
    z = rng.normal(size=(len(domains), 4)) + domains[:, None] * np.array([1.0, 0, -2, 0])
    y = rng.randint(2, size=len(domains))
    y[6] = -1
    return z, y, domains


def test_penalty_matches_the_direct_computation_over_three_domains():
    z, _, domains = batch()
    value = coral_penalty(torch.tensor(z, dtype=torch.float32), torch.tensor(domains), 3)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(coral_numpy(z, domains), rel=1e-5)


def test_a_domain_with_one_row_counts_for_its_mean_only_and_an_absent_one_not_at_all():
    z, _, domains = batch(1)
    domains = domains.copy()
    domains[-4:] = [2, 3, 3, 3]  # domain 2 has one row now; domain 4 of 5 has none
    value = coral_penalty(torch.tensor(z, dtype=torch.float32), torch.tensor(domains), 5)
    assert value.item() == pytest.approx(coral_numpy(z, domains), rel=1e-5)


def test_penalty_is_zero_for_identical_domains_and_has_a_gradient():
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    twice = torch.cat([z, z]).requires_grad_()
    domains = torch.tensor([0] * 6 + [1] * 6)
    value = coral_penalty(twice, domains, 2)
    assert value.item() == pytest.approx(0.0, abs=1e-6)
    coral_penalty(twice * torch.linspace(1, 2, 12)[:, None], domains, 2).backward()
    assert torch.isfinite(twice.grad).all() and twice.grad.abs().sum() > 0


def test_penalty_is_computed_in_float32_under_autocast():
    z, _, domains = batch()
    half = torch.tensor(z, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = coral_penalty(half, torch.tensor(domains), 3)
    assert value.dtype == torch.float32
    exact = coral_numpy(half.float().numpy().astype(np.float64), domains)
    assert value.item() == pytest.approx(exact, rel=1e-5)


def test_unlabeled_rows_join_the_penalty_and_not_the_label_loss():
    z, y, domains = batch()
    module = DeepCORAL(nn.Identity(), 4, 2, 3, lambda_=2.0)
    X, y, domains = torch.tensor(z, dtype=torch.float32), torch.tensor(y), torch.tensor(domains)
    loss, terms = module.training_loss(X, y, domains, MaskedCrossEntropy())
    assert terms["alignment_loss"].item() == pytest.approx(
        coral_numpy(z, domains.numpy()), rel=1e-5)
    labeled = y >= 0
    expected_label = nn.functional.cross_entropy(module.classifier(X[labeled]), y[labeled])
    assert terms["label_loss"].item() == pytest.approx(expected_label.item(), rel=1e-5)
    assert loss.item() == pytest.approx(
        terms["label_loss"].item() + 2.0 * terms["alignment_loss"].item(), rel=1e-5)


def test_alignment_shrinks_the_gap_between_held_out_domains(shifted_blobs):
    """With lambda_ > 0 the held-out domains' features have closer moments and mix more.

    The target is a translation of the source: ERM's features (lambda_=0) keep
    it, CORAL's mean term removes it. Measured (CPU, seeds 0 and 1): penalty
    0.17, 0.66 -> 0.007, 0.047; domain probe 0.93, 0.96 -> 0.70, 0.94. The
    probe is scale-free, so shrinking the features would not pass it.
    """
    X, _, y_train, d = shifted_blobs
    rng = np.random.RandomState(1)
    y_new = rng.randint(2, size=len(d))
    X_new = rng.normal(size=X.shape) + 2.0 * y_new[:, None] * np.array([1, -1, 0, 0, 0])
    X_new[d == "target"] += 1.5
    codes = torch.tensor((d == "target").astype(np.int64))
    penalty, probe = {}, {}
    for lam in (0.0, 1.0):
        features = [DeepCORALClassifier(hidden_layer_sizes=(16,), max_epochs=20, batch_size=32,
                                        lambda_=lam, random_state=seed, **FIXED_DECAY)
                    .fit(X, y_train, domains=d).transform(X_new) for seed in (0, 1)]
        penalty[lam] = np.mean([coral_penalty(torch.tensor(f), codes, 2).item()
                                for f in features])
        probe[lam] = np.mean([domain_probe_accuracy(f, d) for f in features])
    assert penalty[1.0] < 0.25 * penalty[0.0], penalty
    assert probe[0.0] > 0.9 and probe[1.0] < probe[0.0] - 0.05, probe


def test_history_records_the_terms_and_lambda_zero_is_erm(moons_uda):
    X, y, d = moons_uda
    params = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0)
    clf = DeepCORALClassifier(**params, lambda_=0.0).fit(X, y, domains=d)
    row = clf.net_.history[-1]
    assert row["train_alignment_loss"] > 0
    assert row["train_loss"] == pytest.approx(row["train_label_loss"], rel=1e-5)


def test_refuses_one_domain_and_a_negative_lambda(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="at least 2"):
        DeepCORALClassifier(max_epochs=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="lambda_"):
        DeepCORALClassifier(lambda_=-1.0).fit(X, y, domains=d)
