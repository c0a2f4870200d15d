"""V-REx: the variance of the domains' risks, and training that evens them out.

The anneal of the penalty weight, shared with IRM, is tested in test_irm.py.
"""

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss

from skda.methods.vrex import VREx, VRExClassifier, risk_variance
from skda.modules import MaskedCrossEntropy


def tiny_batch():
    """Four domains, interleaved: 0 has an unlabeled row, 2 is absent, 3 has one labeled row."""
    torch.manual_seed(0)
    domains = torch.tensor([0, 1, 0, 1, 0, 3, 1, 0, 3])
    y = torch.tensor([1, 0, -1, 2, 0, 1, 1, 2, -1])
    return torch.randn(len(y), 3), y, domains


@pytest.mark.parametrize("weighted", [False, True])
def test_loss_is_mean_risk_plus_weight_times_variance_of_the_present_domains(weighted):
    X, y, domains = tiny_batch()
    weight = torch.linspace(0.5, 2.0, len(y)) if weighted else None
    algorithm = VREx(torch.nn.Identity(), 3, 3, n_domains=4, penalty_weight=5.0)
    with torch.no_grad():  # identity backbone and head: the logits are X
        algorithm.classifier.weight.copy_(torch.eye(3))
        algorithm.classifier.bias.zero_()
    loss_fn = MaskedCrossEntropy()
    label_loss = loss_fn if weight is None else functools.partial(loss_fn, weight=weight)
    loss, terms = algorithm.training_loss(X, y, domains, label_loss)

    risks = []
    for k in (0, 1, 3):  # domain 2 has no row: it is no part of the variance
        rows = (domains == k) & (y >= 0)
        per_row = F.cross_entropy(X[rows], y[rows], reduction="none").numpy()
        w = np.ones(len(per_row)) if weight is None else weight[rows].numpy()
        risks.append((w * per_row).sum() / w.sum())
    assert terms["risk"].item() == pytest.approx(np.mean(risks), rel=1e-5)
    assert terms["penalty"].item() == pytest.approx(np.var(risks), rel=1e-5)
    assert loss.item() == pytest.approx(np.mean(risks) + 5.0 * np.var(risks), rel=1e-5)


def test_variance_of_one_or_no_domain_is_zero():
    risks = torch.tensor([0.7, 0.0, 0.3])
    assert risk_variance(risks, torch.tensor([True, False, False]))[0].item() == 0.0
    variance, mean = risk_variance(risks, torch.zeros(3, dtype=torch.bool))
    assert variance.item() == 0.0 and mean.item() == 0.0


def noisy_second_domain(seed=0, n=400, flip=0.3):
    """Two domains of the same two blobs; the labels of domain 1 are 30% flipped."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    X = rng.normal(size=(n, 2)) + 2.0 * y[:, None]
    domains = np.arange(n) % 2
    flipped = (domains == 1) & (rng.rand(n) < flip)
    return X, np.where(flipped, 1 - y, y), domains


def domain_risks(clf, X, y, domains):
    proba = clf.predict_proba(X)
    return np.array([log_loss(y[domains == k], proba[domains == k], labels=[0, 1])
                     for k in (0, 1)])


def test_penalty_evens_out_the_domains_risks():
    X, y, d = noisy_second_domain()
    params = dict(hidden_layer_sizes=(16,), max_epochs=40, lr=1e-2, penalty_anneal_iters=0,
                  random_state=0)
    without = domain_risks(VRExClassifier(**params, penalty_weight=0.0).fit(X, y, domains=d),
                           X, y, d)
    clf = VRExClassifier(**params, penalty_weight=10.0).fit(X, y, domains=d)
    with_penalty = domain_risks(clf, X, y, d)
    # the noisy domain's risk has a floor: the penalty raises the easy domain's towards it
    assert np.var(with_penalty) < np.var(without) / 4, (with_penalty, without)
    assert with_penalty[0] > without[0] + 0.1, (with_penalty, without)
    assert clf.net_.history[-1]["train_penalty"] == pytest.approx(
        np.var(with_penalty), abs=0.01)
