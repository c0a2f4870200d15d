"""The label loss every method shares."""

import torch

from skda.modules import MaskedCrossEntropy, MaskedSquaredError


def test_masked_cross_entropy_ignores_unlabeled_rows():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]])
    y = torch.tensor([0, 1, -1])
    expected = torch.nn.functional.cross_entropy(logits[:2], y[:2])
    assert torch.allclose(MaskedCrossEntropy()(logits, y), expected)
    assert MaskedCrossEntropy()(logits, torch.tensor([-1, -1, -1])).item() == 0.0


def test_masked_cross_entropy_lets_divergence_show():
    logits = torch.tensor([[float("nan"), 0.0], [1.0, 0.0]])
    assert torch.isnan(MaskedCrossEntropy()(logits, torch.tensor([0, 1])))


def test_per_group_losses_are_the_weighted_means_of_each_group():
    logits = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 2, 1, -1, 1, 0])
    groups = torch.tensor([0, 0, 1, 1, 2, 2])
    weight = torch.tensor([1.0, 3.0, 2.0, 5.0, 1.0, 1.0])
    losses = MaskedCrossEntropy()(logits, y, weight=weight, groups=groups, n_groups=4)
    per_row = torch.nn.functional.cross_entropy(logits, y, ignore_index=-1, reduction="none")
    for g in range(3):
        rows = (groups == g) & (y >= 0)
        # weighted within the group: the weights act among its rows only
        expected = (per_row[rows] * weight[rows]).sum() / weight[rows].sum()
        assert torch.allclose(losses[g], expected)
    assert losses[3] == 0.0  # a group without rows in the batch
    plain = MaskedCrossEntropy()(logits, y, groups=groups, n_groups=4)
    assert torch.allclose(plain[1], MaskedCrossEntropy()(logits[2:3], y[2:3]))


def test_per_group_squared_error_skips_unlabeled_rows():
    prediction = torch.tensor([[1.0], [2.0], [5.0]])
    y = torch.tensor([0.0, float("nan"), 3.0])
    losses = MaskedSquaredError()(prediction, y, groups=torch.tensor([0, 0, 1]), n_groups=2)
    assert torch.allclose(losses, torch.tensor([1.0, 4.0]))


def test_a_weight_scales_its_row_even_alone_in_its_batch():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]])
    y = torch.tensor([1, 1, -1])
    weight = torch.tensor([3.0, 1.0, 7.0])  # the unlabeled row's weight never counts
    one = MaskedCrossEntropy()(logits[:1], y[:1], weight=weight[:1])
    assert torch.allclose(one, 3.0 * MaskedCrossEntropy()(logits[:1], y[:1]))
    per_row = torch.nn.functional.cross_entropy(logits[:2], y[:2], reduction="none")
    both = MaskedCrossEntropy()(logits, y, weight=weight)
    assert torch.allclose(both, (3.0 * per_row[0] + per_row[1]) / 2)
    prediction, target = torch.tensor([1.0, 0.0]), torch.tensor([0.0, float("nan")])
    squared = MaskedSquaredError()(prediction, target, weight=torch.tensor([2.0, 5.0]))
    assert torch.allclose(squared, torch.tensor(2.0))
