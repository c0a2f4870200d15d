"""GroupDRO: the group weights rise on the group with the highest loss."""

import numpy as np
import pytest
from helpers import AS_GIVEN, TINY

from skda import GroupDROClassifier


def noisy_second_domain(seed=0, n=400):
    """Two domains of the same two blobs; the labels of domain 1 are 35% flipped."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    X = rng.normal(size=(n, 2)) + 2.0 * y[:, None]
    domains = np.arange(n) % 2
    flip = (domains == 1) & (rng.rand(n) < 0.35)
    return X, np.where(flip, 1 - y, y), domains


@pytest.mark.parametrize("eta", [0.1, 1.0])
def test_weights_move_to_the_hardest_domain(eta):
    X, y, d = noisy_second_domain()
    clf = GroupDROClassifier(hidden_layer_sizes=(8,), max_epochs=20, eta=eta, random_state=0,
                             **AS_GIVEN)
    weights = clf.fit(X, y, domains=d).group_weights_
    assert weights.shape == (2,) and weights.sum() == pytest.approx(1.0, abs=1e-5)
    assert weights[1] > 0.6, weights


def test_without_steps_the_weights_stay_uniform_and_the_loss_is_the_groups_mean():
    X, y, d = noisy_second_domain()
    clf = GroupDROClassifier(**TINY, eta=0.0, group_by="domain_class").fit(X, y, domains=d)
    np.testing.assert_allclose(clf.group_weights_, np.full((2, 2), 0.25))


def test_domain_class_groups_follow_domains_and_classes():
    X, y, d = noisy_second_domain()
    names = np.where(d == 1, "noisy", "clean")
    clf = GroupDROClassifier(hidden_layer_sizes=(8,), max_epochs=20, eta=0.1,
                             group_by="domain_class", random_state=0, **AS_GIVEN)
    weights = clf.fit(X, y, domains=names).group_weights_
    assert weights.shape == (len(clf.domains_), len(clf.classes_))
    noisy = list(clf.domains_).index("noisy")
    assert weights[noisy].sum() > 0.6, weights
    assert "train_worst_group_loss" in clf.net_.history[-1]


def test_group_weights_need_a_fit():
    assert not hasattr(GroupDROClassifier(), "group_weights_")


def test_class_weight_is_refused_with_domain_class_groups():
    X, y, d = noisy_second_domain()
    with pytest.raises(ValueError, match="class_weight has no effect with group_by"):
        GroupDROClassifier(**TINY, group_by="domain_class", class_weight="balanced").fit(
            X, y, domains=d)
