"""Style statistics of feature maps and their randomization (AdaIN; SagNet).

A feature map of shape ``(batch, channels, *spatial)`` has, per sample and
channel, a *style*: the mean and standard deviation over the spatial
positions (Huang & Belongie, 2017). What is left after removing it, the
normalized map, is the *content*. A feature vector ``(batch, width)`` is read
as one channel whose positions are its units.
"""

import torch


def _channels(x):
    """``x`` viewed as ``(batch, channels, positions)``."""
    return x.unsqueeze(1) if x.ndim == 2 else x.flatten(2)


def style_statistics(x, eps=1e-5):
    """Per-sample, per-channel mean and standard deviation of ``x``.

    Returns two tensors of shape ``(batch, channels, 1)``; the standard
    deviation is ``sqrt(var + eps)`` with the population variance.
    """
    flat = _channels(x)
    mean = flat.mean(dim=2, keepdim=True)
    std = (flat.var(dim=2, keepdim=True, unbiased=False) + eps).sqrt()
    return mean, std


def adain(content, mean, std, eps=1e-5):
    """Adaptive instance normalization: ``content`` with the style ``(mean, std)``.

    ``content`` is normalized per sample and channel, then scaled by ``std``
    and shifted by ``mean`` (each ``(batch, channels, 1)``, as returned by
    :func:`style_statistics`). The result has the shape of ``content``.
    """
    own_mean, own_std = style_statistics(content, eps)
    normalized = (_channels(content) - own_mean) / own_std
    return (normalized * std + mean).view_as(content)


def randomize_style(x, alpha=1.0, eps=1e-5):
    """Each sample's content with its style interpolated towards another sample's.

    The new style is ``w * own + (1 - w) * other`` for the mean and for the
    standard deviation, ``other`` a random permutation of the batch and
    ``w ~ Beta(alpha, alpha)`` per sample (``alpha=1``: uniform, as in
    SagNet). Gradients flow through everything.
    """
    mean, std = style_statistics(x, eps)
    perm = torch.randperm(len(x), device=x.device)
    if alpha == 1.0:
        w = torch.rand(len(x), 1, 1, device=x.device, dtype=x.dtype)
    else:
        concentration = torch.full((len(x), 1, 1), float(alpha), device=x.device)
        w = torch.distributions.Beta(concentration, concentration).sample().to(x.dtype)
    return adain(x, w * mean + (1 - w) * mean[perm], w * std + (1 - w) * std[perm], eps)


def randomize_content(x, eps=1e-5):
    """Each sample's style applied to another sample's content.

    The content comes from a random permutation of the batch and is
    detached, so gradients reach ``x`` only through its own style
    statistics: what a style-biased head learns from is the style alone.
    """
    mean, std = style_statistics(x, eps)
    perm = torch.randperm(len(x), device=x.device)
    return adain(x[perm].detach(), mean, std, eps)
