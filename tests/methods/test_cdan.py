"""CDAN: a discriminator on the features crossed with the (detached) class predictions."""

import numpy as np
import torch
from helpers import FIXED_DECAY, TINY
from torch import nn

from skda import CDANClassifier
from skda.datasets import make_rotated_moons
from skda.methods.cdan import CDAN


def test_the_map_is_the_outer_product_or_its_randomized_version():
    torch.manual_seed(0)
    f, g = torch.randn(4, 3), torch.randn(4, 2).softmax(dim=1)
    full = CDAN(nn.Identity(), 3, 2, 2)
    expected = torch.stack([torch.outer(g[i], f[i]).flatten() for i in range(4)])
    assert torch.allclose(full.multilinear_map(f, g), expected)
    wide = CDAN(nn.Identity(), 1000, 10, 2)
    assert wide.randomized and wide.discriminator(
        wide.multilinear_map(torch.randn(4, 1000), torch.rand(4, 10))).shape == (4, 2)


def test_the_domain_loss_reaches_the_backbone_but_not_the_label_head():
    torch.manual_seed(0)
    module = CDAN(nn.Linear(3, 4), 4, 2, 2)
    X, domains = torch.randn(16, 3), torch.arange(16) % 2
    unlabeled = torch.full((16,), -1)  # only the domain loss

    def no_label_loss(logits, y):
        return (logits * 0).sum()

    loss, _ = module.training_loss(X, unlabeled, domains, no_label_loss)
    loss.backward()
    assert module.featurizer.weight.grad.abs().sum() > 0
    assert module.classifier.weight.grad.abs().sum() == 0  # the predictions enter detached


def test_entropy_conditioning_weighs_each_domain_the_same():
    torch.manual_seed(0)
    module = CDAN(nn.Identity(), 2, 2, 2, entropy_conditioning=True)
    X, y, domains = torch.randn(10, 2), torch.full((10,), -1), torch.tensor([0] * 8 + [1] * 2)
    loss, terms = module.training_loss(X, y, domains, lambda logits, y: logits.sum() * 0)
    assert torch.isfinite(loss) and 0 <= terms["domain_acc"] <= 1


def test_the_reversed_gradient_leaves_the_discriminator_less_able_to_tell_domains_apart():
    X, y, d = make_rotated_moons(n_samples=200, random_state=0)
    y_train = np.where(d == "target", -1, y)
    params = dict(hidden_layer_sizes=(16,), max_epochs=60, random_state=0, **FIXED_DECAY)
    accuracy = {lambda_: CDANClassifier(**params, lambda_=lambda_).fit(
        X, y_train, domains=d).net_.history[-1]["train_domain_acc"] for lambda_ in (0.0, 1.0)}
    # without reversal the discriminator separates the rotated domains; with it, less so
    assert accuracy[0.0] > 0.85 and accuracy[1.0] < accuracy[0.0] - 0.1, accuracy


def test_entropy_conditioned_fit_is_seeded(moons_uda):
    X, y, d = moons_uda
    a = CDANClassifier(**TINY, entropy_conditioning=True).fit(X, y, domains=d)
    b = CDANClassifier(**TINY, entropy_conditioning=True).fit(X, y, domains=d)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
