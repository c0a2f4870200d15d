"""GPU paths; skipped cleanly where CUDA is absent (CI has none)."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import CLASSIFIERS, REPO, TINY, TINY_IMAGES

from skda import DANNClassifier, ERMClassifier, SagNetClassifier

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_auto_device_trains_on_cuda(Estimator, moons_uda):
    X, y, d = moons_uda
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
    # the batch indices are drawn on the CPU, so the epochs see the same rows;
    # cuDNN kernels may still differ in the last bits, hence the tolerance
    X, y, d = digit_images
    fits = [ERMClassifier(**{**TINY_IMAGES, "device": "cuda"}).fit(X, y, domains=d)
            for _ in range(2)]
    np.testing.assert_allclose(fits[0].predict_proba(X), fits[1].predict_proba(X), atol=1e-3)


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
