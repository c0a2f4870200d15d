"""ResNet backbones (He et al. 2016) that load torchvision's ImageNet weights, no torchvision."""

import os
from collections import OrderedDict

import torch
from torch import nn

from .convnet import GlobalAvgPool

#: blocks per stage and block type of each depth (torchvision's resnet18/34/50)
ARCHITECTURES = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}

#: torchvision's ImageNet weights: the files ``torch.hub`` keeps in its cache
WEIGHT_URLS = {
    ("resnet18", "IMAGENET1K_V1"): "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    ("resnet34", "IMAGENET1K_V1"): "https://download.pytorch.org/models/resnet34-b627a593.pth",
    ("resnet50", "IMAGENET1K_V1"): "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    ("resnet50", "IMAGENET1K_V2"): "https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
}


def _conv_bn(n_in, n_out, kernel, stride=1):
    conv = nn.Conv2d(n_in, n_out, kernel, stride=stride, padding=kernel // 2, bias=False)
    return conv, nn.BatchNorm2d(n_out)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut (ResNet-18 and -34)."""

    expansion = 1

    def __init__(self, n_in, width, stride=1):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(n_in, width, 3, stride)
        self.conv2, self.bn2 = _conv_bn(width, width, 3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or n_in != width:
            self.downsample = nn.Sequential(*_conv_bn(n_in, width, 1, stride))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1, 3x3 (strided, as torchvision's v1.5) and 1x1 convolutions and a shortcut (ResNet-50)."""

    expansion = 4

    def __init__(self, n_in, width, stride=1):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(n_in, width, 1)
        self.conv2, self.bn2 = _conv_bn(width, width, 3, stride)
        self.conv3, self.bn3 = _conv_bn(width, width * 4, 1)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or n_in != width * 4:
            self.downsample = nn.Sequential(*_conv_bn(n_in, width * 4, 1, stride))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet(nn.Sequential):
    """A ResNet feature extractor, parameter for parameter torchvision's (without ``fc``).

    The children are the stem (``conv1``, ``bn1``, ``relu``, ``maxpool``),
    the four stages ``layer1`` to ``layer4`` and a global average pooling;
    the output is the pooled feature vector (512 wide for ResNet-18 and
    -34, 2048 for ResNet-50), on which a method builds its heads. The
    parameter names are torchvision's, so its ImageNet weights load as they
    are: give an estimator ``module="resnet18"`` (or ``"resnet34"``,
    ``"resnet50"``) and ``module__weights="IMAGENET1K_V1"``.

    Parameters
    ----------
    arch : {"resnet18", "resnet34", "resnet50"}, default="resnet18"
        The architecture.
    input_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of one image (the estimators fill it
        in). Images of other than 3 channels get a first convolution of
        that many input channels; pretrained weights then enter it summed
        over the colour channels for one channel, or repeated and rescaled
        for more (timm's rule).
    weights : None, str or path-like, default=None
        ``None``: random initialisation (torchvision's). A name
        (``"IMAGENET1K_V1"``; ``"IMAGENET1K_V2"`` for ResNet-50):
        torchvision's ImageNet weights, read from the torch hub cache
        (``torch.hub.get_dir()/checkpoints``) and downloaded there once when
        missing. A path: a state dict saved with ``torch.save`` (torchvision's
        key names; an ``fc`` entry is ignored). Pretrained layers expect
        inputs normalized with ImageNet's mean and standard deviation: give
        :class:`~skda.datasets.ImageRows` that transform.
    frozen_stages : int, default=0
        Stages kept at their initial (pretrained) weights: 0 trains all; 1
        freezes the stem; ``k`` freezes the stem and ``layer1`` to
        ``layer{k-1}``; 5 freezes the whole network.
    freeze_batchnorm : bool, default=False
        Keep every BatchNorm layer in evaluation mode in training, so that
        it normalizes with the statistics it came with (the pretrained
        ones) and small, domain-balanced batches do not overwrite them; its
        scale and shift still train unless frozen. DomainBed trains ResNets
        this way.
    channels_last : bool, default=False
        Keep the convolution weights, and convert each input batch, in
        torch's channels-last memory layout: on a GPU's tensor cores (in
        bf16 or fp16 mixed precision) convolutions run faster so;
        ``benchmarks/results/image_files_cuda.md`` has the figures.

    Examples
    --------
    >>> import torch
    >>> from skda.modules import ResNet
    >>> net = ResNet("resnet18", input_shape=(1, 16, 16))
    >>> net(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 512])
    """

    def __init__(self, arch="resnet18", input_shape=None, weights=None, frozen_stages=0,
                 freeze_batchnorm=False, channels_last=False):
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {sorted(ARCHITECTURES)}, got {arch!r}.")
        if not isinstance(frozen_stages, int) or not 0 <= frozen_stages <= 5:
            raise ValueError(f"frozen_stages must be an int in [0, 5], got {frozen_stages!r}.")
        kind, depths = ARCHITECTURES[arch]
        block = BasicBlock if kind == "basic" else Bottleneck
        channels = 3 if input_shape is None else int(input_shape[0])
        conv1, bn1 = _conv_bn(channels, 64, 7, stride=2)
        layers = [("conv1", conv1), ("bn1", bn1), ("relu", nn.ReLU(inplace=True)),
                  ("maxpool", nn.MaxPool2d(3, stride=2, padding=1))]
        n_in = 64
        widths = (64, 128, 256, 512)
        for stage, (depth, width) in enumerate(zip(depths, widths, strict=True), start=1):
            blocks = []
            for i in range(depth):
                blocks.append(block(n_in, width, stride=2 if stage > 1 and i == 0 else 1))
                n_in = width * block.expansion
            layers.append((f"layer{stage}", nn.Sequential(*blocks)))
        layers.append(("pool", GlobalAvgPool()))
        super().__init__(OrderedDict(layers))
        self.arch = arch
        self.n_features_out = n_in
        self.frozen_stages = frozen_stages
        self.freeze_batchnorm = freeze_batchnorm
        self._initialize()
        if weights is not None:
            self.load_pretrained(weights)
        for name in self._frozen_children():
            for parameter in getattr(self, name).parameters():
                parameter.requires_grad_(False)
        self.train()  # a new module is in training mode: apply the frozen layers' eval mode
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def forward(self, x):
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return super().forward(x)

    def _initialize(self):
        # torchvision's initialisation: He-normal convolutions, unit BatchNorm
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def _frozen_children(self):
        stem = ["conv1", "bn1"] if self.frozen_stages >= 1 else []
        return stem + [f"layer{k}" for k in range(1, self.frozen_stages)]

    def load_pretrained(self, weights):
        """Load ``weights`` (a torchvision weight name or a state dict file) into the network."""
        if isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights):
            state = torch.load(weights, map_location="cpu", weights_only=True)
        elif isinstance(weights, str) and (self.arch, weights) in WEIGHT_URLS:
            url = WEIGHT_URLS[self.arch, weights]
            try:
                state = torch.hub.load_state_dict_from_url(url, map_location="cpu",
                                                           progress=False)
            except OSError as exc:
                cache = os.path.join(torch.hub.get_dir(), "checkpoints")
                raise OSError(
                    f"weights={weights!r}: {os.path.basename(url)} is not in the torch hub "
                    f"cache ({cache}) and downloading it from {url} failed ({exc}). Copy the "
                    "file there, or pass weights=None.") from exc
        else:
            names = sorted(w for a, w in WEIGHT_URLS if a == self.arch)
            raise ValueError(
                f"weights must be None, one of {names} for {self.arch}, or the path of a "
                f"state dict file; got {weights!r}.")
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        stem = state["conv1.weight"]
        channels = self.conv1.in_channels
        if stem.shape[1] != channels:
            # timm's adapt_input_conv: grey sums the colour filters, more channels repeat them
            stem = (stem.sum(dim=1, keepdim=True) if channels == 1 else
                    stem.repeat(1, -(-channels // 3), 1, 1)[:, :channels] * (3 / channels))
            state["conv1.weight"] = stem
        missing, unexpected = self.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"weights do not fit {self.arch}: missing {missing[:5]}, unexpected "
                f"{unexpected[:5]}.")

    def train(self, mode=True):
        super().train(mode)
        if mode:
            # frozen stages keep their BatchNorm statistics too (mmcv's rule)
            for name in self._frozen_children():
                getattr(self, name).eval()
            if self.freeze_batchnorm:
                for module in self.modules():
                    if isinstance(module, nn.BatchNorm2d):
                        module.eval()
        return self
