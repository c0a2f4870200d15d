"""The adaptation strength chosen without target labels (StrengthSearch, ``lambda_="auto"``)."""

import pickle

import numpy as np
import pytest
from helpers import AS_GIVEN, TINY
from sklearn.base import clone

from skda import (
    DANNClassifier,
    DANNRegressor,
    DeepCORALClassifier,
    ERMClassifier,
    GroupDROClassifier,
    MCCClassifier,
    UnlabeledRowsWarning,
)
from skda.model_selection import StrengthSearch
from skda.model_selection._strength import (
    baseline_estimator,
    between_domain_label_shift,
    ensemble_agreement,
    prediction_entropy,
    select_consensus,
    select_entropy,
    select_source,
    select_strength,
    target_class_mix_shift,
)
from skda.utils import all_estimators, estimator_info

#: the registered methods whose strength defaults to "auto" (those that read unlabeled rows)
UDA_METHODS = [Method for _, Method in all_estimators("classifier")
               if estimator_info(Method).strength_default == "auto"]


def one_hot(labels, n_classes=2):
    return np.eye(n_classes)[np.asarray(labels)]


# -- the rules ----------------------------------------------------------------------------


def test_ensemble_agreement_scores_each_candidate_against_the_mean_prediction():
    target = np.stack([one_hot([0, 0, 0, 0]), one_hot([1, 1, 1, 1]), one_hot([1, 1, 0, 0]),
                       one_hot([1, 1, 1, 0])])
    # mean prediction: class 1 on rows 0-1, class 0 on row 3, a tie (class 0) on row 2
    np.testing.assert_allclose(ensemble_agreement(target), [0.5, 0.5, 1.0, 0.75])


def test_consensus_keeps_the_candidate_the_others_agree_with():
    target = np.stack([one_hot([0, 0, 1, 1]), one_hot([1, 1, 1, 1]), one_hot([1, 1, 1, 1]),
                       one_hot([1, 1, 1, 0])])
    valid_y = np.array([0, 1, 0, 1, 0, 1])
    valid = np.stack([one_hot(valid_y)] * 4)  # every candidate right on the labeled rows
    assert select_consensus(target, valid, valid_y) == 1  # ties go to the weaker strength


def test_consensus_falls_back_to_erm_when_the_pick_loses_labeled_accuracy():
    target = np.stack([one_hot([0, 0, 1, 1]), one_hot([1, 1, 1, 1]), one_hot([1, 1, 1, 1])])
    valid_y = np.array([0, 1] * 20)
    wrong = valid_y.copy()
    wrong[:6] = 1 - wrong[:6]  # the adapted candidates lose 6 of 40 labeled rows
    valid = np.stack([one_hot(valid_y), one_hot(wrong), one_hot(wrong)])
    assert select_consensus(target, valid, valid_y) == 0
    # a loss within the tolerance keeps the consensus
    assert select_consensus(target, valid, valid_y, tolerance=10.0) == 1


def test_entropy_keeps_the_most_confident_candidate_unless_it_loses_labeled_accuracy():
    target = np.stack([np.full((4, 2), 0.5), np.array([[0.9, 0.1]] * 4),
                       np.array([[0.99, 0.01]] * 4)])
    np.testing.assert_allclose(prediction_entropy(target)[0], np.log(2))
    valid_y = np.array([0, 1] * 20)
    right = np.stack([one_hot(valid_y)] * 3)
    assert select_entropy(target, right, valid_y) == 2
    wrong = valid_y.copy()
    wrong[:6] = 1 - wrong[:6]
    costly = np.stack([one_hot(valid_y), one_hot(valid_y), one_hot(wrong)])
    assert select_entropy(target, costly, valid_y) == 0  # the baseline, not candidate 1


def test_source_selection_keeps_the_most_accurate_candidate_weaker_first_on_ties():
    valid_y = np.array([0, 1, 1, 0])
    valid = np.stack([one_hot([0, 1, 0, 0]), one_hot([0, 1, 1, 0]), one_hot([0, 1, 1, 0])])
    assert select_source(valid, valid_y) == 1


def test_target_class_mix_shift_is_each_candidates_distance_from_the_baselines_mix():
    target = np.stack([np.tile([0.9, 0.1], (4, 1)),           # ERM: mix (0.9, 0.1)
                       np.tile([0.6, 0.4], (4, 1)),           # (0.6, 0.4): 0.3 away
                       one_hot([0, 0, 0, 1]) * 0.8 + 0.1])    # mean (0.7, 0.3): 0.2 away
    np.testing.assert_allclose(target_class_mix_shift(target), [0.0, 0.3, 0.2])


def test_source_rule_leaves_out_candidates_that_move_the_target_class_mix():
    valid_y = np.array([0, 1, 1, 0])
    # candidate 1 is the most accurate on the labeled rows (4 of 4) and the most confident
    # on the target, but moves the target's mix from ERM's (0.9, 0.1) to (0.5, 0.5);
    # candidate 2 (3 of 4, mix (0.95, 0.05)) is the best of those that stay near ERM (2 of 4)
    valid = np.stack([one_hot([0, 1, 0, 1]), one_hot([0, 1, 1, 0]), one_hot([0, 1, 1, 1])])
    target = np.stack([one_hot([0, 0, 0, 0]) * 0.8 + 0.1, one_hot([0, 0, 1, 1]),
                       one_hot([0, 0, 0, 0]) * 0.9 + 0.05])
    assert select_strength("source", valid, valid_y, target, mix_tolerance=None) == 1
    assert select_strength("source", valid, valid_y, target) == 2
    # the entropy rule is not checked (it reads the target's predictions itself), and
    # without target rows (domain generalization) there is no mix to check
    assert select_strength("entropy", valid, valid_y, target) == 1
    assert select_strength("source", valid, valid_y) == 1


# -- the candidates -------------------------------------------------------------------------


def test_strength_zero_is_the_erm_a_user_would_fit():
    dann = DANNClassifier(hidden_layer_sizes=(8,), lr=1e-2, lambda_=3.0, lambda_warmup=False,
                          batch_size=32, class_weight="balanced", random_state=7,
                          optimizer__weight_decay=1e-3)
    erm = baseline_estimator(dann)
    assert type(erm) is ERMClassifier
    params = erm.get_params()
    assert params["lr"] == ERMClassifier().lr  # ERM's own rate, not DANN's 1e-2
    assert params["hidden_layer_sizes"] == (8,) and params["batch_size"] == 32
    assert params["class_weight"] == "balanced" and params["random_state"] == 7
    assert params["optimizer__weight_decay"] == 1e-3
    assert "lambda_" not in params and "lambda_warmup" not in params
    # a method that trains at ERM's rate by default passes on the rate a user chose
    assert baseline_estimator(GroupDROClassifier(lr=1e-2)).lr == 1e-2
    assert baseline_estimator(DeepCORALClassifier()).lr == ERMClassifier().lr


def test_between_domain_label_shift_is_the_row_weighted_distance_from_the_pooled_mix():
    # site a: 3 of 4 rows class 1; site b: 1 of 4; pooled 1/2: each site 0.25 away
    y = [1, 1, 1, 0, 1, 0, 0, 0]
    assert between_domain_label_shift(y, ["a"] * 4 + ["b"] * 4) == pytest.approx(0.25)
    # the same distances, but site b has three times the rows: pooled shares 3/8
    y = [1, 1, 1, 0] + [1, 0, 0, 0] * 3
    expected = (4 * 0.375 + 12 * 0.125) / 16
    assert between_domain_label_shift(y, ["a"] * 4 + ["b"] * 12) == pytest.approx(expected)
    # one domain, or domains with one class mix: no shift
    assert between_domain_label_shift([0, 1, 2], ["a"] * 3) == 0.0
    assert between_domain_label_shift([0, 1, 0, 1], ["a", "a", "b", "b"]) == 0.0


# -- the search, end to end -------------------------------------------------------------------


def test_the_search_reads_its_candidates_and_keeps_the_best_on_held_out_domains(multi_domain):
    X, y, d = multi_domain
    # every domain labeled: domain generalization, training-domain validation
    search = StrengthSearch(DANNClassifier(**{**TINY, "max_epochs": 15}, lr=1e-2),
                            strengths=(0.3, 1e4), random_state=0).fit(X, y, domains=d)
    results = search.cv_results_
    assert search.setting_ == "domain generalization"
    np.testing.assert_array_equal(results["strength"], [0.0, 0.3, 1e4])  # ERM added
    assert np.all(results["fit_time"] > 0) and np.isnan(results["target_entropy"]).all()
    best = results["validation_accuracy"].argmax()
    assert results["selected"][best] and search.strength_ == results["strength"][best]
    # the reversal at 1e4 scrambles the features: never the one kept
    assert results["validation_accuracy"][2] < results["validation_accuracy"].max()
    assert search.best_estimator_.get_params().get("lambda_", 0.0) == search.strength_
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))


def test_the_search_falls_back_to_erm_when_adaptation_costs_labeled_accuracy(moons_uda):
    X, y, d = moons_uda
    # class confusion at 1e3 or more outweighs the labels: the adapted candidates are
    # confident on the target, and lose labeled accuracy
    search = StrengthSearch(
        MCCClassifier(hidden_layer_sizes=(16,), max_epochs=40, batch_size=32, lr=1e-2,
                      random_state=0, **AS_GIVEN),
        strengths=(1e3, 3e3, 1e4), target_mix_tolerance=None,  # the accuracy check alone
        random_state=0).fit(X, y, domains=d)
    results = search.cv_results_
    assert search.setting_ == "unsupervised DA"
    assert results["target_mix_shift"][0] == 0 and np.isfinite(results["target_mix_shift"]).all()
    assert results["target_entropy"].argmin() != 0  # entropy alone would adapt
    assert search.strength_ == 0.0 and type(search.best_estimator_) is ERMClassifier


def test_the_search_keeps_erm_untried_when_the_labeled_domains_differ_in_class_mix(moons_uda):
    X, y, d = moons_uda
    source = np.flatnonzero(y != -1)
    d = d.astype(object)
    d[source[y[source] == 0][:30]] = "source, class 0 only"  # 30 + 0 rows vs 20 + 50
    search = StrengthSearch(DANNClassifier(**TINY), strengths=(1.0,), random_state=0)
    search.fit(X, y, domains=d)
    assert search.label_shift_ == pytest.approx(between_domain_label_shift(y[source], d[source]))
    assert search.label_shift_ > 0.1 and search.guarded_
    np.testing.assert_array_equal(search.cv_results_["strength"], [0.0])  # nothing else trained
    assert search.strength_ == 0.0 and type(search.best_estimator_) is ERMClassifier
    # the same data with the check turned off: adaptation is tried again
    unguarded = clone(search).set_params(label_shift_tolerance=None).fit(X, y, domains=d)
    assert not unguarded.guarded_
    np.testing.assert_array_equal(unguarded.cv_results_["strength"], [0.0, 1.0])
    # one labeled domain gives no evidence of label shift: the check passes
    single = clone(search).fit(*moons_uda)
    assert single.label_shift_ == 0.0 and not single.guarded_


def test_in_domain_generalization_only_aligning_methods_check_the_class_mix(moons):
    from skda import GroupDROClassifier

    X, y, d, target = moons
    X, y, d = X[~target], y[~target], d[~target].astype(object)
    d[np.flatnonzero(y == 0)[:30]] = "site, class 0 only"  # every row labeled: DG
    dann = StrengthSearch(DANNClassifier(**TINY), strengths=(1.0,), random_state=0)
    dann.fit(X, y, domains=d)
    assert dann.setting_ == "domain generalization" and dann.guarded_
    np.testing.assert_array_equal(dann.cv_results_["strength"], [0.0])
    # GroupDRO is built for groups that differ: its strength is searched as before
    dro = StrengthSearch(GroupDROClassifier(**TINY), param="eta", strengths=(0.01,),
                         random_state=0).fit(X, y, domains=d)
    assert dro.label_shift_ > 0.1 and not dro.guarded_
    np.testing.assert_array_equal(dro.cv_results_["strength"], [0.0, 0.01])


def test_without_refit_the_kept_model_is_the_candidate(moons_uda):
    X, y, d = moons_uda
    search = StrengthSearch(DANNClassifier(**TINY), strengths=(1.0,), refit=False,
                            random_state=0).fit(X, y, domains=d)
    assert search.best_estimator_.n_iter_ == TINY["max_epochs"]
    assert search.classes_.tolist() == [0, 1]


def test_the_search_checks_what_it_is_given(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(TypeError, match="chooses among classifiers"):
        StrengthSearch(DANNRegressor(**TINY)).fit(X, y.astype(float), domains=d)
    with pytest.raises(ValueError, match="param='alpha' is not a parameter of DANNClassifier"):
        StrengthSearch(DANNClassifier(**TINY), param="alpha").fit(X, y, domains=d)
    with pytest.raises(ValueError, match="strengths must be a non-empty sequence of finite"):
        StrengthSearch(DANNClassifier(**TINY), strengths=(-1.0,)).fit(X, y, domains=d)
    with pytest.raises(ValueError, match="label_shift_tolerance must be"):
        StrengthSearch(DANNClassifier(**TINY), label_shift_tolerance=-0.1).fit(X, y, domains=d)


# -- lambda_="auto" -----------------------------------------------------------------------------


@pytest.mark.parametrize("Method", UDA_METHODS)
def test_auto_strength_is_the_default_and_fits_the_kept_strength(Method, moons_uda):
    X, y, d = moons_uda
    clf = Method(**TINY).fit(X, y, domains=d)
    # the default, and the parameter is never overwritten by the strength kept
    assert clf.get_params()[estimator_info(Method).strength_param] == "auto"
    assert clf.strength_ in clf.strength_search_["strength"]
    assert clf.strength_search_["selected"].sum() == 1
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.transform(X).shape[0] == len(X)
    refitted = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(refitted.predict(X), clf.predict(X))
    again = clone(clf).fit(X, y, domains=d)  # seeded: the same search, the same model
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_mcc_auto_keeps_the_strength_most_accurate_on_held_out_labeled_rows(
        moons_uda, monkeypatch):
    X, y, d = moons_uda
    rules = []
    fit = StrengthSearch.fit
    monkeypatch.setattr(StrengthSearch, "fit",
                        lambda self, *a, **k: rules.append(self.selection) or fit(self, *a, **k))
    clf = MCCClassifier(**TINY, lambda_="auto").fit(X, y, domains=d)
    DANNClassifier(**TINY, lambda_="auto").fit(X, y, domains=d)
    assert rules == ["source", "entropy"]
    results = clf.strength_search_
    best = np.flatnonzero(results["validation_accuracy"]
                          == np.nanmax(results["validation_accuracy"]))[0]
    assert results["selected"][best] and clf.strength_ == results["strength"][best]


def test_auto_strength_validates_inputs_as_a_fixed_strength_does(moons_uda):
    import warnings

    import pandas as pd

    X, y, d = moons_uda
    with pytest.raises(ValueError, match="Unknown label type"):
        DANNClassifier(**TINY, lambda_="auto").fit(X, y + 0.5, domains=d)
    frame = pd.DataFrame(X, columns=["a", "b"])
    clf = DANNClassifier(**TINY, lambda_="auto").fit(frame, y, domains=d)
    assert clf.feature_names_in_.tolist() == ["a", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        clf.predict(frame)
    as_list = DANNClassifier(**TINY, lambda_="auto").fit(X.tolist(), y.tolist(), domains=d)
    np.testing.assert_array_equal(as_list.predict(X), clf.predict(frame))


#: the registered methods whose strength defaults to a number (they learn from labeled rows
#: only), and the parameter "auto" searches
DG_METHODS = {Method: info.strength_param for _, Method in all_estimators("classifier")
              if (info := estimator_info(Method)).strength_param
              and info.strength_default != "auto"}


@pytest.mark.parametrize("Method", DG_METHODS, ids=lambda m: m.__name__)
def test_domain_generalization_methods_search_their_own_grid_by_held_out_accuracy(
        Method, multi_domain, monkeypatch):
    X, y, d = multi_domain
    param = DG_METHODS[Method]
    rules = []
    fit = StrengthSearch.fit
    monkeypatch.setattr(StrengthSearch, "fit",
                        lambda self, *a, **k: rules.append(self.selection) or fit(self, *a, **k))
    clf = Method(**TINY, **{param: "auto"}).fit(X, y, domains=d)
    assert rules == ["source"] and clf.get_params()[param] == "auto"
    results = clf.strength_search_
    np.testing.assert_array_equal(results["strength"], (0.0, *Method._strength_grid))
    assert np.isfinite(results["validation_accuracy"]).all()
    assert np.isnan(results["target_entropy"]).all()  # no unlabeled rows: nothing to read
    best = int(np.argmax(results["validation_accuracy"]))  # ties: the weaker strength
    assert results["selected"][best] and clf.strength_ == results["strength"][best]
    assert Method().get_params()[param] != "auto"  # not the default: no study says so yet


def test_a_method_that_drops_unlabeled_rows_says_so_once_and_searches_every_row(multi_domain):
    X, y, d = multi_domain
    y = np.where(d == d[0], -1, y)
    with pytest.warns(UnlabeledRowsWarning) as caught:
        clf = GroupDROClassifier(**TINY, eta="auto").fit(X, y, domains=d)
    assert sum(issubclass(w.category, UnlabeledRowsWarning) for w in caught) == 1
    assert clf.strength_search_["strength"].tolist() == [0.0, 0.001, 0.01, 0.1]
    assert clf.predict(X).shape == (len(X),)


def test_auto_strength_is_refused_where_no_search_applies(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="lambda_ must be"):
        DANNRegressor(**TINY, lambda_="auto").fit(X, y.astype(float), domains=d)
    with pytest.raises(ValueError, match="lambda_ must be"):
        DANNClassifier(**TINY, lambda_="strong").fit(X, y, domains=d)


def test_a_diverging_candidate_is_left_out_not_fatal(moons_uda):
    from skorch.callbacks import Callback

    from skda.engine import DivergenceError, algorithm_of

    class DivergesAboveTen(Callback):
        """What NonFiniteLossGuard raises, for the candidates of strength above 10."""

        def on_epoch_end(self, net, **kwargs):
            if getattr(algorithm_of(net), "reversal_coeff", 0.0) > 10:
                raise DivergenceError("The training loss became nan; training diverged.")

    X, y, d = moons_uda
    search = StrengthSearch(
        DANNClassifier(**TINY, lambda_warmup=False, callbacks=[DivergesAboveTen()]),
        strengths=(1.0, 100.0), random_state=0).fit(X, y, domains=d)
    results = search.cv_results_
    assert results["error"][2] is not None and "diverged" in results["error"][2]
    assert np.isnan(results["validation_accuracy"][2]) and not results["selected"][2]
    assert results["error"][0] is None and search.strength_ in (0.0, 1.0)


def test_auto_strength_with_latent_domains_lets_the_candidates_infer_them(moons_uda):
    # the default strength must not break latent_domains: domains=None reaches the candidates
    X, y, _ = moons_uda
    clf = DeepCORALClassifier(**TINY, latent_domains=2).fit(
        X[y != -1], y[y != -1])
    assert clf.lambda_ == "auto" and clf.strength_ in (0.0, 0.1, 0.3, 1.0, 3.0)
    if clf.strength_ > 0:
        assert set(clf.latent_domain_labels_) <= {0, 1}
        assert len(clf.latent_domain_labels_) == (y != -1).sum()
    else:
        assert not hasattr(clf, "latent_domain_labels_")


def test_auto_strength_forgets_an_earlier_search(moons_uda):
    X, y, d = moons_uda
    clf = DANNClassifier(**TINY, lambda_="auto").fit(X, y, domains=d)
    assert hasattr(clf, "strength_")
    clf.set_params(lambda_=1.0).fit(X, y, domains=d)
    assert not hasattr(clf, "strength_") and not hasattr(clf, "strength_search_")
