"""Torch building blocks shared by the methods: backbones, heads, the label loss, AdaIN."""

from .convnet import ConvNet, DenseHead, GlobalAvgPool, ImageStandardization
from .losses import MaskedCrossEntropy, MaskedSquaredError
from .mlp import MLP
from .resnet import ResNet
from .style import MixStyle, adain, randomize_content, randomize_style, style_statistics

__all__ = [
    "ConvNet",
    "DenseHead",
    "GlobalAvgPool",
    "ImageStandardization",
    "MLP",
    "MaskedCrossEntropy",
    "MaskedSquaredError",
    "MixStyle",
    "ResNet",
    "adain",
    "randomize_content",
    "randomize_style",
    "style_statistics",
]
