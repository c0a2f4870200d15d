"""Image inputs: 4-D and 3-D X, the default ConvNet, user backbones, augmentation."""

import numpy as np
import pytest
import torch
from helpers import CLASSIFIERS, TINY, TINY_IMAGES, TinyCNN
from torch import nn

from skda import DANNClassifier, ERMClassifier, SagNetClassifier
from skda.modules import ConvNet, ImageStandardization, MixStyle

ALL = CLASSIFIERS


@pytest.mark.parametrize("Estimator", ALL)
def test_fit_predict_on_4d_images(Estimator, digit_images):
    X, y, d = digit_images
    clf = Estimator(**TINY_IMAGES).fit(X, y, domains=d)
    assert clf.input_shape_ == (1, 8, 8) and clf.n_features_in_ == 64
    assert not hasattr(clf, "feature_names_in_")
    module = clf.net_.module_
    assert isinstance(module.featurizer[0], ImageStandardization)
    # SagNet's shared part is the standardization alone; the conv blocks follow it
    assert any(isinstance(m, nn.Conv2d) for m in module.modules())
    proba = clf.predict_proba(X[:10])
    assert proba.shape == (10, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert clf.transform(X[:10]).ndim == 2
    assert clf.score(X, y) > 0.3  # two epochs already learn something (chance: 0.1)


def test_3d_images_are_one_channel(digit_images):
    X, y, d = digit_images
    clf3 = ERMClassifier(**TINY_IMAGES).fit(X[:, 0], y, domains=d)
    clf4 = ERMClassifier(**TINY_IMAGES).fit(X, y, domains=d)
    assert clf3.input_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(clf3.predict_proba(X[:, 0]), clf4.predict_proba(X))
    np.testing.assert_array_equal(clf3.predict_proba(X), clf4.predict_proba(X))


def test_images_of_another_shape_are_refused(digit_images):
    X, y, d = digit_images
    clf = ERMClassifier(**TINY_IMAGES).fit(X, y, domains=d)
    with pytest.raises(ValueError, match=r"images of shape \(3, 8, 8\) but ERMClassifier "
                                         r"was fitted on \(1, 8, 8\)"):
        clf.predict(np.repeat(X[:4], 3, axis=1))
    with pytest.raises(ValueError, match="was fitted on images of shape"):
        clf.predict(X[:4].reshape(4, -1))


def test_images_given_to_a_tabular_model_are_refused(moons_uda):
    X, y, d = moons_uda
    clf = ERMClassifier(**TINY).fit(X, y, domains=d)
    match = r"fitted on tabular X with 2 features; got images of shape \(1, 4, 4\)"
    with pytest.raises(ValueError, match=match):
        clf.predict(np.zeros((3, 1, 4, 4)))


def test_5d_input_is_refused(digit_images):
    X, y, d = digit_images
    with pytest.raises(ValueError, match="got 5-D X"):
        ERMClassifier(**TINY_IMAGES).fit(X[:, None], y, domains=d)


def test_convnet_through_module_params(digit_images):
    X, y, d = digit_images
    clf = ERMClassifier(module=ConvNet, module__channels=(4, 6), module__width=5, **TINY_IMAGES)
    clf.fit(X, y, domains=d)
    assert clf.transform(X[:3]).shape == (3, 5)


def test_user_backbone_gets_input_shape(digit_images):
    X, y, d = digit_images
    clf = DANNClassifier(module=TinyCNN, module__width=3, **TINY_IMAGES).fit(X, y, domains=d)
    assert clf.net_.module_.featurizer.conv.in_channels == 1
    assert clf.transform(X[:2]).shape == (2, 3)


class Recorder:
    """An augmentation that counts its calls and flips images left-right."""

    def __init__(self):
        self.shapes = []

    def __call__(self, X):
        self.shapes.append(tuple(X.shape))
        return torch.flip(X, dims=[-1])


def test_augment_is_applied_to_training_batches_only(digit_images):
    X, y, d = digit_images
    clf = ERMClassifier(augment=Recorder(), **TINY_IMAGES).fit(X, y, domains=d)
    recorder = clf.net_.augment  # the estimator's callable, used as given
    steps = clf.net_.history[-1, "train_batch_count"] * TINY_IMAGES["max_epochs"]
    assert len(recorder.shapes) == steps
    assert all(shape[1:] == (1, 8, 8) for shape in recorder.shapes)
    clf.predict(X)
    assert len(recorder.shapes) == steps
    # and it changes what is learned
    plain = ERMClassifier(**TINY_IMAGES).fit(X, y, domains=d)
    assert not np.allclose(plain.predict_proba(X[:20]), clf.predict_proba(X[:20]))


@pytest.mark.parametrize("Estimator", [ERMClassifier, SagNetClassifier])
def test_augment_returning_another_shape_is_an_error(Estimator, digit_images):
    X, y, d = digit_images
    clf = Estimator(augment=lambda X: X[:, :, :4], **TINY_IMAGES)
    with pytest.raises(ValueError, match=r"augment must return a tensor of the batch's shape"):
        clf.fit(X, y, domains=d)


def test_augment_must_be_callable(digit_images):
    X, y, d = digit_images
    with pytest.raises(TypeError, match="augment must be None or a callable"):
        ERMClassifier(augment="flip", **TINY_IMAGES).fit(X, y, domains=d)


def test_convnet_ignores_brightness_and_contrast():
    # a grey background and a weaker contrast (USPS against MNIST) give the same features
    torch.manual_seed(0)
    net = ConvNet((1, 16, 16)).eval()
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        np.testing.assert_allclose(net(0.6 * x + 0.2), net(x), atol=1e-4)
        plain = ConvNet((1, 16, 16), standardize=False).eval()
        assert not torch.allclose(plain(0.6 * x + 0.2), plain(x), atol=1e-2)
    assert net(x).shape == (4, 128) and net.n_features_out == 128


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(16, 16)), "input_shape"),
    (dict(input_shape=(1, 8, 8), channels=()), "channels"),
    (dict(input_shape=(1, 8, 8), width=0), "width"),
])
def test_convnet_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvNet(**kwargs)
    with pytest.raises(TypeError, match="standardize"):
        ConvNet((1, 8, 8), standardize="yes")


def test_mixstyle_option_mixes_training_batches_only(digit_images):
    X, y, d = digit_images
    net = ConvNet((1, 8, 8), channels=(4, 4, 4), mixstyle=True)
    assert sum(isinstance(m, MixStyle) for m in net.modules()) == 2  # all blocks but the last
    assert len(list(net.children())) == len(list(ConvNet((1, 8, 8), (4, 4, 4)).children()))
    batch = torch.tensor(X[:16], dtype=torch.float32).reshape(16, 1, 8, 8)
    for layer in net.modules():
        if isinstance(layer, MixStyle):
            layer.p = 1.0
    net.eval()
    assert torch.equal(net(batch), net(batch))
    net.train()
    torch.manual_seed(0)
    assert not torch.allclose(net(batch), net(batch))
    clf = ERMClassifier(module=ConvNet, module__mixstyle=True, **TINY_IMAGES).fit(
        X, y, domains=d)
    assert any(isinstance(m, MixStyle) for m in clf.net_.module_.modules())
