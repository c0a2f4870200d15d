"""Fitting and predicting: inputs users pass, outputs they get."""

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import CLASSIFIERS, TINY, fixed_strength
from torch import nn

from skda import CCSAClassifier, DANNClassifier, ERMClassifier, SagNetClassifier

ESTIMATORS = CLASSIFIERS


def training_data(Estimator, moons_uda, multi_domain):
    """Unsupervised-DA moons where the method uses unlabeled rows, else labeled sites."""
    return moons_uda if Estimator._uses_unlabeled or Estimator is ERMClassifier else multi_domain


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_string_labels_and_domains(Estimator, multi_domain):
    X, y, d = multi_domain
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = Estimator(**TINY).fit(X, labels, domains=d)
    assert list(clf.classes_) == ["cat", "dog", "eel"]
    assert list(clf.domains_) == ["site0", "site1", "site2", "site3"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_dataframe_input_records_feature_names(Estimator, multi_domain):
    X, y, d = multi_domain
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = Estimator(**TINY).fit(frame, pd.Series(y), domains=pd.Series(d))
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.n_features_in_ == 5
    assert clf.predict(frame).shape == (len(frame),)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_caller_arrays_are_not_modified(Estimator, moons_uda, multi_domain):
    X, y, d = training_data(Estimator, moons_uda, multi_domain)
    # float32 C-contiguous: the case where validation does not copy
    X = np.ascontiguousarray(X, dtype=np.float32)
    copies = X.copy(), y.copy(), d.copy()
    clf = Estimator(**TINY).fit(X, y, domains=d)
    clf.predict(X)
    clf.transform(X)
    for before, after in zip(copies, (X, y, d), strict=True):
        assert np.array_equal(before, after)


def _public_fitted(estimator):
    params = set(estimator.get_params())
    return {k for k in vars(estimator)
            if k.endswith("_") and not k.startswith("_") and k not in params}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_what_fit_sets_is_declared(Estimator, moons_uda, multi_domain):
    # _fitted_attributes is what a refit clears, what "auto" takes on from the model it
    # keeps and what parameter checks tell apart from a misspelt parameter: an attribute
    # that fit sets and the class does not declare would survive a refit
    X, y, d = training_data(Estimator, moons_uda, multi_domain)
    clf = Estimator(**TINY).fit(X, y, domains=d)
    assert _public_fitted(clf) <= set(Estimator._fitted_attributes)
    if "latent_domains" in clf.get_params():
        latent = Estimator(**TINY, latent_domains=2).fit(X, y)
        assert "latent_domain_labels_" in _public_fitted(latent)
        assert _public_fitted(latent) <= set(Estimator._fitted_attributes)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_seed_same_model_on_cpu(Estimator, moons_uda, multi_domain):
    X, y, d = training_data(Estimator, moons_uda, multi_domain)
    fit = lambda seed: Estimator(**{**TINY, "random_state": seed}, device="cpu").fit(  # noqa: E731
        X, y, domains=d)
    p1, p2, p3 = (fit(s).predict_proba(X) for s in (3, 3, 4))
    np.testing.assert_array_equal(p1, p2)
    assert not np.allclose(p1, p3)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_domain_names_do_not_change_a_seeded_fit(Estimator, moons_uda, multi_domain):
    # renaming reverses the sorted order of the domains; the model must not notice
    X, y, d = training_data(Estimator, moons_uda, multi_domain)
    names = np.unique(d)
    renamed = dict(zip(names, [f"{chr(ord('z') - k)}_{n}" for k, n in enumerate(names)],
                       strict=True))
    d_renamed = np.array([renamed[v] for v in d])
    assert [renamed[n] for n in names] != sorted(renamed.values())
    fit = lambda domains: Estimator(**TINY, device="cpu").fit(X, y, domains=domains)  # noqa: E731
    a, b = fit(d), fit(d_renamed)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert [renamed[n] for n in a.domains_] == list(b.domains_)


def test_fit_leaves_global_torch_rng_alone(moons_uda):
    X, y, d = moons_uda
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DANNClassifier(**TINY).fit(X, y, domains=d)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_transform_returns_last_hidden_layer(Estimator, moons_uda, multi_domain):
    X, y, d = training_data(Estimator, moons_uda, multi_domain)
    clf = Estimator(hidden_layer_sizes=(12, 6), max_epochs=2, random_state=0).fit(
        X, y, domains=d)
    Z = clf.transform(X)
    assert Z.shape == (len(X), 6) and Z.dtype == np.float32
    assert (Z >= 0).all()  # ReLU features


def test_erm_ignores_unlabeled_rows(moons, moons_uda):
    """ERM on (labeled + unlabeled) equals ERM on the labeled rows alone."""
    X, y_uda, d = moons_uda
    labeled = y_uda != -1
    with_unlabeled = ERMClassifier(**TINY).fit(X, y_uda, domains=d)
    labeled_only = ERMClassifier(**TINY).fit(X[labeled], y_uda[labeled], domains=d[labeled])
    np.testing.assert_array_equal(with_unlabeled.predict_proba(X),
                                  labeled_only.predict_proba(X))
    assert list(with_unlabeled.domains_) == ["source"]


def test_unlabeled_rows_never_become_a_class(moons_uda):
    X, y, d = moons_uda
    clf = DANNClassifier(**TINY).fit(X, y, domains=d)
    assert list(clf.classes_) == [0, 1]
    assert list(clf.domains_) == ["source", "target"]


def test_object_labels_with_unlabeled_marker(moons_uda):
    X, y, d = moons_uda
    labels = np.array(["a" if v == 0 else "b" if v == 1 else -1 for v in y], dtype=object)
    clf = DANNClassifier(**TINY).fit(X, labels, domains=d)
    assert list(clf.classes_) == ["a", "b"]


class TwoLayer(nn.Module):
    def __init__(self, n_features_in, width=7):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features_in, width), nn.Tanh())

    def forward(self, X):
        return self.net(X)


def test_module_class_with_module_params(moons_uda):
    X, y, d = moons_uda
    clf = DANNClassifier(module=TwoLayer, module__width=5, **TINY).fit(X, y, domains=d)
    assert clf.get_params()["module__width"] == 5
    assert clf.transform(X).shape == (len(X), 5)
    assert isinstance(clf.net_.module_.featurizer, TwoLayer)


def test_module_instance_is_copied_not_trained_in_place(moons_uda):
    X, y, d = moons_uda
    backbone = TwoLayer(2, width=4)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    clf = ERMClassifier(module=backbone, **TINY).fit(X, y, domains=d)
    for k, v in backbone.state_dict().items():
        assert torch.equal(v, before[k])
    assert clf.net_.module_.featurizer is not backbone


def test_optimizer_params_reach_the_optimizer(moons_uda):
    X, y, d = moons_uda
    clf = ERMClassifier(optimizer=torch.optim.SGD, optimizer__momentum=0.5, lr=0.05,
                        **TINY).fit(X, y, domains=d)
    group = clf.net_.optimizer_.param_groups[0]
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    assert group["momentum"] == 0.5 and group["lr"] == 0.05


def test_user_callbacks_run_and_are_not_mutated(moons_uda):
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.n = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.n += 1

    X, y, d = moons_uda
    counter = CountEpochs()
    clf = DANNClassifier(callbacks=[counter], **TINY).fit(X, y, domains=d)
    assert dict(clf.net_.callbacks_)["CountEpochs"].n == TINY["max_epochs"]
    assert not hasattr(counter, "n")  # the caller's object was copied


def test_history_records_method_terms(moons_uda):
    X, y, d = moons_uda
    clf = DANNClassifier(**TINY).fit(X, y, domains=d)
    history = clf.net_.history
    assert len(history) == TINY["max_epochs"]
    for key in ("train_loss", "train_label_loss", "train_domain_loss", "train_domain_acc"):
        assert np.isfinite(history[-1, key])
    # the total is label loss + domain loss, batch for batch
    np.testing.assert_allclose(
        history[-1, "train_loss"],
        history[-1, "train_label_loss"] + history[-1, "train_domain_loss"], rtol=1e-5)


@pytest.mark.parametrize("Estimator", [ERMClassifier, DANNClassifier, CCSAClassifier,
                                       SagNetClassifier])
def test_verbose_prints_one_row_per_epoch_and_quiet_at_zero(Estimator, multi_domain, capsys):
    X, y, d = multi_domain
    Estimator(**{**TINY, "max_epochs": 3}, **fixed_strength(Estimator), verbose=1).fit(
        X, y, domains=d)
    out = capsys.readouterr().out
    header, *rows = [line for line in out.splitlines() if line.strip() and "---" not in line]
    assert "epoch" in header and "train_loss" in header and "dur" in header
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]
    if Estimator is DANNClassifier:
        assert "train_domain_loss" in header
    Estimator(**{**TINY, "max_epochs": 3}, verbose=0).fit(X, y, domains=d)
    assert capsys.readouterr().out == ""


def test_refit_with_other_data_resets_model(moons_uda, multi_domain):
    X, y, d = moons_uda
    clf = DANNClassifier(**TINY).fit(X, y, domains=d)
    X2, y2, d2 = multi_domain
    clf.fit(X2, y2, domains=d2)
    assert clf.n_features_in_ == 5 and len(clf.classes_) == 3 and len(clf.domains_) == 4
    assert clf.net_.module_.discriminator[-1].out_features == 4
