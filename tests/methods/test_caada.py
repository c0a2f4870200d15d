"""CAADA: DANN's adversarial loss plus Deep CORAL's penalty on the same features."""

import numpy as np
import pytest
import torch
from helpers import FIXED_DECAY, TINY
from torch import nn

from skda import CAADAClassifier, DANNClassifier
from skda.methods.caada import CAADA
from skda.methods.coral import coral_penalty
from skda.methods.dann import DANN
from skda.modules import MaskedCrossEntropy


def test_the_loss_is_dann_s_plus_the_weighted_coral_penalty():
    torch.manual_seed(0)
    X, y = torch.randn(12, 3), torch.tensor([0, 1] * 3 + [-1] * 6)
    domains = torch.tensor([0] * 6 + [1] * 6)
    caada = CAADA(nn.Linear(3, 4), 4, 2, 2, coral_weight=2.0)
    dann = DANN(nn.Linear(3, 4), 4, 2, 2)
    dann.load_state_dict(caada.state_dict())  # same weights: CAADA adds only the penalty
    loss, terms = caada.training_loss(X, y, domains, MaskedCrossEntropy())
    dann_loss, _ = dann.training_loss(X, y, domains, MaskedCrossEntropy())
    penalty = coral_penalty(caada.featurizer(X), domains, 2)
    assert terms["coral_loss"].item() == pytest.approx(penalty.item())
    assert loss.item() == pytest.approx(dann_loss.item() + 2.0 * penalty.item(), rel=1e-5)


def test_the_penalty_matches_the_domains_moments_beyond_dann_s(shifted_blobs):
    X, _, y_train, d = shifted_blobs
    codes = torch.tensor((d == "target").astype(np.int64))
    params = dict(hidden_layer_sizes=(16,), max_epochs=20, batch_size=32, random_state=0,
                  **FIXED_DECAY)
    penalty = {}
    for name, model in [("DANN", DANNClassifier(**params)),
                        ("CAADA", CAADAClassifier(**params, coral_weight=1.0))]:
        Z = model.fit(X, y_train, domains=d).transform(X)
        penalty[name] = coral_penalty(torch.tensor(Z), codes, 2).item()
    assert penalty["CAADA"] < 0.5 * penalty["DANN"], penalty


def test_history_records_the_coral_term(moons_uda):
    X, y, d = moons_uda
    history = CAADAClassifier(**TINY).fit(X, y, domains=d).net_.history[-1]
    assert {"train_domain_loss", "train_coral_loss", "train_label_loss"} <= set(history)
