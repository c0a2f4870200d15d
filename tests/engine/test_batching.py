"""Domain-balanced device batches."""

import copy
import pickle

import torch

from skda.engine import BalancedBatches, Batch, DomainData, SequentialBatches


def make_data(sizes):
    domains = torch.cat([torch.full((n,), k) for k, n in enumerate(sizes)])
    n = len(domains)
    return DomainData(torch.arange(n, dtype=torch.float32)[:, None],
                      torch.zeros(n, dtype=torch.long), domains)


def test_every_batch_holds_every_domain_equally():
    data = make_data([300, 40, 10])  # very unequal domains
    batches = BalancedBatches(data, batch_size=30, seed=0)
    assert len(batches) == 12  # ceil(350 / 30)
    seen = list(batches)
    assert len(seen) == 12
    for X, _, d in seen:
        assert torch.equal(torch.bincount(d, minlength=3), torch.tensor([10, 10, 10]))
        # rows come from the right domain
        assert torch.equal(data.domains[X[:, 0].long()], d)


def test_uneven_split_of_batch_size():
    batches = BalancedBatches(make_data([50, 50, 50]), batch_size=32, seed=0)
    assert batches.rows_per_domain == [11, 11, 10]
    X, _, d = next(iter(batches))
    assert len(X) == 32


def test_each_domain_is_cycled_without_repeats_until_exhausted():
    data = make_data([20, 20])
    batches = BalancedBatches(data, batch_size=8, seed=1)
    rows = torch.cat([X[:, 0] for X, _, _ in batches]).long()  # 5 steps x 8 = 40 rows
    assert sorted(rows.tolist()) == list(range(40))  # one epoch = every row once


def test_small_domain_reshuffles_when_it_runs_dry():
    data = make_data([90, 10])
    rows = torch.cat([X[:, 0] for X, _, d in BalancedBatches(data, 20, seed=0)]).long()
    small = rows[rows >= 90]
    assert len(small) == 50  # 5 steps x 10 rows: five passes over 10 rows
    for start in range(0, 50, 10):
        assert sorted(small[start:start + 10].tolist()) == list(range(90, 100))


def test_same_seed_same_batches_different_seed_different():
    data = make_data([30, 30])
    first = [X for X, _, _ in BalancedBatches(data, 10, seed=5)]
    again = [X for X, _, _ in BalancedBatches(data, 10, seed=5)]
    other = [X for X, _, _ in BalancedBatches(data, 10, seed=6)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_batch_size_clipped_to_data_and_domain_count():
    assert BalancedBatches(make_data([3, 2]), batch_size=1000, seed=0).batch_size == 5
    assert BalancedBatches(make_data([5, 5, 5]), batch_size=1, seed=0).batch_size == 3


def test_set_domains_rebuilds_the_members_and_writes_the_codes():
    data = make_data([20, 20])
    batches = BalancedBatches(data, batch_size=8, seed=0)
    new = torch.arange(40) % 2  # alternate rows instead of two halves
    batches.set_domains(new)
    assert torch.equal(data.domains, new)
    assert batches.rows_per_domain == [4, 4] and len(batches) == 5
    rows = torch.cat([X[:, 0] for X, _, _ in batches]).long()
    assert sorted(rows.tolist()) == list(range(40))  # still every row once an epoch
    for X, _, d in batches:
        assert torch.equal(d, X[:, 0].long() % 2)
        assert torch.equal(torch.bincount(d, minlength=2), torch.tensor([4, 4]))


def test_set_domains_refuses_missing_or_extra_domains():
    import pytest

    batches = BalancedBatches(make_data([10, 10]), batch_size=4, seed=0)
    for codes in (torch.zeros(20, dtype=torch.long), torch.arange(20) % 3,
                  torch.zeros(19, dtype=torch.long)):
        with pytest.raises(ValueError, match="set_domains needs"):
            batches.set_domains(codes)


def test_batches_carry_their_rows_weights():
    n = 40
    weights = torch.arange(n, dtype=torch.float32)
    data = DomainData(torch.arange(n, dtype=torch.float32).unsqueeze(1),
                      torch.zeros(n, dtype=torch.long), torch.arange(n) % 2, weights)
    for batches in (BalancedBatches(data, 8, seed=0), SequentialBatches(data, 8)):
        for batch in batches:
            X, y, domains = batch  # unpacks as the three tensors
            assert isinstance(batch, Batch)
            # X holds the row index, so each row's weight is its own
            assert torch.equal(batch.weights, X[:, 0])
    flipped = batch.with_X(-batch[0])
    assert torch.equal(flipped[0], -batch[0]) and flipped.weights is batch.weights
    unweighted = next(iter(SequentialBatches(DomainData(*data[:3]), 8)))
    assert unweighted.weights is None
    for copied in (copy.copy(batch), copy.deepcopy(batch), pickle.loads(pickle.dumps(batch))):
        assert isinstance(copied, Batch) and torch.equal(copied.weights, batch.weights)
        assert all(torch.equal(a, b) for a, b in zip(copied, batch, strict=True))
