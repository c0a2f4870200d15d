"""MMD: the penalty is the squared MMD over all pairs of domains, and it aligns the features."""

import itertools

import numpy as np
import pytest
import torch
from helpers import domain_probe_accuracy
from torch import nn

from skda._params import InvalidParameterError
from skda.methods.mmd import MMD, MMDClassifier, gaussian_kernels, mmd_penalty
from skda.modules import MaskedCrossEntropy


def kernel_numpy(z, kernel):
    """The summed Gaussian kernels, written out from the definitions."""
    sq = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    if kernel == "fixed":  # DomainBed's
        return sum(np.exp(-g * sq) for g in [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000])
    n = len(z)  # DAN's: bandwidths 2^k times the mean squared distance of distinct rows
    width = sq.sum() / (n * (n - 1))
    return sum(np.exp(-sq / (2.0**k * width)) for k in range(-2, 3))


def mmd_numpy(z, domains, kernel):
    """Mean over domain pairs of the biased squared MMD, kernel computed on the whole batch."""
    k = kernel_numpy(z, kernel)
    values = []
    for i, j in itertools.combinations(np.unique(domains), 2):
        a, b = domains == i, domains == j
        values.append(k[a][:, a].mean() + k[b][:, b].mean() - 2 * k[a][:, b].mean())
    return np.mean(values)


def batch(seed=0):
    """Three domains of unequal size (3, 5, 4 rows), 4 features, row 6 unlabeled."""
    rng = np.random.RandomState(seed)
    domains = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2])
    z = 0.5 * rng.normal(size=(len(domains), 4)) + domains[:, None] * np.array([0.5, 0, -1, 0])
    y = rng.randint(2, size=len(domains))
    y[6] = -1
    return z, y, domains


@pytest.mark.parametrize("kernel", ["adaptive", "fixed"])
def test_penalty_matches_the_direct_computation_over_three_domains(kernel):
    z, _, domains = batch()
    t = torch.tensor(z, dtype=torch.float32)
    np.testing.assert_allclose(gaussian_kernels(t, kernel).numpy(), kernel_numpy(z, kernel),
                               rtol=1e-4, atol=1e-5)
    value = mmd_penalty(t, torch.tensor(domains), 3, kernel)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(mmd_numpy(z, domains, kernel), rel=1e-4)


def test_an_absent_domain_is_left_out():
    z, _, domains = batch(1)
    with_absent = mmd_penalty(torch.tensor(z, dtype=torch.float32), torch.tensor(domains), 4)
    assert with_absent.item() == pytest.approx(mmd_numpy(z, domains, "adaptive"), rel=1e-4)


def test_adaptive_bandwidths_make_the_penalty_scale_free_and_fixed_ones_do_not():
    z, _, domains = batch()
    t, codes = torch.tensor(z, dtype=torch.float32), torch.tensor(domains)
    adaptive = [mmd_penalty(s * t, codes, 3, "adaptive").item() for s in (1.0, 10.0)]
    fixed = [mmd_penalty(s * t, codes, 3, "fixed").item() for s in (1.0, 10.0)]
    assert adaptive[1] == pytest.approx(adaptive[0], rel=1e-4)
    assert abs(fixed[1] - fixed[0]) > 0.1 * fixed[0]


@pytest.mark.parametrize("kernel", ["adaptive", "fixed"])
def test_penalty_is_zero_for_identical_domains_and_has_a_gradient(kernel):
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    twice = torch.cat([z, z]).requires_grad_()
    domains = torch.tensor([0] * 6 + [1] * 6)
    assert mmd_penalty(twice, domains, 2, kernel).item() == pytest.approx(0.0, abs=1e-4)
    mmd_penalty(twice * torch.linspace(1, 2, 12)[:, None], domains, 2, kernel).backward()
    assert torch.isfinite(twice.grad).all() and twice.grad.abs().sum() > 0


def test_constant_features_give_zero_rather_than_nan():
    z = torch.ones(8, 3, requires_grad=True)
    value = mmd_penalty(z, torch.tensor([0, 1] * 4), 2, "adaptive")
    value.backward()
    assert value.item() == 0.0 and torch.isfinite(z.grad).all()


def test_penalty_is_computed_in_float32_under_autocast():
    z, _, domains = batch()
    half = torch.tensor(z, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = mmd_penalty(half, torch.tensor(domains), 3)
    assert value.dtype == torch.float32
    exact = mmd_numpy(half.float().numpy().astype(np.float64), domains, "adaptive")
    assert value.item() == pytest.approx(exact, rel=1e-4)


def test_unlabeled_rows_join_the_penalty_and_not_the_label_loss():
    z, y, domains = batch()
    module = MMD(nn.Identity(), 4, 2, 3, lambda_=2.0, kernel="fixed")
    X, y, domains = torch.tensor(z, dtype=torch.float32), torch.tensor(y), torch.tensor(domains)
    loss, terms = module.training_loss(X, y, domains, MaskedCrossEntropy())
    assert terms["alignment_loss"].item() == pytest.approx(
        mmd_numpy(z, domains.numpy(), "fixed"), rel=1e-4)
    labeled = y >= 0
    expected_label = nn.functional.cross_entropy(module.classifier(X[labeled]), y[labeled])
    assert terms["label_loss"].item() == pytest.approx(expected_label.item(), rel=1e-5)
    assert loss.item() == pytest.approx(
        terms["label_loss"].item() + 2.0 * terms["alignment_loss"].item(), rel=1e-5)


@pytest.mark.parametrize("kernel", ["adaptive", "fixed"])
def test_alignment_shrinks_the_gap_between_held_out_domains(shifted_blobs, kernel):
    """With lambda_ > 0 the held-out domains' features are closer in MMD and mix more.

    The target is a translation of the source, which ERM's features
    (lambda_=0) keep. Measured (CPU, seeds 0 and 1), adaptive kernel: MMD
    0.77, 1.69 -> 0.04, 0.08; domain probe 0.93, 0.96 -> 0.60, 0.86 (fixed
    kernel: probe -> 0.66, 0.88). The probe is scale-free, so shrinking the
    features would not pass it.
    """
    X, _, y_train, d = shifted_blobs
    rng = np.random.RandomState(1)
    y_new = rng.randint(2, size=len(d))
    X_new = rng.normal(size=X.shape) + 2.0 * y_new[:, None] * np.array([1, -1, 0, 0, 0])
    X_new[d == "target"] += 1.5
    codes = torch.tensor((d == "target").astype(np.int64))
    penalty, probe = {}, {}
    for lam in (0.0, 1.0):
        features = [MMDClassifier(hidden_layer_sizes=(16,), max_epochs=20, batch_size=32,
                                  lambda_=lam, kernel=kernel, random_state=seed)
                    .fit(X, y_train, domains=d).transform(X_new) for seed in (0, 1)]
        penalty[lam] = np.mean([mmd_penalty(torch.tensor(f), codes, 2, kernel).item()
                                for f in features])
        probe[lam] = np.mean([domain_probe_accuracy(f, d) for f in features])
    assert penalty[1.0] < 0.25 * penalty[0.0], penalty
    assert probe[0.0] > 0.9 and probe[1.0] < probe[0.0] - 0.1, probe


def test_history_records_the_terms_and_lambda_zero_is_erm(moons_uda):
    X, y, d = moons_uda
    params = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0)
    clf = MMDClassifier(**params, lambda_=0.0).fit(X, y, domains=d)
    row = clf.net_.history[-1]
    assert row["train_alignment_loss"] > 0
    assert row["train_loss"] == pytest.approx(row["train_label_loss"], rel=1e-5)


def test_refuses_one_domain_and_an_unknown_kernel(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="at least 2"):
        MMDClassifier(max_epochs=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="kernel"):
        MMDClassifier(kernel="gaussian").fit(X, y, domains=d)
