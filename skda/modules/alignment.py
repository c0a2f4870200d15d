"""What the distribution-matching penalties share: per-domain averages and the mean over pairs.

A penalty that aligns ``K`` domains (Deep CORAL, MMD) compares every pair of
domains and averages the ``K (K - 1) / 2`` discrepancies, as DomainBed does.
Both of skda's are a squared distance between per-domain embeddings, so the
whole batch is handled at once: :func:`domain_averaging` turns a per-row
quantity into per-domain means with one matrix product, and
:func:`mean_over_domain_pairs` averages the squared distances that a Gram
matrix of the domains' embeddings implies. No Python loop runs over rows or
pairs, and no domain count is assumed equal.
"""

import contextlib

import torch
import torch.nn.functional as F


def domain_averaging(domains, n_domains, dtype=torch.float32):
    """Matrix of per-domain means and the domains' row counts.

    Parameters
    ----------
    domains : Tensor of int64 of shape (batch,)
        Domain codes ``0..n_domains-1``.
    n_domains : int
        Number of domains (some may have no row in the batch).
    dtype : torch.dtype, default=torch.float32
        Type of the returned matrix.

    Returns
    -------
    averaging : Tensor of shape (batch, n_domains)
        ``1 / count`` of the row's domain in the row's domain column, 0
        elsewhere: ``averaging.T @ values`` is the mean of ``values`` over
        each domain's rows (0 for a domain without rows).
    counts : Tensor of shape (n_domains,)
        Rows of each domain in the batch.
    """
    one_hot = F.one_hot(domains, n_domains).to(dtype)
    counts = one_hot.sum(dim=0)
    return one_hot / counts.clamp(min=1), counts


def mean_over_domain_pairs(gram, present):
    """Mean squared distance between the embeddings of every pair of present domains.

    With ``gram[i, j] = <e_i, e_j>`` the inner products of the domains'
    embeddings, the squared distance of domains ``i`` and ``j`` is
    ``gram[i, i] + gram[j, j] - 2 gram[i, j]``; it is averaged over the pairs
    ``i < j`` of domains marked ``present``.

    Parameters
    ----------
    gram : Tensor of shape (n_domains, n_domains)
        Inner products of the domains' embeddings (symmetric).
    present : Tensor of bool of shape (n_domains,)
        Domains that take part (those with enough rows in the batch).

    Returns
    -------
    Tensor
        Scalar; 0 when fewer than two domains are present. Rounding cannot
        make it negative (each distance is clamped at 0).
    """
    diagonal = gram.diagonal()
    squared = (diagonal[:, None] + diagonal[None, :] - 2 * gram).clamp(min=0)
    pairs = torch.triu(present[:, None] & present[None, :], diagonal=1)
    total = torch.where(pairs, squared, 0.0).sum()
    return total / pairs.sum().clamp(min=1)


def full_precision(device):
    """Context in which autocast is off: distribution statistics in float32 under mixed precision.

    Covariances and kernel distances are differences of close numbers,
    which half precision rounds away; a penalty casts its features to
    float32 and computes inside this context. Off the CPU and CUDA it does
    nothing (torch's autocast knows no other device everywhere), and when
    autocast is off already (entering an autocast context costs as much as
    a small penalty's arithmetic on the CPU).
    """
    if device.type in ("cpu", "cuda") and torch.is_autocast_enabled(device.type):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()
