"""Training through Hugging Face Accelerate (the [accelerate] extra).

On CPU a single-process Accelerator exercises the whole path (placement,
autocast, ``accelerator.backward``, unwrapping), and two processes under
``torchrun`` run real data-parallel training over gloo; the CUDA test adds
mixed precision. Several GPUs (NCCL) are not tested here.
"""

import pickle

import numpy as np
import pytest
import torch
from helpers import REPO, TINY, TINY_IMAGES, fixed_strength

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier
from skda.engine.batching import BalancedBatches, DomainData

accelerate = pytest.importorskip("accelerate")


@pytest.mark.parametrize("Estimator", [ERMClassifier, DANNClassifier, CCSAClassifier])
def test_single_process_accelerator_matches_plain_training(Estimator, multi_domain):
    X, y, d = multi_domain
    plain = Estimator(**TINY, **fixed_strength(Estimator), device="cpu").fit(X, y, domains=d)
    accelerated = Estimator(**TINY, **fixed_strength(Estimator),
                            accelerator=accelerate.Accelerator(cpu=True))
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
    clf = DANNClassifier(**TINY_IMAGES, lambda_=1.0, accelerator=accelerate.Accelerator(
        mixed_precision="fp16"))
    clf.fit(X, y, domains=d)
    assert next(clf.net_.module_.parameters()).is_cuda
    assert clf.score(X, y) > 0.3


DATA_PARALLEL_SCRIPT = """
import json
import sys
import numpy as np
import torch
from accelerate import Accelerator
from skda import DANNClassifier
from skda.datasets import make_rotated_moons

torch.set_num_threads(1)
accelerator = Accelerator(cpu=True)
X, y, d = make_rotated_moons(random_state=0)
clf = DANNClassifier(hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0,
                     lambda_=1.0, accelerator=accelerator)
clf.fit(X, np.where(d == "target", -1, y), domains=d)
# one file per process: their stdout lines can interleave
with open(f"{sys.argv[1]}/rank{accelerator.process_index}.json", "w") as out:
    json.dump({
        "rank": accelerator.process_index,
        "world": accelerator.num_processes,
        "steps": clf.net_.train_steps_per_epoch_,
        "coeff": clf.net_.module_.reversal_coeff,
        "weights": [p.detach().flatten().tolist() for p in clf.net_.module_.parameters()],
    }, out)
"""


def test_two_process_data_parallel_training_on_cpu(tmp_path):
    """``torchrun`` with 2 CPU processes: DistributedDataParallel over gloo, for real."""
    import json
    import os
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(DATA_PARALLEL_SCRIPT)
    root = str(REPO)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert sorted(r["rank"] for r in ranks) == [0, 1] and ranks[0]["world"] == 2
    # 300 rows, 32 per batch and process: the two processes share each epoch
    assert ranks[0]["steps"] == 5
    # the warm-up reached the wrapped module (coefficient near lambda_ = 1 at the end)
    assert ranks[0]["coeff"] > 0.99
    # each process drew its own batches, yet gradients were averaged: same weights
    np.testing.assert_allclose(np.concatenate(ranks[0]["weights"]),
                               np.concatenate(ranks[1]["weights"]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("verbose", [0, 1])
def test_verbose_decides_whether_the_epoch_table_prints(verbose, multi_domain, capsys):
    X, y, d = multi_domain
    ERMClassifier(**TINY, verbose=verbose,
                  accelerator=accelerate.Accelerator(cpu=True)).fit(X, y, domains=d)
    printed = capsys.readouterr().out
    assert ("train_loss" in printed) is bool(verbose), printed
