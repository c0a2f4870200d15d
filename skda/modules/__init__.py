"""Torch building blocks shared by the methods: backbones, heads, losses, style operations."""

from .convnet import ConvNet, DenseHead, GlobalAvgPool, ImageStandardization
from .losses import MaskedCrossEntropy, contrastive_alignment, uniform_cross_entropy
from .mlp import MLP
from .reversal import GradientReversal, grad_reverse
from .style import adain, randomize_content, randomize_style, style_statistics

__all__ = [
    "ConvNet",
    "DenseHead",
    "GlobalAvgPool",
    "GradientReversal",
    "ImageStandardization",
    "MLP",
    "MaskedCrossEntropy",
    "adain",
    "contrastive_alignment",
    "grad_reverse",
    "randomize_content",
    "randomize_style",
    "style_statistics",
    "uniform_cross_entropy",
]
