"""The label loss every method shares."""

import torch.nn.functional as F
from torch import nn


class MaskedCrossEntropy(nn.Module):
    """Mean cross-entropy over the labeled rows of a batch (target ``-1`` = unlabeled).

    Unlabeled rows are skipped by the kernel (``ignore_index``) rather than
    by boolean indexing, so no device synchronisation is needed. A batch
    without labeled rows gives a loss of 0 rather than the NaN of a mean over
    no rows, while a NaN from diverging logits still shows.
    """

    def forward(self, logits, y):
        total = F.cross_entropy(logits, y, ignore_index=-1, reduction="sum")
        return total / (y >= 0).sum().clamp(min=1)
