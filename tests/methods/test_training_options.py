"""What every estimator's fit offers besides the method: weights, early stopping, scores."""

import numpy as np
import pytest
import torch
from helpers import CLASSIFIERS, TINY
from sklearn.metrics import balanced_accuracy_score
from skorch.callbacks import Callback

from skda import DANNClassifier, ERMClassifier, SagNetClassifier
from skda.datasets import make_site_shift
from skda.methods.base import balanced_per_domain_weights


def imbalanced(seed=0, n=400):
    """Two overlapping classes, 10% positives, two domains."""
    rng = np.random.RandomState(seed)
    y = (rng.rand(n) < 0.1).astype(int)
    X = rng.normal(size=(n, 2)) + 1.2 * y[:, None]
    return X, y, np.arange(n) % 2


# -- sample_weight and class_weight ---------------------------------------------------------


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_balanced_class_weight_raises_the_minority_recall(Estimator):
    X, y, d = imbalanced()
    params = dict(hidden_layer_sizes=(8,), max_epochs=30, random_state=0)
    plain = Estimator(**params).fit(X, y, domains=d)
    balanced = Estimator(**params, class_weight="balanced").fit(X, y, domains=d)
    recall = [np.mean(m.predict(X)[y == 1] == 1) for m in (plain, balanced)]
    assert recall[1] > recall[0] + 0.3, recall


def test_class_weight_equals_the_matching_sample_weight():
    X, y, d = imbalanced()
    by_class = ERMClassifier(**TINY, class_weight={0: 1.0, 1: 5.0}).fit(X, y, domains=d)
    by_row = ERMClassifier(**TINY).fit(X, y, domains=d, sample_weight=np.where(y == 1, 5.0, 1.0))
    np.testing.assert_allclose(by_class.predict_proba(X), by_row.predict_proba(X), rtol=1e-6)


def test_balanced_per_domain_weighs_every_domain_class_cell_the_same():
    codes = np.array([0, 0, 0, 1, 0, 1, 1, 1, 1, -1])
    domains = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    labeled = codes >= 0
    w = balanced_per_domain_weights(codes, labeled, domains)
    for domain in (0, 1):
        rows = labeled & (domains == domain)
        # the domain keeps its total weight, shared equally by its classes
        assert w[rows].sum() == pytest.approx(rows.sum())
        cells = [w[rows & (codes == c)].sum() for c in (0, 1)]
        assert cells[0] == pytest.approx(cells[1])
    assert w[~labeled] == 1.0


def test_balanced_per_domain_removes_the_site_shortcut():
    # sites 0 and 2 mostly controls, 1 and 3 mostly patients, and readable from X;
    # tested on the same sites with the class balance reversed
    train = make_site_shift(n_samples=300, covariate_shift=2.0, site_label_dependence=0.9,
                            random_state=0, rows_random_state=1)
    X, y, d = make_site_shift(n_samples=500, covariate_shift=2.0,
                              prevalence=[0.95, 0.05, 0.95, 0.05], random_state=0,
                              rows_random_state=2)
    params = dict(hidden_layer_sizes=(16,), max_epochs=30, random_state=0)
    scores = [balanced_accuracy_score(y, ERMClassifier(**params, class_weight=weight).fit(
        *train[:2], domains=train[2]).predict(X)) for weight in (None, "balanced_per_domain")]
    assert scores[1] > scores[0] + 0.1, scores


def test_uniform_weights_change_nothing_and_zero_weights_remove_a_class(moons_uda):
    X, y, d = moons_uda
    plain = ERMClassifier(**TINY).fit(X, y, domains=d)
    uniform = ERMClassifier(**TINY).fit(X, y, domains=d, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_array_equal(plain.predict_proba(X), uniform.predict_proba(X))
    w = np.where(y == 1, 0.0, 1.0)  # class 1 never counts: everything becomes class 0
    only_zero = ERMClassifier(**{**TINY, "max_epochs": 20}).fit(X, y, domains=d, sample_weight=w)
    assert np.mean(only_zero.predict(X) == 0) > 0.95


def test_weights_are_checked(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="Negative values in data passed to `?sample_weight"):
        ERMClassifier(**TINY).fit(X, y, domains=d, sample_weight=-np.ones(len(y)))
    only_unlabeled = np.where(y == -1, 1.0, 0.0)
    with pytest.raises(ValueError, match="sample_weight is 0 on every labeled row"):
        ERMClassifier(**TINY).fit(X, y, domains=d, sample_weight=only_unlabeled)
    with pytest.raises(ValueError, match="class_weight must be None or 'balanced' or "
                                         "'balanced_per_domain' or a dict"):
        ERMClassifier(**TINY, class_weight="equal").fit(X, y, domains=d)
    with pytest.raises(ValueError, match="class_weight: "):
        ERMClassifier(**TINY, class_weight={7: 2.0}).fit(X, y, domains=d)


def test_weights_keep_their_meaning_in_one_row_batches():
    X, y, d = imbalanced()
    # 400 steps of one row each: a per-batch weighted mean would cancel every weight
    params = dict(hidden_layer_sizes=(8,), max_epochs=1, batch_size=1, random_state=0)
    plain = ERMClassifier(**params).fit(X, y, domains=d)
    weighted = ERMClassifier(**params, class_weight={0: 1.0, 1: 9.0}).fit(X, y, domains=d)
    recall = [np.mean(m.predict(X)[y == 1] == 1) for m in (plain, weighted)]
    assert recall[1] > recall[0] + 0.3, recall


def test_weights_are_rescaled_to_average_one_over_the_labeled_rows(moons_uda):
    X, y, d = moons_uda
    clf = ERMClassifier(**TINY)
    clf._check_params()
    fitted, codes = clf._encode_targets(y)
    labeled = clf._labeled(codes)
    w = clf._row_weights(X, codes, labeled, clf._encode_domains(X, d), fitted,
                         np.where(y == 1, 30.0, 10.0))
    assert w[labeled].mean() == pytest.approx(1.0)
    assert w[labeled & (y == 1)][0] == pytest.approx(3 * w[labeled & (y == 0)][0])
    assert np.all(w[~labeled] == 1.0)


@pytest.mark.parametrize("bad", [{0: -1.0, 1: 1.0}, {0: float("nan"), 1: 1.0},
                                 {0: float("inf"), 1: 1.0}, {0: "x", 1: 1.0}])
def test_class_weights_must_be_finite_and_non_negative(bad, moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="class_weight must map classes to finite, non-negative"):
        ERMClassifier(**TINY, class_weight=bad).fit(X, y, domains=d)


def test_balanced_per_domain_names_the_domains_it_cannot_balance():
    from skda.metrics import ConfoundingWarning

    X, y, d = imbalanced()
    d = np.where((y == 0) & (np.arange(len(y)) % 4 == 0), 2, d)  # domain 2: controls only
    with pytest.warns(ConfoundingWarning, match=r"cannot balance domain\(s\) \[2\]"):
        ERMClassifier(**TINY, class_weight="balanced_per_domain").fit(X, y, domains=d)


def test_score_leaves_out_the_unlabeled_rows(moons_uda):
    from skda import ERMRegressor

    X, y, d = moons_uda
    clf = ERMClassifier(**TINY).fit(X[y >= 0], y[y >= 0], domains=d[y >= 0])
    labeled = y >= 0
    assert clf.score(X, y) == pytest.approx(clf.score(X[labeled], y[labeled]))
    with pytest.warns(UserWarning, match="every row of y is unlabeled"):
        assert np.isnan(clf.score(X, np.full(len(y), -1)))
    target = np.where(labeled, X[:, 0] + y, np.nan)
    reg = ERMRegressor(**TINY).fit(X[labeled], target[labeled], domains=d[labeled])
    assert reg.score(X, target) == pytest.approx(reg.score(X[labeled], target[labeled]))


@pytest.mark.parametrize("Estimator", [c for c in CLASSIFIERS if not c._uses_unlabeled])
def test_every_classifier_that_drops_unlabeled_rows_says_so(Estimator, multi_domain):
    X, y, d = multi_domain
    y = y.copy()
    y[::10] = -1  # e.g. -1 meant as a class
    params = TINY if Estimator is not SagNetClassifier else {**TINY, "max_epochs": 1}
    with pytest.warns(UserWarning, match=r"ignores the 24 rows with y == -1 .*LabelEncoder"):
        Estimator(**params).fit(X, y, domains=d)


def test_regressors_that_drop_unlabeled_rows_say_so(multi_domain):
    from skda import ERMRegressor

    X, y, d = multi_domain
    target = np.where(np.arange(len(y)) % 10 == 0, np.nan, y.astype(float))
    with pytest.warns(UserWarning, match="ERMRegressor ignores the 24 rows with y = NaN"):
        ERMRegressor(**TINY).fit(X, target, domains=d)


def test_decision_function_is_the_log_odds(moons_uda, multi_domain):
    X, y, d = moons_uda
    clf = ERMClassifier(**TINY).fit(X, y, domains=d)
    p = clf.predict_proba(X)[:, 1]
    np.testing.assert_allclose(clf.decision_function(X), np.log(p / (1 - p)), rtol=1e-4,
                               atol=1e-5)
    X3, y3, d3 = multi_domain
    clf3 = ERMClassifier(**TINY).fit(X3, y3, domains=d3)
    assert clf3.decision_function(X3).shape == (len(X3), 3)
    np.testing.assert_array_equal(clf3.classes_[clf3.decision_function(X3).argmax(1)],
                                  clf3.predict(X3))


# -- early stopping -------------------------------------------------------------------------


def test_early_stopping_holds_out_a_slice_of_every_domain_and_keeps_the_best_epoch(multi_domain):
    X, y, d = multi_domain
    clf = ERMClassifier(hidden_layer_sizes=(8,), max_epochs=200, lr=0.05, random_state=0,
                        early_stopping=True, n_iter_no_change=3).fit(X, y, domains=d)
    history = clf.net_.history
    losses = history[:, "valid_loss"]
    stopper = dict(clf.net_.callbacks_)["early_stopping"]
    assert clf.n_iter_ == len(history) < 200  # stopped early
    assert stopper.best_loss_ == min(losses) and losses[stopper.best_epoch_ - 1] == min(losses)
    # 10% of each domain's 60 rows, stratified: 6 per domain, none seen in training
    assert history[-1, "train_batch_count"] == int(np.ceil(216 / 128))
    # the kept weights are the best epoch's: their validation loss is the minimum
    net = clf.net_
    valid_loss_now = net.history[stopper.best_epoch_ - 1, "valid_loss"]
    assert valid_loss_now == pytest.approx(stopper.best_loss_)


def test_early_stopping_restores_the_weights_of_the_best_epoch(multi_domain):
    X, y, d = multi_domain
    snapshots = {}

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            snapshots[len(net.history)] = {
                k: v.clone() for k, v in net.module_.state_dict().items()}

    clf = ERMClassifier(hidden_layer_sizes=(8,), max_epochs=60, lr=0.05, random_state=0,
                        early_stopping=True, n_iter_no_change=3,
                        callbacks=[Snapshot()]).fit(X, y, domains=d)
    best = dict(clf.net_.callbacks_)["early_stopping"].best_epoch_
    assert best < clf.n_iter_  # the last epochs did not improve
    for key, value in clf.net_.module_.state_dict().items():
        torch.testing.assert_close(value, snapshots[best][key])


def test_without_early_stopping_no_row_is_held_out(moons_uda):
    X, y, d = moons_uda
    clf = ERMClassifier(**TINY).fit(X, y, domains=d)
    assert "valid_loss" not in clf.net_.history[-1]
    assert clf.n_iter_ == TINY["max_epochs"]


def test_skorch_early_stopping_works_with_the_validation_split(moons_uda):
    from skorch.callbacks import EarlyStopping

    X, y, d = moons_uda
    clf = DANNClassifier(hidden_layer_sizes=(8,), max_epochs=300, random_state=0,
                         early_stopping=True, n_iter_no_change=1000,  # ours never fires
                         callbacks=[EarlyStopping(patience=2)]).fit(X, y, domains=d)
    assert clf.n_iter_ < 300


def test_early_stopping_needs_labeled_rows_to_hold_out():
    X = np.random.RandomState(0).normal(size=(4, 2))
    y, d = np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match="early_stopping found no labeled rows to hold out"):
        ERMClassifier(**TINY, early_stopping=True).fit(X, y, domains=d)


def test_schedules_span_the_planned_length_when_early_stopping_caps_a_huge_max_epochs(
        moons_uda, monkeypatch):
    import skda.methods.base

    # "auto" of 12 steps: with one step per epoch, the schedules must be over by epoch 12
    monkeypatch.setattr(skda.methods.base, "AUTO_STEPS", 12)
    X, y, d = moons_uda
    clf = DANNClassifier(hidden_layer_sizes=(8,), max_epochs=10**9, batch_size=len(X),
                         lambda_=1.0, random_state=0, early_stopping=True,
                         n_iter_no_change=20)
    clf.fit(X, y, domains=d)
    assert clf.n_iter_ > 12
    assert clf.net_.module_.reversal_coeff == pytest.approx(clf.lambda_, rel=1e-3)
    # the learning rate reached the end of its anneal: lr / (1 + 10) ** 0.75
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(clf.lr * 11 ** -0.75)


def test_early_stopping_leaves_the_seeded_fit_without_it_unchanged(moons_uda):
    X, y, d = moons_uda
    a = ERMClassifier(**TINY).fit(X, y, domains=d)
    b = ERMClassifier(**TINY).fit(X, y, domains=d)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = ERMClassifier(**TINY, early_stopping=True).fit(X, y, domains=d)
    d2 = ERMClassifier(**TINY, early_stopping=True).fit(X, y, domains=d)
    np.testing.assert_array_equal(c.predict_proba(X), d2.predict_proba(X))


def test_hiding_labels_on_purpose_silences_the_dropped_rows_warning(moons_uda, multi_domain):
    import warnings

    from skda import UnlabeledRowsWarning, unlabeled_rows_expected
    from skda.model_selection import evaluate_transductive

    X, y, d = moons_uda
    with pytest.warns(UnlabeledRowsWarning):
        ERMClassifier(**TINY).fit(X, y, domains=d)
    X3, y3, d3 = multi_domain
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnlabeledRowsWarning)
        with unlabeled_rows_expected():
            ERMClassifier(**TINY).fit(X, y, domains=d)
        # the protocol hides the target's labels itself: nothing to warn the user about
        evaluate_transductive(ERMClassifier(**TINY), X3, y3, d3, target_domains=["site0"])


# -- domains too small for equal batch shares -------------------------------------------------


def test_a_tiny_domain_among_large_ones_is_named_in_a_warning():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(604, 2))
    y = (X[:, 0] > 0).astype(int)
    d = np.array(["big a"] * 300 + ["big b"] * 300 + ["referral"] * 4)
    # 604 rows over 3 domains: each 'referral' row is drawn 604 / (3 * 4) = 50x as often
    with pytest.warns(UserWarning, match=r"'referral' \(4 rows\).*up to 50 times"):
        ERMClassifier(**TINY).fit(X, y, domains=d)


def test_domains_of_comparable_size_fit_without_the_warning(multi_domain):
    import warnings

    X, y, d = multi_domain
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ERMClassifier(**TINY).fit(X, y, domains=d)
