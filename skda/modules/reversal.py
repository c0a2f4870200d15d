"""Gradient reversal (Ganin & Lempitsky, 2015): identity forward, ``-coeff * grad`` backward."""

import torch
from torch import nn


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.coeff * grad_output, None


def grad_reverse(x, coeff=1.0):
    """Return ``x`` unchanged; in the backward pass multiply its gradient by ``-coeff``.

    Layers after this point (a domain discriminator) are trained to *minimise*
    their loss as usual, while layers before it (the feature extractor)
    receive the reversed gradient and so learn to *maximise* it.
    """
    return _ReverseGrad.apply(x, float(coeff))


class GradientReversal(nn.Module):
    """Module form of :func:`grad_reverse` with a settable ``coeff``."""

    def __init__(self, coeff=1.0):
        super().__init__()
        self.coeff = coeff

    def forward(self, x):
        return grad_reverse(x, self.coeff)

    def extra_repr(self):
        return f"coeff={self.coeff}"
