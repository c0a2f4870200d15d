"""The label losses every method shares: cross-entropy for classes, squared error for values."""

import torch
import torch.nn.functional as F
from torch import nn


def _weighted_mean(per_row, labeled, weight):
    """Mean of ``per_row`` over the labeled rows, weighted by ``weight`` when given.

    A batch without labeled rows (or whose labeled rows all weigh 0) gives 0
    rather than the NaN of a mean over nothing.
    """
    if weight is None:
        return per_row.sum() / labeled.sum().clamp(min=1)
    weight = weight * labeled
    return (per_row * weight).sum() / weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)


class MaskedCrossEntropy(nn.Module):
    """Mean cross-entropy over the labeled rows of a batch (target ``-1`` = unlabeled).

    Unlabeled rows are skipped by the kernel (``ignore_index``) rather than
    by boolean indexing, so no device synchronisation is needed. A NaN from
    diverging logits still shows. With ``weight`` (one per row), the mean is
    weighted: ``sum(w * loss) / sum(w)`` over the labeled rows.
    """

    def forward(self, logits, y, weight=None):
        if weight is None:
            total = F.cross_entropy(logits, y, ignore_index=-1, reduction="sum")
            return total / (y >= 0).sum().clamp(min=1)
        per_row = F.cross_entropy(logits, y, ignore_index=-1, reduction="none")
        return _weighted_mean(per_row, y >= 0, weight)


class MaskedSquaredError(nn.Module):
    """Mean squared error over the labeled rows of a batch (target ``NaN`` = unlabeled).

    ``prediction`` has shape ``(batch, 1)`` or ``(batch,)``; ``y`` is float
    with NaN on unlabeled rows, which contribute nothing (their NaN never
    reaches the gradient). ``weight`` as in :class:`MaskedCrossEntropy`.
    """

    def forward(self, prediction, y, weight=None):
        prediction = prediction.reshape(y.shape)
        labeled = ~torch.isnan(y)
        error = torch.where(labeled, prediction - torch.nan_to_num(y), 0.0)
        return _weighted_mean(error.pow(2), labeled, weight)
