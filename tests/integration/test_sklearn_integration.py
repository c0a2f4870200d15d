"""skda estimators inside scikit-learn's tools: pipelines, searches, CV, persistence."""

import pickle

import joblib
import numpy as np
import pytest
import sklearn
from helpers import CLASSIFIERS, TINY
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier, ERMClassifier
from skda.utils import all_estimators, estimator_info


def test_get_set_params_and_clone_keep_keyword_params():
    clf = DANNClassifier(lambda_=0.3, module__width=4, optimizer__weight_decay=1e-4)
    params = clf.get_params()
    assert params["lambda_"] == 0.3 and params["module__width"] == 4
    copy = clone(clf)
    assert copy.get_params() == params
    copy.set_params(module__width=9, lambda_=2.0)
    assert copy.module__width == 9 and copy.lambda_ == 2.0
    assert clf.module__width == 4


def test_pipeline_without_routing(multi_domain):
    X, y, d = multi_domain
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**TINY))
    pipe.fit(X, y, dannclassifier__domains=d)
    assert list(pipe[-1].domains_) == ["site0", "site1", "site2", "site3"]
    assert pipe.score(X, y) >= 0


def test_grid_search_lambda_with_leave_one_domain_out(multi_domain):
    X, y, d = multi_domain
    search = GridSearchCV(DANNClassifier(**TINY), {"lambda_": [0.0, 1.0]},
                          cv=LeaveOneGroupOut(), error_score="raise")
    search.fit(X, y, groups=d, domains=d)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    assert len(search.cv_results_["split3_test_score"]) == 2
    assert search.best_params_["lambda_"] in (0.0, 1.0)


#: settings the searched fits need besides :data:`TINY`: IRM's and V-REx's penalty must
#: take over within the tiny fits' few steps
SEARCH_PARAMS = {"IRMClassifier": dict(penalty_anneal_iters=2),
                 "VRExClassifier": dict(penalty_anneal_iters=2)}
#: grids over a method's other parameters as well: a strength searched beside another
#: parameter, or a parameter the strength grid would not reach
GRIDS = {"CCSAClassifier": {"alpha": [0.0, 0.5], "margin": [1.0]},
         "GroupDROClassifier": {"eta": [0.0, 0.01], "group_by": ["domain_class"]},
         "CAADAClassifier": {"coral_weight": [0.0, 1.0]},
         "DDAIGClassifier": {"alpha": [0.0, 0.5]},
         "L2AOTClassifier": {"alpha": [0.0, 0.5]}}


def strength_grids():
    """``(estimator, grid)`` for every registered classifier but ERM (tested above).

    The grid is the method's entry in :data:`GRIDS`, else 0 and the first strength
    ``"auto"`` would try; a method with neither searches its learning rate.
    """
    cases = []
    for name, Estimator in all_estimators("classifier"):
        if Estimator is ERMClassifier:
            continue
        info = estimator_info(Estimator)
        grid = GRIDS.get(name) or (
            {info.strength_param: [0.0, info.strength_grid[0]]} if info.strength_param
            else {"lr": [1e-3, 1e-2]})
        cases.append(pytest.param(Estimator(**TINY, **SEARCH_PARAMS.get(name, {})), grid,
                                  id=name))
    return cases


@pytest.mark.parametrize("estimator, grid", strength_grids())
def test_grid_search_strength_of_the_other_methods(estimator, grid, multi_domain):
    X, y, d = multi_domain
    search = GridSearchCV(estimator, grid, cv=LeaveOneGroupOut(), error_score="raise")
    search.fit(X, y, groups=d, domains=d)
    assert search.cv_results_["mean_test_score"].shape == (2,)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_grid_search_on_images(digit_images):
    X, y, d = digit_images
    search = GridSearchCV(ERMClassifier(max_epochs=1, random_state=0, device="cpu"),
                          {"lr": [1e-3, 1e-2]}, cv=LeaveOneGroupOut(), error_score="raise")
    search.fit(X, y, groups=d, domains=d)
    assert search.best_estimator_.input_shape_ == (1, 8, 8)


def test_cross_validate_leave_one_domain_out(multi_domain):
    X, y, d = multi_domain
    result = cross_validate(ERMClassifier(**TINY), X, y, groups=d, cv=LeaveOneGroupOut(),
                            params={"domains": d}, error_score="raise")
    assert len(result["test_score"]) == 4


def test_metadata_routing(multi_domain):
    X, y, d = multi_domain
    seen = []

    class Recording(DANNClassifier):
        def fit(self, X, y, domains=None):
            seen.append(np.unique(domains))
            return super().fit(X, y, domains=domains)

    with sklearn.config_context(enable_metadata_routing=True):
        clf = Recording(**TINY, lambda_=1.0).set_fit_request(domains=True)
        pipe = make_pipeline(StandardScaler(), clf)
        search = GridSearchCV(pipe, {"recording__lambda_": [0.0, 1.0]},
                              cv=LeaveOneGroupOut(), error_score="raise")
        search.fit(X, y, groups=d, domains=d)
        cross_validate(pipe, X, y, cv=LeaveOneGroupOut(), params={"groups": d, "domains": d},
                       error_score="raise")
    # every fit got the routed domains of its training fold: three of the four sites
    held_out_fits = [s for s in seen if len(s) == 3]
    assert len(held_out_fits) == 2 * 4 + 4
    assert not sklearn.get_config()["enable_metadata_routing"]


def test_skda_never_changes_global_sklearn_config(multi_domain):
    before = sklearn.get_config()
    X, y, d = multi_domain
    DANNClassifier(**TINY).fit(X, y, domains=d).predict(X)
    assert sklearn.get_config() == before


@pytest.mark.parametrize("dump, load", [
    (pickle.dumps, pickle.loads),
    (lambda est: joblib.dump(est, "model.joblib"), lambda _: joblib.load("model.joblib")),
])
@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_persistence_round_trip(Estimator, dump, load, moons, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y, d, _ = moons
    clf = Estimator(**TINY).fit(X, y, domains=d)
    restored = load(dump(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.transform(X), clf.transform(X))
    assert list(restored.classes_) == list(clf.classes_)
