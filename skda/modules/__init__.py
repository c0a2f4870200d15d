"""Torch building blocks shared by the methods: backbones, heads, gradient reversal."""

from .losses import MaskedCrossEntropy
from .mlp import MLP
from .reversal import GradientReversal, grad_reverse

__all__ = ["MaskedCrossEntropy", "MLP", "GradientReversal", "grad_reverse"]
