"""Grid search and cross-validation on a real dask.distributed cluster (2 worker processes)."""

import os

import numpy as np
import pytest
import torch
from helpers import TINY
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate

from skda import DANNClassifier, ERMClassifier

distributed = pytest.importorskip("distributed")

N_WORKERS = 2


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=N_WORKERS, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture
def one_torch_thread():
    """Run the local reference with the workers' thread count: same float rounding."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def comparable(cv_results):
    """cv_results_ without its timings, which differ from run to run."""
    return {k: v for k, v in cv_results.items() if "time" not in k}


def assert_same_results(a, b):
    a, b = comparable(a), comparable(b)
    assert a.keys() == b.keys()
    for key in a:
        if key == "params":
            assert a[key] == b[key]
        else:
            np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def test_grid_search_on_dask_equals_local(client, one_torch_thread, multi_domain):
    X, y, d = multi_domain
    y = np.where(d == "site3", -1, y)  # unsupervised DA: one unlabeled site

    def search():
        return GridSearchCV(DANNClassifier(**TINY, device="auto"),
                            {"lambda_": [0.0, 0.5, 1.0], "lr": [1e-3, 1e-2]},
                            cv=LeaveOneGroupOut(), error_score="raise")

    local = search().fit(X, y, groups=d, domains=d)
    with parallel_backend("dask"):
        remote = search().fit(X, y, groups=d, domains=d)
    assert_same_results(local.cv_results_, remote.cv_results_)
    # the refitted best model came back from a worker and predicts as the local one
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def test_cross_validate_on_dask_equals_local(client, one_torch_thread, multi_domain):
    X, y, d = multi_domain
    kwargs = dict(groups=d, cv=LeaveOneGroupOut(), params={"domains": d},
                  return_estimator=True, error_score="raise")
    local = cross_validate(ERMClassifier(**TINY), X, y, **kwargs)
    with parallel_backend("dask"):
        remote = cross_validate(ERMClassifier(**TINY), X, y, **kwargs)
    np.testing.assert_array_equal(local["test_score"], remote["test_score"])
    for a, b in zip(local["estimator"], remote["estimator"], strict=True):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_workers_bound_torch_threads(client):
    threads = client.run(torch.get_num_threads)
    assert len(threads) == N_WORKERS
    budget = max(1, (os.cpu_count() or 1) // N_WORKERS)
    assert all(n <= budget for n in threads.values()), threads


def test_device_auto_resolves_on_the_worker(client, multi_domain):
    X, y, d = multi_domain

    def fit_on_worker():
        clf = ERMClassifier(**TINY, device="auto").fit(X, y, domains=d)
        return clf, torch.cuda.is_available()

    clf, worker_has_cuda = client.submit(fit_on_worker).result()
    expected = "cuda" if worker_has_cuda else "cpu"
    assert torch.device(clf.net_.device).type == expected
    assert clf.predict(X).shape == (len(X),)
