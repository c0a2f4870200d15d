"""Losses shared by the methods."""

import torch
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


def contrastive_alignment(z, y, domains, margin=1.0):
    """CCSA's semantic alignment and separation losses over all cross-domain pairs of a batch.

    For every pair of labeled rows ``(i, j)`` from different domains, with
    ``d`` the Euclidean distance between ``z[i]`` and ``z[j]``:

    * same class: alignment term ``d ** 2`` (pulls the pair together);
    * different class: separation term ``max(0, margin - d) ** 2`` (pushes
      the pair at least ``margin`` apart).

    Each loss is the mean of its terms over the batch's pairs (0 when there
    are none). All pairs are formed at once from the ``(batch, batch)``
    distance matrix; rows with ``y == -1`` take part in no pair.

    Parameters
    ----------
    z : Tensor of shape (batch, width)
        Features.
    y : Tensor of int64 of shape (batch,)
        Class codes, ``-1`` for unlabeled rows.
    domains : Tensor of int64 of shape (batch,)
        Domain codes.
    margin : float, default=1.0
        Distance beyond which different-class pairs cost nothing.

    Returns
    -------
    alignment, separation : Tensor
        Two scalars.
    """
    labeled = y >= 0
    cross = (domains[:, None] != domains[None, :]) & labeled[:, None] & labeled[None, :]
    same = y[:, None] == y[None, :]
    positive, negative = cross & same, cross & ~same
    squared = z.pow(2).sum(dim=1)
    # |a|^2 + |b|^2 - 2ab: one matrix product; clamped, rounding can dip below 0
    sq_dist = (squared[:, None] + squared[None, :] - 2 * z @ z.T).clamp(min=0)
    alignment = (sq_dist * positive).sum() / positive.sum().clamp(min=1)
    # the floor keeps sqrt's gradient finite for coincident points
    dist = sq_dist.clamp(min=1e-12).sqrt()
    separation = (F.relu(margin - dist).pow(2) * negative).sum() / negative.sum().clamp(min=1)
    return alignment, separation


def uniform_cross_entropy(logits):
    """Mean cross-entropy between the predicted distribution and the uniform one.

    ``-mean_k log softmax(logits)_k``, averaged over rows; smallest (``log K``)
    when every class gets probability ``1/K``. SagNet's adversarial loss.
    """
    return -torch.log_softmax(logits, dim=1).mean()
