"""L2AOTClassifier: its two phases, its novel domains, its frozen scorers, its parts."""

import numpy as np
import pytest
import torch
from helpers import TINY, TINY_IMAGES
from skorch.callbacks import Callback
from torch import nn

from skda import ERMClassifier, L2AOTClassifier
from skda.datasets import make_shifted_digits
from skda.methods.l2aot import ImageDomainGenerator, TabularDomainGenerator, novelty_distances
from skda.modules.transport import sinkhorn_distance


def test_alpha_zero_trains_the_classifier_as_erm(multi_domain):
    # the novel-domain inputs' share of the loss is the whole of what L2A-OT adds to ERM
    X, y, d = multi_domain
    l2aot = L2AOTClassifier(**TINY, alpha=0.0).fit(X, y, domains=d)
    erm = ERMClassifier(**TINY).fit(X, y, domains=d)
    np.testing.assert_array_equal(l2aot.predict_proba(X), erm.predict_proba(X))
    assert not np.array_equal(
        L2AOTClassifier(**TINY).fit(X, y, domains=d).predict_proba(X), erm.predict_proba(X))


def test_the_generator_starts_after_the_pretraining(multi_domain):
    X, y, d = multi_domain
    clf = L2AOTClassifier(**{**TINY, "max_epochs": 4}, pretrain_fraction=0.5)
    history = clf.fit(X, y, domains=d).net_.history
    assert ["train_novelty" in row for row in history] == [False, False, True, True]
    assert all("train_domain_loss" in row and "train_original_loss" in row for row in history)


class ScorersAtStart(Callback):
    """Keeps the scorers' state (weights and BatchNorm statistics), and the task
    classifier's, before the first generating step."""

    def on_batch_begin(self, net, training=False, **kwargs):
        module = net.module_
        if training and module.generating and not hasattr(self, "state_"):
            self.state_ = {name: {k: v.clone() for k, v in part.state_dict().items()}
                           for name, part in self._parts(module).items()}

    @staticmethod
    def _parts(module):
        return {"label": module.label_scorer, "domain": module.domain_featurizer,
                "head": module.domain_head,
                "task": nn.Sequential(module.featurizer, module.classifier)}


def test_the_scorers_are_frozen_once_the_generator_runs(digit_images):
    X, y, d = digit_images
    clf = L2AOTClassifier(**{**TINY_IMAGES, "max_epochs": 4}, callbacks=[ScorersAtStart()])
    clf.fit(X, y, domains=d)
    module = clf.net_.module_
    watch = next(cb for _, cb in clf.net_.callbacks_ if isinstance(cb, ScorersAtStart))
    parts = ScorersAtStart._parts(module)
    for name in ("label", "domain", "head"):
        for key, value in parts[name].state_dict().items():  # BatchNorm statistics included
            assert torch.equal(value, watch.state_[name][key]), (name, key)
    # the label scorer is the task classifier as it was when the generator started, and
    # the task classifier went on learning
    assert all(torch.equal(a, b) for a, b in zip(watch.state_["label"].values(),
                                                 watch.state_["task"].values(), strict=True))
    assert not torch.equal(module.label_scorer[1].weight, module.classifier.weight)
    assert not any(p.requires_grad for p in module.label_scorer.parameters())
    optimized = {id(p) for name in ("generator", "classifier", "domain")
                 for g in getattr(clf.net_, f"optimizer_{name}_").param_groups
                 for p in g["params"]}
    assert not optimized & {id(p) for p in module.label_scorer.parameters()}


def _novel_domain_shift(clf, X, y, d):
    """Per source domain, the Sinkhorn distance in the frozen domain classifier's features
    between its images and their images in its novel domain (the mean), and the label
    scorer's accuracy on the novel-domain images."""
    module = clf.net_.module_.eval()
    codes = torch.as_tensor((d[:, None] == clf.domains_).argmax(axis=1))
    X_t = torch.as_tensor(X)
    with torch.no_grad():
        novel = module.generate(X_t, codes)
        source, moved = module.domain_featurizer(X_t), module.domain_featurizer(novel)
        distance = np.mean([float(sinkhorn_distance(moved[codes == k], source[codes == k]))
                            for k in range(len(clf.domains_))])
        kept = (module.label_scorer(novel).argmax(1).numpy() == y).mean()
    return distance, kept


def test_novel_domains_move_away_from_the_sources_and_keep_the_labels():
    # the behaviour the novelty term is for: without it (novelty_weight=0) the generator
    # has no reason to leave the source domains, and its inputs stay where they were
    X, y, d = make_shifted_digits("style", domains=["red", "gray", "inverted"],
                                  random_state=0)
    settings = dict(max_epochs=8, batch_size=64, random_state=0, device="cpu")
    novel, kept = _novel_domain_shift(
        L2AOTClassifier(**settings).fit(X, y, domains=d), X, y, d)
    still, _ = _novel_domain_shift(
        L2AOTClassifier(**settings, novelty_weight=0.0).fit(X, y, domains=d), X, y, d)
    assert novel > 2 * still
    assert kept > 0.8  # the classification and cycle terms keep the digit


def test_novelty_averages_over_the_domains_and_their_pairs():
    torch.manual_seed(0)
    source = torch.randn(12, 4)
    novel = torch.randn(12, 4) + 1.0
    domains = torch.tensor([0, 1, 2] * 4)
    got = novelty_distances(source, novel, domains, 3, 0.1)
    from_source = np.mean([float(sinkhorn_distance(novel[domains == k], source[domains == k]))
                           for k in range(3)])
    among = np.mean([float(sinkhorn_distance(novel[domains == i], novel[domains == j]))
                     for i, j in [(0, 1), (0, 2), (1, 2)]])
    assert float(got) == pytest.approx(from_source + among, rel=1e-4)
    # a domain without rows in the batch takes part in no pair
    kept = domains != 2
    fewer = novelty_distances(source[kept], novel[kept], domains[kept], 3, 0.1)
    two = novelty_distances(source[kept], novel[kept], domains[kept], 2, 0.1)
    assert float(fewer) == pytest.approx(float(two), rel=1e-5)
    one = novelty_distances(source[domains == 0], novel[domains == 0], domains[domains == 0],
                            1, 0.1)
    assert torch.isfinite(one)


def test_early_stopping_keeps_the_scorers_and_predicts(multi_domain):
    X, y, d = multi_domain
    clf = L2AOTClassifier(**{**TINY, "max_epochs": 6}, early_stopping=True,
                          n_iter_no_change=2).fit(X, y, domains=d)
    assert clf.predict(X).shape == y.shape
    assert "valid_loss" in clf.net_.history[-1]


def test_parts_and_optimizers(digit_images):
    X, y, d = digit_images
    clf = L2AOTClassifier(optimizer=torch.optim.SGD, lr=0.05, **TINY_IMAGES).fit(
        X, y, domains=d)
    net, module = clf.net_, clf.net_.module_
    assert isinstance(module.generator, ImageDomainGenerator)
    assert module.generator.body[0].in_channels == 1 + 2 * 2  # the image and 2 x 2 codes
    parts = {"generator": [module.generator],
             "classifier": [module.featurizer, module.classifier],
             "domain": [module.domain_featurizer, module.domain_head]}
    for name, modules in parts.items():
        opt = getattr(net, f"optimizer_{name}_")
        assert isinstance(opt, torch.optim.SGD)
        assert {id(p) for g in opt.param_groups for p in g["params"]} == {
            id(p) for m in modules for p in m.parameters()}


def test_tabular_rows_get_an_mlp_generator(multi_domain):
    X, y, d = multi_domain
    clf = L2AOTClassifier(**TINY).fit(X, y, domains=d)
    assert isinstance(clf.net_.module_.generator, TabularDomainGenerator)
    assert clf.predict(X).shape == y.shape


class CodedShift(nn.Module):
    """A user generator: a learned shift per domain code."""

    def __init__(self, n_codes, n_features):
        super().__init__()
        self.shift = nn.Linear(n_codes, n_features, bias=False)
        nn.init.zeros_(self.shift.weight)

    def forward(self, X, code):
        return X + self.shift(code)


def test_user_generator_is_copied_and_trained(multi_domain):
    X, y, d = multi_domain
    n_codes = 2 * len(np.unique(d))
    given = CodedShift(n_codes, X.shape[1])
    clf = L2AOTClassifier(**TINY, generator=given).fit(X, y, domains=d)
    trained = clf.net_.module_.generator
    assert trained is not given and torch.all(given.shift.weight == 0)
    assert torch.any(trained.shift.weight != 0)


class Shrink(nn.Module):
    def forward(self, X, code):
        return X[:, :3]


def test_generator_of_the_wrong_shape_is_refused(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(ValueError, match=r"generator must return inputs of the input's "
                                         r"shape \(5,\), got \(3,\)"):
        L2AOTClassifier(**TINY, generator=Shrink()).fit(X, y, domains=d)


def test_generator_without_a_code_argument_is_named(multi_domain):
    X, y, d = multi_domain
    with pytest.raises(ValueError, match="generator failed on a batch of shape"):
        L2AOTClassifier(**TINY, generator=nn.Linear(5, 5)).fit(X, y, domains=d)


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_pretrain_fraction_is_within_zero_and_one(fraction, multi_domain):
    X, y, d = multi_domain
    with pytest.raises(ValueError, match="pretrain_fraction"):
        L2AOTClassifier(**TINY, pretrain_fraction=fraction).fit(X, y, domains=d)


def test_needs_two_domains(multi_domain):
    X, y, _ = multi_domain
    with pytest.raises(ValueError, match="at least 2 domains"):
        L2AOTClassifier(**TINY).fit(X, y)
