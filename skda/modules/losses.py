"""Losses shared by the methods."""

import torch.nn.functional as F
from torch import nn


class MaskedCrossEntropy(nn.Module):
    """Mean cross-entropy over the labeled rows of a batch (target ``-1`` = unlabeled).

    Computed with a mask rather than boolean indexing, so that no device
    synchronisation is needed; a batch without labeled rows gives 0.
    """

    def forward(self, logits, y):
        per_row = F.cross_entropy(logits, y.clamp(min=0), reduction="none")
        mask = (y >= 0).to(per_row.dtype)
        return (per_row * mask).sum() / mask.sum().clamp(min=1.0)
