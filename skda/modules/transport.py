"""Entropic optimal transport between groups of feature vectors (log-domain Sinkhorn)."""

import torch
import torch.nn.functional as F


def padded_groups(features, groups, n_groups):
    """The rows of each group, padded: ``(n_groups, n_max, d)`` and the mask of real rows."""
    counts = torch.bincount(groups, minlength=n_groups)
    n_max = max(int(counts.max()), 1)
    order = torch.argsort(groups, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    sorted_groups = groups[order]
    slots = torch.arange(len(groups), device=groups.device) - starts[sorted_groups]
    padded = features.new_zeros(n_groups, n_max, features.shape[1])
    padded[sorted_groups, slots] = features[order]
    mask = torch.zeros(n_groups, n_max, dtype=torch.bool, device=features.device)
    mask[sorted_groups, slots] = True
    return padded, mask


def sinkhorn_distances(x, x_mask, y, y_mask, epsilon=0.1, n_iter=50):
    """Entropic optimal-transport costs between pairs of point sets, all pairs at once.

    Pair ``p`` moves the real rows of ``x[p]`` (uniform weights) onto those
    of ``y[p]``, at the cosine cost ``1 - cos(x_i, y_j)`` (in [0, 2]: the
    distance is bounded, whatever the scale of the features), with
    ``n_iter`` Sinkhorn iterations in the log domain (stable at small
    ``epsilon``): the transport cost ``<plan, cost>`` of the entropic plan,
    as POT's ``ot.sinkhorn2`` returns it. The plan is computed without
    gradient, and the cost is differentiated with the plan held fixed (the
    gradient of the entropic objective, by the envelope theorem, as
    Sinkhorn losses usually take it).

    Parameters
    ----------
    x : Tensor of shape (n_pairs, n, d)
    x_mask : Tensor of bool of shape (n_pairs, n)
        Real rows of ``x`` (the others are padding).
    y : Tensor of shape (n_pairs, m, d)
    y_mask : Tensor of bool of shape (n_pairs, m)
    epsilon : float, default=0.1
        Entropic regularisation, in units of the cost.
    n_iter : int, default=50
        Sinkhorn iterations.

    Returns
    -------
    Tensor of shape (n_pairs,)
        ``sum_ij plan_ij cost_ij`` of each pair; 0 for a pair with an empty set.
    """
    x, y = F.normalize(x.float(), dim=2), F.normalize(y.float(), dim=2)
    cost = 1.0 - x @ y.transpose(1, 2)
    valid = x_mask[:, :, None] & y_mask[:, None, :]
    with torch.no_grad():
        # log of uniform weights on the real rows; padding gets a weight of (almost) 0
        far = -1e4
        log_a = torch.where(x_mask, -torch.log(x_mask.sum(1, keepdim=True).clamp(min=1)), far)
        log_b = torch.where(y_mask, -torch.log(y_mask.sum(1, keepdim=True).clamp(min=1)), far)
        kernel = torch.where(valid, -cost / epsilon, far)
        f, g = torch.zeros_like(log_a), torch.zeros_like(log_b)
        for _ in range(n_iter):
            f = log_a - torch.logsumexp(kernel + g[:, None, :], dim=2)
            g = log_b - torch.logsumexp(kernel + f[:, :, None], dim=1)
        plan = torch.where(valid, torch.exp(kernel + f[:, :, None] + g[:, None, :]), 0.0)
    return (plan * cost).sum(dim=(1, 2))


def sinkhorn_distance(x, y, epsilon=0.1, n_iter=50):
    """:func:`sinkhorn_distances` between the rows of ``x`` and those of ``y`` (one pair)."""
    ones_x = torch.ones(1, len(x), dtype=torch.bool, device=x.device)
    ones_y = torch.ones(1, len(y), dtype=torch.bool, device=y.device)
    return sinkhorn_distances(x[None], ones_x, y[None], ones_y, epsilon, n_iter)[0]
