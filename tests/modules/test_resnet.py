"""ResNet backbones: torchvision's layout and weights, frozen stages, BatchNorm in eval mode."""

import numpy as np
import pytest
import torch
from helpers import TINY_IMAGES

from skda import DANNClassifier, ERMClassifier
from skda.modules import ResNet


@pytest.mark.parametrize("arch, width", [("resnet18", 512), ("resnet50", 2048)])
def test_feature_width_and_any_channel_count(arch, width):
    for channels in (1, 3):
        net = ResNet(arch, input_shape=(channels, 16, 16))
        assert net(torch.zeros(2, channels, 16, 16)).shape == (2, width) == (2, net.n_features_out)


def test_parameter_names_are_torchvision_s():
    names = list(ResNet("resnet18").state_dict())
    assert names[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"]
    assert "layer2.0.downsample.0.weight" in names and "layer4.1.bn2.running_var" in names
    assert not any(n.startswith("fc.") for n in names)
    # 11.2M parameters without fc (torchvision's resnet18: 11,689,512 with a 1000-class fc)
    assert sum(p.numel() for p in ResNet("resnet18").parameters()) == 11_689_512 - 513_000


def test_weights_from_a_file_and_grey_inputs(tmp_path):
    state = ResNet("resnet18").state_dict()
    state["fc.weight"], state["fc.bias"] = torch.zeros(10, 512), torch.zeros(10)  # ignored
    torch.save(state, tmp_path / "weights.pth")
    grey = ResNet("resnet18", input_shape=(1, 8, 8), weights=tmp_path / "weights.pth")
    torch.testing.assert_close(grey.conv1.weight, state["conv1.weight"].sum(1, keepdim=True))
    torch.testing.assert_close(grey.layer3[1].conv2.weight, state["layer3.1.conv2.weight"])
    with pytest.raises(ValueError, match="IMAGENET1K_V1"):
        ResNet("resnet18", weights="imagenet")
    with pytest.raises(ValueError, match="do not fit"):
        ResNet("resnet34", weights=tmp_path / "weights.pth")


def test_frozen_stages_and_frozen_batchnorm():
    net = ResNet("resnet18", input_shape=(1, 8, 8), frozen_stages=2, freeze_batchnorm=False)
    frozen = {n.split(".")[0] for n, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {"conv1", "bn1", "layer1"}
    net.train()
    assert not net.bn1.training and not net.layer1.training and net.layer2.training
    assert net.layer2[0].bn1.training
    net = ResNet("resnet18", input_shape=(1, 8, 8), freeze_batchnorm=True).train()
    assert all(not m.training for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert all(p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError, match="frozen_stages"):
        ResNet("resnet18", frozen_stages=6)
    with pytest.raises(ValueError, match="arch"):
        ResNet("resnet101")


def test_frozen_batchnorm_statistics_do_not_move_in_training(digit_images):
    X, y, d = digit_images
    clf = ERMClassifier(module="resnet18", module__freeze_batchnorm=True, **TINY_IMAGES)
    clf.fit(X, y, d)
    bn = clf.net_.module_.featurizer.bn1
    torch.testing.assert_close(bn.running_mean, torch.zeros(64))


def test_named_backbone_in_an_estimator_with_a_lower_backbone_learning_rate(digit_images):
    X, y, d = digit_images
    clf = DANNClassifier(module="resnet18", lambda_=1.0, lr=1e-3,
                         **{**TINY_IMAGES, "max_epochs": 1},
                         optimizer__param_groups=[("featurizer.*", {"lr": 1e-4})])
    clf.fit(X, y, d)
    assert clf.transform(X[:3]).shape == (3, 512)
    groups = clf.net_.optimizer_.param_groups
    # the backbone's group first (its 60 tensors), the heads at lr (DANN anneals both)
    assert len(groups[0]["params"]) == 60
    assert groups[1]["lr"] / groups[0]["lr"] == pytest.approx(10)
    with pytest.raises(ValueError, match="image backbone"):
        ERMClassifier(module="resnet18", **TINY_IMAGES).fit(np.zeros((8, 3)), [0, 1] * 4)
    with pytest.raises(ValueError, match="resnet18"):
        ERMClassifier(module="resnet7").fit(X, y, d)


def _torchvision():
    try:
        import torchvision
    except Exception as exc:  # absent, or built for another torch ("operator ... does not exist")
        pytest.skip(f"torchvision cannot be imported here: {exc}")
    return torchvision


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_torchvision_weights_load_and_give_torchvision_s_features(arch, tmp_path):
    torchvision = _torchvision()
    theirs = getattr(torchvision.models, arch)(weights=None).eval()
    torch.save(theirs.state_dict(), tmp_path / "weights.pth")
    ours = ResNet(arch, weights=tmp_path / "weights.pth").eval()
    theirs.fc = torch.nn.Identity()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x))


def test_channels_last_is_a_memory_layout_only():
    torch.manual_seed(0)
    plain = ResNet("resnet18", input_shape=(3, 32, 32)).eval()
    torch.manual_seed(0)
    fast = ResNet("resnet18", input_shape=(3, 32, 32), channels_last=True).eval()
    assert fast.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(fast(x), plain(x), rtol=1e-4, atol=1e-5)
