"""Mixup: rows of different domains are mixed, and so are their labels' losses."""

import functools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import TINY, TINY_IMAGES
from torch import nn

from skda import ERMClassifier
from skda.datasets import make_site_shift
from skda.methods.mixup import (
    Mixup,
    MixupClassifier,
    pair_across_domains,
    sample_mixing_weights,
)
from skda.modules import MaskedCrossEntropy


class Recording(nn.Module):
    """A linear featurizer that keeps the last batch it was given."""

    def __init__(self, n_in, n_out=3):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, X):
        self.seen = X.detach().clone()
        return self.linear(X.flatten(1))


def shuffled_domains(counts, seed=0):
    codes = np.repeat(np.arange(len(counts)), counts)
    return torch.tensor(np.random.RandomState(seed).permutation(codes))


@pytest.mark.parametrize("counts", [[4, 4, 4], [5, 3, 4], [6, 0, 6, 2], [7, 7]])
def test_rows_are_paired_one_to_one_with_rows_of_another_domain(counts):
    domains = shuffled_domains(counts)
    torch.manual_seed(0)
    pairs = pair_across_domains(domains, len(counts))
    present = [k for k, c in enumerate(counts) if c > 0]
    m = min(counts[k] for k in present)
    used = pairs.used.numpy()
    assert np.bincount(domains[used].numpy(), minlength=len(counts)).tolist() == [
        m if c else 0 for c in counts]
    partner, inverse = pairs.partner[pairs.used], pairs.inverse[pairs.used]
    assert (domains[partner] != domains[pairs.used]).all()
    # one to one: every used row is the partner of exactly one used row
    assert sorted(partner.tolist()) == np.flatnonzero(used).tolist()
    assert (pairs.partner[inverse] == torch.nonzero(pairs.used).flatten()).all()
    # the domains form one cycle through the present ones
    walk, d = [], present[0]
    for _ in present:
        walk.append(d)
        d = int(pairs.next_domain[d])
    assert d == present[0] and sorted(walk) == present
    assert pairs.present.tolist() == [c > 0 for c in counts]


def test_partners_follow_batch_order_within_each_domain():
    domains = torch.tensor([0, 1, 0, 1, 0, 1])
    pairs = pair_across_domains(domains, 2)
    assert pairs.partner.tolist() == [1, 0, 3, 2, 5, 4]


def test_a_single_domain_pairs_each_row_with_itself():
    domains = torch.zeros(5, dtype=torch.int64)
    pairs = pair_across_domains(domains, 1)
    assert (pairs.partner == torch.arange(5)).all() and pairs.used.all()


def test_mixing_weights_follow_the_beta_distribution_and_stay_finite_near_zero():
    torch.manual_seed(0)
    uniform = sample_mixing_weights(1.0, 100_000)
    assert uniform.mean() == pytest.approx(0.5, abs=0.01)
    assert uniform.var() == pytest.approx(1 / 12, abs=0.002)
    for alpha in (1e-8, 1e-3):
        lam = sample_mixing_weights(alpha, 10_000)
        assert torch.isfinite(lam).all() and torch.minimum(lam, 1 - lam).mean() < 0.01
    assert (sample_mixing_weights(0.0, 7) == 1).all()


@pytest.mark.parametrize("weighted", [False, True])
def test_loss_is_the_lam_weighted_cross_entropy_of_the_mixed_rows(weighted):
    torch.manual_seed(0)
    n_domains, X = 3, torch.randn(12, 4)
    domains = shuffled_domains([4, 4, 4], seed=1)
    y = torch.randint(3, (12,))
    weight = torch.rand(12) + 0.1 if weighted else None
    label_loss = functools.partial(MaskedCrossEntropy(), weight=weight)
    module = Mixup(Recording(4), 3, 3, n_domains, alpha=1.0)

    torch.manual_seed(5)
    pairs = pair_across_domains(domains, n_domains)
    lam = sample_mixing_weights(1.0, n_domains)
    torch.manual_seed(5)  # the same draws inside training_loss
    loss, terms = module.training_loss(X, y, domains, label_loss)

    row_lam = lam[domains].unsqueeze(1)
    mixed = row_lam * X + (1 - row_lam) * X[pairs.partner]
    torch.testing.assert_close(module.featurizer.seen, mixed)
    assert (domains[pairs.partner] != domains).all()
    logits = module(mixed)
    own = F.cross_entropy(logits, y, reduction="none")
    other = F.cross_entropy(logits, y[pairs.partner], reduction="none")
    w = torch.ones(12) if weight is None else weight
    expected = torch.stack([
        lam[k] * (w * own)[domains == k].sum() / w[domains == k].sum()
        + (1 - lam[k]) * (w[pairs.partner] * other)[domains == k].sum()
        / w[pairs.partner][domains == k].sum()
        for k in range(n_domains)]).mean()
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(terms["mix_share"], torch.minimum(lam, 1 - lam).mean())
    if not weighted:  # equal counts: the mean over rows of lam * CE_i + (1 - lam) * CE_j
        per_row = lam[domains] * own + (1 - lam[domains]) * other
        torch.testing.assert_close(loss, per_row.mean())


def test_without_mixing_the_loss_is_the_label_loss_of_the_rows():
    torch.manual_seed(0)
    X, y = torch.randn(10, 4), torch.randint(3, (10,))
    domains = shuffled_domains([5, 5])
    module = Mixup(Recording(4), 3, 3, 2, alpha=0.0)
    loss, terms = module.training_loss(X, y, domains, MaskedCrossEntropy())
    torch.testing.assert_close(module.featurizer.seen, X)
    torch.testing.assert_close(loss, MaskedCrossEntropy()(module(X), y))
    assert terms["mix_share"] == 0


def test_images_are_mixed_pixel_by_pixel():
    torch.manual_seed(0)
    X, y = torch.randn(6, 1, 3, 3), torch.randint(2, (6,))
    domains = torch.tensor([0, 1, 0, 1, 0, 1])
    module = Mixup(Recording(9), 3, 2, 2, alpha=1.0)
    torch.manual_seed(1)
    pairs = pair_across_domains(domains, 2)
    lam = sample_mixing_weights(1.0, 2)
    torch.manual_seed(1)
    module.training_loss(X, y, domains, MaskedCrossEntropy())
    row_lam = lam[domains].view(-1, 1, 1, 1)
    torch.testing.assert_close(module.featurizer.seen, row_lam * X + (1 - row_lam) * X[
        pairs.partner])


def test_trains_on_images(digit_images):
    X, y, d = digit_images
    clf = MixupClassifier(**TINY_IMAGES, alpha=1.0).fit(X, y, domains=d)
    assert clf.predict_proba(X[:5]).shape == (5, 10)
    assert 0 < clf.net_.history[-1, "train_mix_share"] < 0.5


def four_clusters(seed=0, n=100):
    """Two domains, each holding class 0 on the left and class 1 on the right, tight clusters."""
    rng = np.random.RandomState(seed)
    centers = {(0, 0): (-2, -2), (0, 1): (2, -2), (1, 0): (-2, 2), (1, 1): (2, 2)}
    X, y, d = [], [], []
    for (domain, label), center in centers.items():
        X.append(rng.normal(scale=0.3, size=(n, 2)) + center)
        y += [label] * n
        d += [domain] * n
    return np.vstack(X), np.array(y), np.array(d)


def test_between_domains_the_predictions_follow_the_mixture_of_the_labels():
    # ERM is sure of itself everywhere off its boundary; Mixup's probabilities on
    # mixtures of a row of one domain and a row of another class in the other domain
    # move with the mixture, as it was trained to
    X, y, d = four_clusters()
    rng = np.random.RandomState(1)
    i, j = rng.randint(len(X), size=(2, 4000))
    keep = (d[i] != d[j]) & (y[i] != y[j])
    i, j = i[keep], j[keep]
    lam = rng.uniform(0.2, 0.8, size=len(i))
    between = lam[:, None] * X[i] + (1 - lam[:, None]) * X[j]
    mixture = np.where(y[i] == 1, lam, 1 - lam)  # the mixed label's share of class 1
    params = dict(hidden_layer_sizes=(32,), max_epochs=30, lr=1e-2, random_state=0)
    results = {}
    for alpha in (0.0, 0.2):
        clf = MixupClassifier(**params, alpha=alpha).fit(X, y, domains=d)
        assert clf.score(X, y) == 1.0
        proba = clf.predict_proba(between)
        results[alpha] = proba.max(axis=1).mean(), np.abs(proba[:, 1] - mixture).mean()
    assert results[0.2][0] < results[0.0][0] - 0.08, results
    assert results[0.2][1] < 0.6 * results[0.0][1], results


def test_without_mixing_it_is_erm_on_balanced_batches():
    X, y, d = make_site_shift(n_sites=2, n_samples=100, random_state=0)
    mixup = MixupClassifier(**TINY, alpha=0.0).fit(X, y, domains=d)
    erm = ERMClassifier(**TINY).fit(X, y, domains=d)
    np.testing.assert_allclose(mixup.predict_proba(X), erm.predict_proba(X), atol=1e-6)
    assert mixup.net_.history[-1, "train_mix_share"] == 0


def test_the_same_seed_gives_the_same_model():
    X, y, d = make_site_shift(n_sites=3, n_samples=60, random_state=0)
    first, second = (MixupClassifier(**TINY, alpha=1.0).fit(X, y, domains=d) for _ in range(2))
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    share = first.net_.history[-1, "train_mix_share"]
    assert 0 < share < 0.5


def test_one_domain_is_refused():
    X, y, _ = make_site_shift(n_sites=2, n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="at least 2"):
        MixupClassifier(**TINY).fit(X, y)


def test_unlabeled_rows_are_dropped_with_a_warning():
    X, y, d = make_site_shift(n_sites=3, n_samples=40, random_state=0)
    y = np.where(np.arange(len(y)) % 5 == 0, -1, y)
    with pytest.warns(UserWarning, match="ignores the 24 rows"):
        clf = MixupClassifier(**TINY).fit(X, y, domains=d)
    assert clf.classes_.tolist() == [0, 1]


def test_sample_weights_are_accepted_and_change_the_fit():
    X, y, d = make_site_shift(n_sites=2, n_samples=60, random_state=0)
    weights = np.where(y == 1, 3.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = MixupClassifier(**TINY).fit(X, y, domains=d)
        weighted = MixupClassifier(**TINY).fit(X, y, domains=d, sample_weight=weights)
    assert (weighted.predict_proba(X)[:, 1] > plain.predict_proba(X)[:, 1]).mean() > 0.9


def test_alpha_must_not_be_negative():
    X, y, d = make_site_shift(n_sites=2, n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="alpha must be"):
        MixupClassifier(**TINY, alpha=-0.1).fit(X, y, domains=d)
