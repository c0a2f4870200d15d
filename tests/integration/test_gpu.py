"""GPU paths; skipped cleanly where CUDA is absent (CI has none)."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import CLASSIFIERS, REPO, TINY, TINY_IMAGES
from skorch.callbacks import Callback

from skda import DANNClassifier, ERMClassifier, SagNetClassifier

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


def _same_model(a, b):
    """Two fits of the same batches on CUDA: cuDNN's kernels differ in the last bits from run
    to run, and training grows that, so the predictions agree rather than match."""
    assert np.mean(a.argmax(axis=1) == b.argmax(axis=1)) > 0.97
    assert np.abs(a - b).mean() < 5e-3


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_auto_device_trains_on_cuda(Estimator, moons, moons_uda):
    # the target unlabeled for the methods that use such rows, labeled for the others
    # (several need labeled rows from two domains)
    X, y, d = moons_uda if Estimator._uses_unlabeled else moons[:3]
    clf = Estimator(**TINY).fit(X, y, domains=d)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.predict(X).shape == (len(X),)


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_images_on_cuda(Estimator, digit_images):
    X, y, d = digit_images
    clf = Estimator(**{**TINY_IMAGES, "device": "cuda"}).fit(X, y, domains=d)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.score(X, y) > 0.3


def test_same_seed_same_batches_on_cuda(digit_images):
    # the batch indices are drawn on the CPU, so the epochs see the same rows; cuDNN's
    # kernels may still differ in the last bits (an atol of 1e-3 failed on an H200)
    X, y, d = digit_images
    fits = [ERMClassifier(**{**TINY_IMAGES, "device": "cuda"}).fit(X, y, domains=d)
            for _ in range(2)]
    _same_model(fits[0].predict_proba(X), fits[1].predict_proba(X))


@pytest.mark.parametrize("Estimator", [DANNClassifier, SagNetClassifier])
def test_gpu_model_loads_and_predicts_without_cuda(Estimator, moons, tmp_path):
    X, y, d, _ = moons
    clf = Estimator(**TINY, device="cuda").fit(X, y, domains=d)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    script = (
        "import pickle, sys, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "clf = pickle.loads(open(sys.argv[1] + '/model.pkl', 'rb').read())\n"
        "p = clf.predict_proba(np.load(sys.argv[1] + '/X.npy'))\n"
        "np.testing.assert_allclose(p, np.load(sys.argv[1] + '/expected.npy'), atol=1e-5)\n"
    )
    root = str(REPO)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- images at size: uint8 arrays, data streamed from the host, files, ResNet, mixed precision


class _TrainingX(Callback):
    """Records the dtype and device of the training X the engine batches from."""

    def on_train_begin(self, net, X=None, **kwargs):
        self.seen = (X.X.dtype, X.X.device.type) if isinstance(X.X, torch.Tensor) else None


def _seen(clf):
    return dict(clf.net_.callbacks_)["probe"].seen


def test_uint8_images_go_to_cuda_as_uint8(digit_images):
    X, y, d = digit_images
    pixels = np.round(X * 255).astype(np.uint8)
    clf = ERMClassifier(**{**TINY_IMAGES, "device": "cuda"}, callbacks=[("probe", _TrainingX())])
    clf.fit(pixels, y, domains=d)
    assert _seen(clf) == (torch.uint8, "cuda")
    as_float = ERMClassifier(**{**TINY_IMAGES, "device": "cuda"}).fit(
        pixels.astype(np.float32), y, domains=d)
    _same_model(clf.predict_proba(pixels), as_float.predict_proba(pixels.astype(np.float32)))


def test_data_larger_than_the_device_stays_on_the_host(digit_images, monkeypatch):
    from skda.engine import batching

    X, y, d = digit_images
    pixels = np.round(X * 255).astype(np.uint8)
    params = {**TINY_IMAGES, "device": "cuda"}
    on_device = ERMClassifier(**params).fit(pixels, y, domains=d)
    monkeypatch.setattr(batching, "DEVICE_MEMORY_SHARE", 0.0)  # as if X did not fit
    streamed = ERMClassifier(**params, callbacks=[("probe", _TrainingX())]).fit(
        pixels, y, domains=d)
    assert _seen(streamed) == (torch.uint8, "cpu")
    assert next(streamed.net_.module_.parameters()).is_cuda
    # the same batches, fetched from the host
    _same_model(streamed.predict_proba(pixels), on_device.predict_proba(pixels))


def test_image_files_with_workers_on_cuda(digit_images, tmp_path):
    from PIL import Image

    from skda.datasets import ImageRows

    X, y, d = digit_images
    pixels = np.round(X * 255).astype(np.uint8)
    paths = []
    for i, image in enumerate(pixels):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(image[0]).save(paths[-1])
    rows = ImageRows(paths, num_workers=2)
    clf = ERMClassifier(**{**TINY_IMAGES, "device": "cuda"}).fit(rows, y, d)
    expected = ERMClassifier(**{**TINY_IMAGES, "device": "cuda"}).fit(
        pixels.astype(np.float32) / 255, y, d)
    _same_model(clf.predict_proba(rows), expected.predict_proba(pixels.astype(np.float32) / 255))


def test_resnet_with_bf16_mixed_precision_on_cuda(digit_images):
    accelerate = pytest.importorskip("accelerate")
    X, y, d = digit_images
    clf = DANNClassifier(module="resnet18", lambda_=1.0, accelerator=accelerate.Accelerator(
        mixed_precision="bf16"), **{**TINY_IMAGES, "device": "cuda", "max_epochs": 5})
    clf.fit(X, y, d)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.score(X, y) > 0.3
