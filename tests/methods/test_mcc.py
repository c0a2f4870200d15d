"""MCC: the unlabeled rows' predictions stop confusing the classes."""

import numpy as np
import pytest
import torch
from helpers import AS_GIVEN, TINY
from scipy.special import softmax
from torch import nn

from skda.datasets import make_rotated_moons
from skda.methods.mcc import MCC, MCCClassifier, class_confusion
from skda.modules import MaskedCrossEntropy


def numpy_class_confusion(logits, temperature, mask, column_normalised=False):
    """The paper's loss, step by step, on the rows of ``mask``."""
    scaled = logits[mask] / temperature
    P = softmax(scaled, axis=1)
    H = -(P * np.log(P)).sum(axis=1)
    w = 1 + np.exp(-H)
    w = len(P) * w / w.sum()
    C = (P * w[:, None]).T @ P
    # the official code writes C / C.sum(dim=1), which broadcasts over columns; C is
    # symmetric, so that is column normalisation, and it gives the same loss
    C = C / C.sum(axis=1) if column_normalised else C / C.sum(axis=1, keepdims=True)
    return (C.sum() - np.trace(C)) / C.shape[0]


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_loss_matches_a_direct_computation(temperature):
    rng = np.random.RandomState(0)
    logits = rng.normal(scale=2.0, size=(12, 4))
    mask = rng.rand(12) < 0.6
    got = class_confusion(torch.tensor(logits), temperature, torch.tensor(mask))
    expected = numpy_class_confusion(logits, temperature, mask)
    assert float(got) == pytest.approx(expected, rel=1e-10)
    assert expected == pytest.approx(
        numpy_class_confusion(logits, temperature, mask, column_normalised=True), rel=1e-10)
    everything = class_confusion(torch.tensor(logits), temperature)
    assert float(everything) == pytest.approx(
        numpy_class_confusion(logits, temperature, np.ones(12, bool)), rel=1e-10)


def test_no_unlabeled_rows_give_zero_and_a_zero_gradient():
    logits = torch.randn(8, 3, requires_grad=True)
    loss = class_confusion(logits, 2.5, torch.zeros(8, dtype=torch.bool))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(logits.grad, torch.zeros_like(logits))


def test_decided_predictions_confuse_nothing_and_undecided_ones_everything():
    decided = torch.tensor([[30.0, 0, 0], [0, 30.0, 0], [0, 0, 30.0], [30.0, 0, 0]])
    assert class_confusion(decided, 1.0).item() == pytest.approx(0.0, abs=1e-6)
    undecided = torch.zeros(5, 3)
    assert class_confusion(undecided, 2.5).item() == pytest.approx(2 / 3)


def test_the_loss_adds_the_confusion_of_the_unlabeled_rows_to_the_label_loss():
    torch.manual_seed(0)
    X, y = torch.randn(10, 4), torch.tensor([0, 1, 2, -1, -1, 0, -1, 1, -1, -1])
    module = MCC(nn.Identity(), 4, 3, lambda_=0.7, temperature=2.0)
    loss, terms = module.training_loss(X, y, torch.zeros(10, dtype=torch.int64),
                                       MaskedCrossEntropy())
    logits = module(X).detach()
    label_loss = MaskedCrossEntropy()(logits, y)
    mcc = numpy_class_confusion(logits.numpy().astype(np.float64), 2.0, (y < 0).numpy())
    assert terms["label_loss"].item() == pytest.approx(label_loss.item(), rel=1e-6)
    assert terms["mcc_loss"].item() == pytest.approx(mcc, rel=1e-5)
    assert loss.item() == pytest.approx(label_loss.item() + 0.7 * mcc, rel=1e-5)


def target_confusion(clf, X):
    scores = torch.tensor(clf.decision_function(X))
    logits = torch.stack([-scores / 2, scores / 2], dim=1)  # binary: the log-odds
    return class_confusion(logits, clf.temperature).item()


def test_the_target_predictions_confuse_the_classes_less_than_without_the_loss():
    X, y, d = make_rotated_moons(random_state=0)
    target = d == "target"
    y_train = np.where(target, -1, y)
    params = dict(hidden_layer_sizes=(32,), max_epochs=100, lr=1e-2, random_state=0)
    confusion = {
        lambda_: target_confusion(
            MCCClassifier(**params, lambda_=lambda_).fit(X, y_train, domains=d), X[target])
        for lambda_ in (0.0, 1.0)}
    assert confusion[1.0] < 0.5 * confusion[0.0], confusion


def three_shifted_blobs(seed, n=150, shift=2.0):
    """Three classes along a line; the unlabeled target is shifted by 2 along it."""
    rng = np.random.RandomState(seed)
    centers = np.array([[-5.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    y = rng.randint(3, size=2 * n)
    X = rng.normal(size=(2 * n, 2)) * [0.7, 1.0] + centers[y]
    domains = np.repeat(["source", "target"], n)
    X[n:, 0] += shift
    return X, y, domains


@pytest.mark.parametrize("seed", [0, 1])
def test_the_boundaries_move_into_the_gaps_of_the_target_data(seed):
    # the source's boundaries cut through the shifted target clusters; minimising
    # the class confusion of the target predictions moves them into the gaps
    X, y, d = three_shifted_blobs(seed)
    target = d == "target"
    y_train = np.where(target, -1, y)
    params = dict(hidden_layer_sizes=(16,), max_epochs=60, lr=1e-2, random_state=seed,
                  **AS_GIVEN)
    accuracy = {
        lambda_: MCCClassifier(**params, lambda_=lambda_).fit(X, y_train, domains=d).score(
            X[target], y[target])
        for lambda_ in (0.0, 1.0)}
    assert accuracy[1.0] > accuracy[0.0] + 0.08, accuracy


def test_the_same_seed_gives_the_same_model(moons_uda):
    X, y, d = moons_uda
    first, second = (MCCClassifier(**TINY, lambda_=1.0).fit(X, y, domains=d) for _ in range(2))
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    history = first.net_.history[-1]
    assert history["train_mcc_loss"] > 0 and history["train_label_loss"] > 0


def test_a_single_domain_with_unlabeled_rows_is_semi_supervised(moons):
    X, y, _, target = moons
    clf = MCCClassifier(**TINY, lambda_=1.0).fit(X, np.where(target, -1, y))
    assert clf.domains_.tolist() == [0] and clf.net_.history[-1, "train_mcc_loss"] > 0


def test_without_unlabeled_rows_it_warns_that_it_is_erm(moons):
    X, y, d, _ = moons
    with pytest.warns(UserWarning, match="no unlabeled rows"):
        clf = MCCClassifier(**TINY, lambda_=1.0).fit(X, y, domains=d)
    assert clf.net_.history[-1, "train_mcc_loss"] == 0


@pytest.mark.parametrize("params, match", [
    ({"temperature": 0.0}, "temperature must be"),
    ({"lambda_": -1.0}, "lambda_ must be"),
])
def test_invalid_parameters_are_refused(moons_uda, params, match):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match=match):
        MCCClassifier(**TINY, **params).fit(X, y, domains=d)
