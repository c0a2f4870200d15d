"""Splitters: LeaveOneDomainOut and TrainingDomainValidation."""

import numpy as np
import pytest
import sklearn
from helpers import TINY
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from skda import DANNClassifier, ERMRegressor
from skda.model_selection import (
    LeaveOneDomainOut,
    TrainingDomainValidation,
)

# -- splitters ------------------------------------------------------------------------------


def test_leave_one_domain_out_matches_leave_one_group_out(multi_domain):
    X, y, d = multi_domain
    ours = list(LeaveOneDomainOut().split(X, y, groups=d))
    theirs = list(LeaveOneGroupOut().split(X, y, groups=d))
    assert len(ours) == 4 == LeaveOneDomainOut().get_n_splits(groups=d)
    for (train, test), (train2, test2) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(test, test2)
        assert len(np.unique(d[test])) == 1 and d[test][0] not in d[train]


def test_domains_argument_wins_over_groups(multi_domain):
    X, y, d = multi_domain
    other = np.where(d == "site0", "a", "b")
    splits = list(LeaveOneDomainOut().split(X, y, groups=other, domains=d))
    assert len(splits) == 4


@pytest.mark.parametrize("cv", [LeaveOneDomainOut(), TrainingDomainValidation()])
def test_splitters_need_domains(cv, multi_domain):
    X, y, _ = multi_domain
    with pytest.raises(ValueError, match="groups=domains"):
        next(cv.split(X, y))
    with pytest.raises(ValueError, match="one domain label per row"):
        next(cv.split(X, y, groups=np.zeros(3)))


def test_leave_one_domain_out_needs_two_domains():
    with pytest.raises(ValueError, match="at least 2 domains"):
        next(LeaveOneDomainOut().split(np.zeros((4, 1)), groups=np.zeros(4)))


def test_training_domain_validation_slices_every_domain_and_class(multi_domain):
    X, y, d = multi_domain
    y = y.copy()
    y[d == "site3"] = -1  # an unlabeled target domain is sliced too
    cv = TrainingDomainValidation(n_splits=3, test_size=0.25, random_state=0)
    splits = list(cv.split(X, y, groups=d))
    assert len(splits) == 3 == cv.get_n_splits()
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).size == len(y)
        for site in np.unique(d):
            for label in np.unique(y[d == site]):
                cell = np.flatnonzero((d == site) & (y == label))
                expected = int(np.floor(0.25 * cell.size + 0.5))
                assert np.isin(cell, test).sum() == expected
    assert not np.array_equal(splits[0][1], splits[1][1])  # independent draws
    again = list(TrainingDomainValidation(n_splits=3, test_size=0.25, random_state=0)
                 .split(X, y, domains=d))
    for (_, test), (_, test2) in zip(splits, again, strict=True):
        np.testing.assert_array_equal(test, test2)


def test_training_domain_validation_keeps_single_row_cells_in_training():
    y = np.array([0, 0, 0, 0, 1])
    train, test = next(TrainingDomainValidation(test_size=0.5, random_state=0)
                       .split(np.zeros((5, 1)), y, groups=np.zeros(5)))
    assert 4 in train and len(test) == 2


@pytest.mark.parametrize("params, match", [
    ({"test_size": 0.0}, "test_size"), ({"test_size": 1.5}, "test_size"),
    ({"n_splits": 0}, "n_splits")])
def test_training_domain_validation_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        next(TrainingDomainValidation(**params).split(np.zeros((4, 1)), groups=np.zeros(4)))


def test_splitters_work_as_cv_with_groups(multi_domain):
    X, y, d = multi_domain
    result = cross_validate(LogisticRegression(), X, y, groups=d, cv=LeaveOneDomainOut())
    assert len(result["test_score"]) == 4
    result = cross_validate(LogisticRegression(), X, y, groups=d,
                            cv=TrainingDomainValidation(n_splits=2, random_state=0))
    assert len(result["test_score"]) == 2


def test_splitters_receive_routed_domains(multi_domain):
    X, y, d = multi_domain
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(LogisticRegression(), X, y, cv=LeaveOneDomainOut(),
                                params={"domains": d})
        assert len(result["test_score"]) == 4
        # domains routed both to the splitter and to the estimator's fit
        model = DANNClassifier(**TINY).set_fit_request(domains=True)
        search = GridSearchCV(model, {"lambda_": [0.0, 1.0]}, cv=LeaveOneDomainOut())
        search.fit(X, y, domains=d)
        assert len(search.cv_results_["split3_test_score"]) == 2
        assert list(search.best_estimator_.domains_) == list(np.unique(d))


def test_leave_one_domain_out_is_scikit_learns_leave_one_group_out():
    assert isinstance(LeaveOneDomainOut(), LeaveOneGroupOut)
    request = LeaveOneDomainOut()._get_metadata_request()
    assert set(request.split.requests) == {"groups", "domains"}


# -- continuous targets ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["float", "many integers"])
def test_training_domain_validation_slices_each_domain_of_a_continuous_target(kind):
    rng = np.random.RandomState(0)
    d = np.repeat(["a", "b"], 50)
    y = rng.normal(size=100) if kind == "float" else rng.permutation(1000)[:100]
    y = y.astype(float)
    y[(d == "b") & (np.arange(100) % 2 == 0)] = np.nan  # half of domain b unlabeled
    cv = TrainingDomainValidation(test_size=0.2, random_state=0)
    train, test = next(cv.split(np.zeros((100, 1)), y, groups=d))
    assert np.union1d(train, test).size == 100 and np.intersect1d(train, test).size == 0
    # every (domain, labeled or not) cell gives 20% of its rows, as the -1 rows do for a classifier
    for cell in (d == "a", (d == "b") & np.isnan(y), (d == "b") & ~np.isnan(y)):
        assert np.isin(np.flatnonzero(cell), test).sum() == round(0.2 * cell.sum())


def test_training_domain_validation_still_stratifies_integer_classes():
    # a few integer-valued float classes are labels, not a continuous target
    y = np.tile([0.0, 1.0, 2.0, 2.0], 10)
    d = np.repeat(["a", "b"], 20)
    _, test = next(TrainingDomainValidation(test_size=0.2, random_state=0)
                   .split(np.zeros((40, 1)), y, groups=d))
    for site in ("a", "b"):
        assert [np.sum((d[test] == site) & (y[test] == c)) for c in (0, 1, 2)] == [1, 1, 2]


def test_grid_search_of_a_regressor_holds_out_rows_and_scores_them():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    d = np.repeat(["a", "b"], 40)
    y = 5.0 + X[:, 0] + 0.1 * rng.normal(size=80)
    cv = TrainingDomainValidation(n_splits=2, random_state=0)
    search = GridSearchCV(ERMRegressor(max_epochs=2, hidden_layer_sizes=(8,), random_state=0),
                          {"lr": [1e-3, 1e-2]}, cv=cv, error_score="raise")
    search.fit(X, y, groups=d, domains=d)
    for _, test in cv.split(X, y, groups=d):
        assert len(test) == 16 and sorted(np.unique(d[test])) == ["a", "b"]
    for split in range(2):
        assert np.all(np.isfinite(search.cv_results_[f"split{split}_test_score"]))
