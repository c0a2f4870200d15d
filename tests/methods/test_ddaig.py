"""DDAIGClassifier: its generator fools the domain classifier, its strength, its parts."""

import numpy as np
import pytest
import torch
from helpers import TINY, TINY_IMAGES
from torch import nn

from skda import DDAIGClassifier, ERMClassifier
from skda.datasets import make_shifted_digits
from skda.methods.ddaig import ImagePerturbation, TabularPerturbation


def test_alpha_zero_trains_the_classifier_as_erm(multi_domain):
    # the generated inputs' share of the loss is the whole of what DDAIG adds to ERM
    X, y, d = multi_domain
    ddaig = DDAIGClassifier(**TINY, alpha=0.0).fit(X, y, domains=d)
    erm = ERMClassifier(**TINY).fit(X, y, domains=d)
    np.testing.assert_array_equal(ddaig.predict_proba(X), erm.predict_proba(X))
    assert not np.array_equal(
        DDAIGClassifier(**TINY).fit(X, y, domains=d).predict_proba(X), erm.predict_proba(X))


def test_no_perturbation_trains_the_classifier_as_erm(multi_domain):
    # generated inputs equal to the originals: both halves of the loss are ERM's
    X, y, d = multi_domain
    ddaig = DDAIGClassifier(**TINY, perturbation=0.0).fit(X, y, domains=d)
    erm = ERMClassifier(**TINY).fit(X, y, domains=d)
    np.testing.assert_array_equal(ddaig.predict_proba(X), erm.predict_proba(X))


def test_generated_images_fool_the_domain_classifier():
    # colour domains, told apart from a single pixel; the generator must hide the colour
    X, y, d = make_shifted_digits("style", domains=["red", "gray", "inverted"],
                                  random_state=0)
    clf = DDAIGClassifier(max_epochs=6, batch_size=64, random_state=0, device="cpu")
    clf.fit(X, y, domains=d)
    module = clf.net_.module_.eval()
    codes = torch.as_tensor((d[:, None] == clf.domains_).argmax(axis=1))
    X_t = torch.as_tensor(X)
    with torch.no_grad():
        generated = module.generate(X_t)
        on_original = (module.domain_logits(X_t).argmax(1) == codes).float().mean()
        on_generated = (module.domain_logits(generated).argmax(1) == codes).float().mean()
    assert on_original > 0.95
    assert on_generated < on_original - 0.3
    # the perturbation stays within its scale and is not nothing
    change = (generated - X_t).abs()
    assert change.max() <= clf.perturbation + 1e-6
    assert change.mean() > 0.01
    history = clf.net_.history[-1]
    assert history["train_generator_domain_loss"] > history["train_domain_loss"]


def test_three_optimizers_over_their_parts(digit_images):
    X, y, d = digit_images
    clf = DDAIGClassifier(optimizer=torch.optim.SGD, lr=0.05, **TINY_IMAGES)
    clf.fit(X, y, domains=d)
    net, module = clf.net_, clf.net_.module_
    assert isinstance(module.generator, ImagePerturbation)
    parts = {"generator": [module.generator],
             "classifier": [module.featurizer, module.classifier],
             "domain": [module.domain_featurizer, module.domain_head]}
    for name, modules in parts.items():
        opt = getattr(net, f"optimizer_{name}_")
        assert isinstance(opt, torch.optim.SGD)
        assert {id(p) for g in opt.param_groups for p in g["params"]} == {
            id(p) for m in modules for p in m.parameters()}
    # the domain classifier is a network of its own, from its own initial weights
    assert module.domain_featurizer is not module.featurizer
    untrained = DDAIGClassifier(max_epochs=1, lr=1e-12, optimizer=torch.optim.SGD,
                                **{k: v for k, v in TINY_IMAGES.items() if k != "max_epochs"})
    fresh = untrained.fit(X, y, domains=d).net_.module_
    assert not torch.equal(next(fresh.featurizer.parameters()),
                           next(fresh.domain_featurizer.parameters()))


def test_tabular_rows_get_an_mlp_generator(multi_domain):
    X, y, d = multi_domain
    clf = DDAIGClassifier(**TINY).fit(X, y, domains=d)
    assert isinstance(clf.net_.module_.generator, TabularPerturbation)
    assert clf.predict(X).shape == y.shape


class Shift(nn.Module):
    """A user generator: a learned per-feature shift, the same for every row."""

    def __init__(self, n_features):
        super().__init__()
        self.shift = nn.Parameter(torch.zeros(n_features))

    def forward(self, X):
        return torch.tanh(self.shift).expand_as(X)


def test_user_generator_is_copied_and_trained(multi_domain):
    X, y, d = multi_domain
    given = Shift(X.shape[1])
    clf = DDAIGClassifier(**TINY, generator=given).fit(X, y, domains=d)
    trained = clf.net_.module_.generator
    assert trained is not given and torch.all(given.shift == 0)
    assert torch.any(trained.shift != 0)


def test_generator_of_the_wrong_shape_is_refused(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(ValueError, match=r"generator must return a perturbation of the "
                                         r"input's shape \(5,\), got \(3,\)"):
        DDAIGClassifier(**TINY, generator=nn.Linear(5, 3)).fit(X, y, domains=d)


class Broken(nn.Module):
    def forward(self, X):
        raise RuntimeError("no")


def test_generator_that_fails_is_named(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(ValueError, match="generator failed on a batch of shape"):
        DDAIGClassifier(**TINY, generator=Broken()).fit(X, y, domains=d)


def test_needs_two_domains(multi_domain):
    X, y, _ = multi_domain
    with pytest.raises(ValueError, match="at least 2 domains"):
        DDAIGClassifier(**TINY).fit(X, y)
