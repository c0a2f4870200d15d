"""The label losses every method shares: cross-entropy for classes, squared error for values."""

import torch
import torch.nn.functional as F
from torch import nn


def _weighted_mean(per_row, labeled, weight, groups=None, n_groups=None):
    """Mean of ``per_row`` over the labeled rows, each row's term times its ``weight``.

    The weighted terms are divided by the number of labeled rows, not by the
    sum of their weights: weights are rescaled once before training (to
    average 1 over the labeled rows), so a row of weight 2 counts as two rows
    whatever the batch size. Dividing by each batch's weight sum instead
    would cancel the weights in a one-row batch and blunt them in small ones.
    A batch without labeled rows gives 0 rather than the NaN of a mean over
    nothing.

    With ``groups`` (a code per row), one mean per group ``0..n_groups-1``
    (0 for a group without labeled rows in the batch), weighted within the
    group, ``sum(w * loss) / sum(w)``: the weights act among a group's rows,
    and the method (GroupDRO, IRM, V-REx, Mixup) weighs the groups' risks by
    its own rule, as it would without weights.
    """
    if weight is None and groups is None:
        return per_row.sum() / labeled.sum().clamp(min=1)
    count = labeled.to(per_row.dtype)
    mass = count if weight is None else weight * count
    if groups is None:
        return (per_row * mass).sum() / count.sum().clamp(min=1)
    if n_groups is None:
        raise TypeError("a per-group loss needs n_groups.")
    totals = per_row.new_zeros(n_groups).index_add_(0, groups, per_row * mass)
    masses = mass.new_zeros(n_groups).index_add_(0, groups, mass)
    return totals / masses.clamp(min=torch.finfo(mass.dtype).tiny)


class MaskedCrossEntropy(nn.Module):
    """Mean cross-entropy over the labeled rows of a batch (target ``-1`` = unlabeled).

    Unlabeled rows are skipped by the kernel (``ignore_index``) rather than
    by boolean indexing, so no device synchronisation is needed. A NaN from
    diverging logits still shows. With ``weight`` (one per row), each row's
    loss is multiplied by its weight: ``sum(w * loss) / n_labeled`` over the
    labeled rows (the estimators rescale weights to average 1 beforehand). With
    ``groups`` (an int64 code per row) and ``n_groups``, it returns one mean
    per group, weighted within the group, a tensor of length ``n_groups`` (0
    where a group has no labeled row): the per-domain or per-group risks of
    GroupDRO and its kin.
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
