"""The default backbone for images: a small convolutional network."""

import numbers

from torch import nn

from .style import MixStyle


class GlobalAvgPool(nn.Module):
    """Average a feature map over its spatial axes: ``(batch, C, ...)`` to ``(batch, C)``.

    A 2-D input (already a feature vector) passes through unchanged.
    """

    def forward(self, x):
        return x if x.ndim == 2 else x.flatten(2).mean(dim=2)


class ImageStandardization(nn.Module):
    """Scale each image to zero mean and unit standard deviation over all its values.

    A per-image, parameter-free normalisation: two domains that differ by a
    brightness offset or a contrast factor (USPS's grey background against
    MNIST's black one, a darker scanner) give the same input. Colour
    ratios between channels are kept.

    Parameters
    ----------
    eps : float, default=1e-5
        Added to the standard deviation, so that a blank image stays finite.
    """

    def __init__(self, eps=1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        flat = x.flatten(1)
        shape = (-1,) + (1,) * (x.ndim - 1)
        mean = flat.mean(dim=1).view(shape)
        std = flat.std(dim=1, unbiased=False).view(shape)
        return (x - mean) / (std + self.eps)


class DenseHead(nn.Sequential):
    """Flatten a feature map and map it to a feature vector: ``Flatten -> Linear -> ReLU``."""

    def __init__(self, n_inputs, width):
        super().__init__(nn.Flatten(), nn.Linear(n_inputs, width), nn.ReLU())


class ConvNet(nn.Sequential):
    """Per-image standardization, 3x3 convolution blocks with max pooling, and a dense layer.

    Each block is ``Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU``,
    followed by a 2x2 max pooling while the map is at least 8 pixels on its
    shorter side (16x16 digits end at 4x4, 8x8 ones at 4x4, 28x28 ones at
    7x7). The map is then flattened and mapped to ``width`` features by a
    :class:`DenseHead`. A LeNet-like design, as in CCSA's digit
    experiments, at a size that trains in minutes on a CPU.

    Two choices make it transfer across domains:

    * the input is standardized per image (:class:`ImageStandardization`),
      so brightness and contrast shifts do not reach the network;
    * the dense head keeps where things are in the image. A network that
      averages its last map over positions (global pooling) learns local
      stroke statistics, and those move with the style of the domain:
      trained on MNIST, such a net labeled most USPS images as one class.

    The children are the standardization, the blocks and the head, so the
    network can be cut between blocks (``SagNetClassifier``'s
    ``randomization_stage``).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one image, ``(channels, height, width)``.
    channels : tuple of int, default=(32, 64)
        Output channels of each block.
    width : int, default=128
        Width of the output features.
    standardize : bool, default=True
        Standardize each input image first.
    mixstyle : bool, default=False
        End every block but the last with a :class:`MixStyle` layer
        (``p=0.5, alpha=0.1``), which mixes the feature statistics of random
        pairs of a training batch (Zhou et al., ICLR 2021): any method
        then trains on new combinations of its domains' styles. Use it as
        ``module=ConvNet, module__mixstyle=True``.

    Attributes
    ----------
    n_features_out : int
        Width of the output features (``width``).
    """

    def __init__(self, input_shape, channels=(32, 64), width=128, standardize=True,
                 mixstyle=False):
        if len(input_shape) != 3 or not all(
                isinstance(s, numbers.Integral) and s > 0 for s in input_shape):
            raise ValueError(
                f"input_shape must be (channels, height, width), got {input_shape!r}.")
        if not channels or not all(_positive_int(c) for c in channels):
            raise ValueError(f"channels must be a non-empty tuple of positive ints, got "
                             f"{channels!r}.")
        if not _positive_int(width):
            raise ValueError(f"width must be a positive int, got {width!r}.")
        for name, value in (("standardize", standardize), ("mixstyle", mixstyle)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {value!r}.")
        in_channels, height, breadth = input_shape
        layers = [ImageStandardization()] if standardize else []
        for k, out_channels in enumerate(channels):
            block = [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                     nn.BatchNorm2d(out_channels), nn.ReLU()]
            if min(height, breadth) >= 8:
                block.append(nn.MaxPool2d(2))
                height, breadth = height // 2, breadth // 2
            if mixstyle and k < len(channels) - 1:
                block.append(MixStyle())
            layers.append(nn.Sequential(*block))
            in_channels = out_channels
        super().__init__(*layers, DenseHead(in_channels * height * breadth, width))
        self.n_features_out = width


def _positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0
