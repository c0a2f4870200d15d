"""Style statistics of feature maps and their randomization (AdaIN; SagNet).

A feature map of shape ``(batch, channels, *spatial)`` has, per sample and
channel, a *style*: the mean and standard deviation over the spatial
positions (Huang & Belongie, 2017). What is left after removing it, the
normalized map, is the *content*. A feature vector ``(batch, width)`` is read
as one channel whose positions are its units.
"""

import torch
from torch import nn


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


def randomize_style(x, alpha=1.0, eps=1e-5, detach_statistics=False):
    """Each sample's content with its style interpolated towards another sample's.

    The new style is ``w * own + (1 - w) * other`` for the mean and for the
    standard deviation, ``other`` a random permutation of the batch and
    ``w ~ Beta(alpha, alpha)`` per sample (``alpha=1``: uniform, as in
    SagNet). Gradients flow through everything, unless
    ``detach_statistics``: then the statistics (own and mixed) are
    constants to the backward pass, as in MixStyle.
    """
    mean, std = style_statistics(x, eps)
    if detach_statistics:
        mean, std = mean.detach(), std.detach()
    perm = torch.randperm(len(x), device=x.device)
    if alpha == 1.0:
        w = torch.rand(len(x), 1, 1, device=x.device, dtype=x.dtype)
    else:
        concentration = torch.full((len(x), 1, 1), float(alpha), device=x.device)
        w = torch.distributions.Beta(concentration, concentration).sample().to(x.dtype)
    mixed_mean, mixed_std = w * mean + (1 - w) * mean[perm], w * std + (1 - w) * std[perm]
    if not detach_statistics:
        return adain(x, mixed_mean, mixed_std, eps)
    return ((_channels(x) - mean) / std * mixed_std + mixed_mean).view_as(x)


class MixStyle(nn.Module):
    """Mix the style statistics of random pairs of the batch while training (MixStyle).

    With probability ``p`` per training batch, every sample's feature map
    keeps its content and takes a style ``w * own + (1 - w) * other``
    (``other``: a random sample of the batch, ``w ~ Beta(alpha, alpha)``),
    the statistics detached from the backward pass (Zhou, Yang, Qiao and
    Xiang, Domain Generalization with MixStyle, ICLR 2021). New
    combinations of the training domains' styles act as new domains. In
    evaluation mode it returns its input.

    Parameters
    ----------
    p : float, default=0.5
        Probability of mixing a training batch.
    alpha : float, default=0.1
        Concentration of the Beta distribution of the mixing weight.
    eps : float, default=1e-6
        Added to the variance.
    """

    def __init__(self, p=0.5, alpha=0.1, eps=1e-6):
        super().__init__()
        self.p, self.alpha, self.eps = p, alpha, eps

    def forward(self, x):
        if not self.training or len(x) < 2 or torch.rand(()).item() >= self.p:
            return x
        return randomize_style(x, self.alpha, self.eps, detach_statistics=True)

    def extra_repr(self):
        return f"p={self.p}, alpha={self.alpha}"


def randomize_content(x, eps=1e-5):
    """Each sample's style applied to another sample's content.

    The content comes from a random permutation of the batch and is
    detached, so gradients reach ``x`` only through its own style
    statistics: what a style-biased head learns from is the style alone.
    """
    mean, std = style_statistics(x, eps)
    perm = torch.randperm(len(x), device=x.device)
    return adain(x[perm].detach(), mean, std, eps)
