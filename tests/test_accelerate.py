"""Training through Hugging Face Accelerate (the [accelerate] extra).

On CPU a single-process Accelerator exercises the whole path (placement,
autocast, ``accelerator.backward``, unwrapping); the CUDA test adds mixed
precision. Several GPUs need ``accelerate launch``, which no test here starts.
"""

import pickle

import numpy as np
import pytest
import torch
from conftest import TINY, TINY_IMAGES

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier
from skda.engine.batching import BalancedBatches, DomainData

accelerate = pytest.importorskip("accelerate")


@pytest.mark.parametrize("Estimator", [ERMClassifier, DANNClassifier, CCSAClassifier])
def test_single_process_accelerator_matches_plain_training(Estimator, multi_domain):
    X, y, d = multi_domain
    plain = Estimator(**TINY, device="cpu").fit(X, y, domains=d)
    accelerated = Estimator(**TINY, accelerator=accelerate.Accelerator(cpu=True))
    accelerated.fit(X, y, domains=d)
    from skda.engine import AcceleratedDomainNet

    assert isinstance(accelerated.net_, AcceleratedDomainNet)
    # unwrapped after training: a plain module, predicting as without Accelerate
    assert type(accelerated.net_.module_) is type(plain.net_.module_)
    np.testing.assert_allclose(accelerated.predict_proba(X), plain.predict_proba(X),
                               rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(accelerated))
    np.testing.assert_array_equal(restored.predict(X), accelerated.predict(X))


def test_sagnet_refuses_an_accelerator(multi_domain):
    X, y, d = multi_domain
    clf = SagNetClassifier(**TINY, accelerator=accelerate.Accelerator(cpu=True))
    with pytest.raises(ValueError, match="SagNetClassifier does not support accelerator"):
        clf.fit(X, y, domains=d)


def test_accelerator_must_be_an_accelerator(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(TypeError, match="accelerator must be None or an accelerate.Accelerator"):
        ERMClassifier(**TINY, accelerator="bf16").fit(X, y, domains=d)


def test_replicas_share_an_epoch():
    data = DomainData(torch.zeros(1000, 2), torch.zeros(1000, dtype=torch.long),
                      torch.arange(1000) % 2)
    assert BalancedBatches(data, 100, seed=0).steps == 10
    assert BalancedBatches(data, 100, seed=0, n_replicas=4).steps == 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.gpu
def test_mixed_precision_on_cuda(digit_images):
    X, y, d = digit_images
    clf = DANNClassifier(**TINY_IMAGES, accelerator=accelerate.Accelerator(
        mixed_precision="fp16"))
    clf.fit(X, y, domains=d)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.score(X, y) > 0.3
