"""The default backbone for images: a small convolutional network."""

import numbers

from torch import nn


class GlobalAvgPool(nn.Module):
    """Average a feature map over its spatial axes: ``(batch, C, ...)`` to ``(batch, C)``.

    A 2-D input (already a feature vector) passes through unchanged.
    """

    def forward(self, x):
        return x if x.ndim == 2 else x.flatten(2).mean(dim=2)


class ConvNet(nn.Sequential):
    """Stack of 3x3 convolution blocks followed by global average pooling.

    Each block is ``Conv2d(3x3) -> BatchNorm2d -> ReLU``. The first block keeps
    the resolution; each later block halves it (stride 2) while the map is at
    least 8 pixels on its shorter side, so 8x8 digits end at 4x4 and 28x28
    ones at 7x7. It follows the spirit of DomainBed's MNIST network at a size
    that trains in seconds on a CPU.

    The children are the blocks and then the pooling layer, so the network
    can be cut between blocks (``SagNetClassifier``'s ``randomization_stage``).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one image, ``(channels, height, width)``.
    channels : tuple of int, default=(32, 64, 64)
        Output channels of each block. The feature width is the last entry.

    Attributes
    ----------
    n_features_out : int
        Width of the output features (``channels[-1]``).
    """

    def __init__(self, input_shape, channels=(32, 64, 64)):
        if len(input_shape) != 3 or not all(
                isinstance(s, numbers.Integral) and s > 0 for s in input_shape):
            raise ValueError(
                f"input_shape must be (channels, height, width), got {input_shape!r}.")
        if not channels or not all(
                isinstance(c, numbers.Integral) and not isinstance(c, bool) and c > 0
                for c in channels):
            raise ValueError(f"channels must be a non-empty tuple of positive ints, got "
                             f"{channels!r}.")
        in_channels, size = input_shape[0], min(input_shape[1:])
        blocks = []
        for k, out_channels in enumerate(channels):
            stride = 2 if k > 0 and size >= 8 else 1
            blocks.append(nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            ))
            in_channels, size = out_channels, -(-size // stride)
        super().__init__(*blocks, GlobalAvgPool())
        self.n_features_out = in_channels
