"""The label loss every method shares."""

import torch

from skda.modules import MaskedCrossEntropy


def test_masked_cross_entropy_ignores_unlabeled_rows():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0]])
    y = torch.tensor([0, 1, -1])
    expected = torch.nn.functional.cross_entropy(logits[:2], y[:2])
    assert torch.allclose(MaskedCrossEntropy()(logits, y), expected)
    assert MaskedCrossEntropy()(logits, torch.tensor([-1, -1, -1])).item() == 0.0


def test_masked_cross_entropy_lets_divergence_show():
    logits = torch.tensor([[float("nan"), 0.0], [1.0, 0.0]])
    assert torch.isnan(MaskedCrossEntropy()(logits, torch.tensor([0, 1])))
