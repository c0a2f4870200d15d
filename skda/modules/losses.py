"""The label losses every method shares: cross-entropy for classes, squared error for values."""

import torch
import torch.nn.functional as F
from torch import nn


def _weighted_mean(per_row, labeled, weight, groups=None, n_groups=None):
    """Mean of ``per_row`` over the labeled rows, weighted by ``weight`` when given.

    A batch without labeled rows (or whose labeled rows all weigh 0) gives 0
    rather than the NaN of a mean over nothing. With ``groups`` (a code per
    row), one such mean per group ``0..n_groups-1``: 0 for a group without
    labeled rows in the batch.
    """
    if weight is None and groups is None:
        return per_row.sum() / labeled.sum().clamp(min=1)
    weight = labeled.to(per_row.dtype) if weight is None else weight * labeled
    tiny = torch.finfo(weight.dtype).tiny
    if groups is None:
        return (per_row * weight).sum() / weight.sum().clamp(min=tiny)
    if n_groups is None:
        raise TypeError("a per-group loss needs n_groups.")
    totals = per_row.new_zeros(n_groups).index_add_(0, groups, per_row * weight)
    mass = weight.new_zeros(n_groups).index_add_(0, groups, weight)
    return totals / mass.clamp(min=tiny)


class MaskedCrossEntropy(nn.Module):
    """Mean cross-entropy over the labeled rows of a batch (target ``-1`` = unlabeled).

    Unlabeled rows are skipped by the kernel (``ignore_index``) rather than
    by boolean indexing, so no device synchronisation is needed. A NaN from
    diverging logits still shows. With ``weight`` (one per row), the mean is
    weighted: ``sum(w * loss) / sum(w)`` over the labeled rows. With
    ``groups`` (an int64 code per row) and ``n_groups``, it returns one such
    mean per group, a tensor of length ``n_groups`` (0 where a group has no
    labeled row): the per-domain or per-group risks of GroupDRO and its kin.
    """

    def forward(self, logits, y, weight=None, groups=None, n_groups=None):
        if weight is None and groups is None:
            total = F.cross_entropy(logits, y, ignore_index=-1, reduction="sum")
            return total / (y >= 0).sum().clamp(min=1)
        per_row = F.cross_entropy(logits, y, ignore_index=-1, reduction="none")
        return _weighted_mean(per_row, y >= 0, weight, groups, n_groups)


class MaskedSquaredError(nn.Module):
    """Mean squared error over the labeled rows of a batch (target ``NaN`` = unlabeled).

    ``prediction`` has shape ``(batch, 1)`` or ``(batch,)``; ``y`` is float
    with NaN on unlabeled rows, which contribute nothing (their NaN never
    reaches the gradient). ``weight``, ``groups`` and ``n_groups`` as in
    :class:`MaskedCrossEntropy`.
    """

    def forward(self, prediction, y, weight=None, groups=None, n_groups=None):
        prediction = prediction.reshape(y.shape)
        labeled = ~torch.isnan(y)
        error = torch.where(labeled, prediction - torch.nan_to_num(y), 0.0)
        return _weighted_mean(error.pow(2), labeled, weight, groups, n_groups)
