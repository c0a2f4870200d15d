"""Wall time of a 24-fit GridSearchCV: one process, joblib processes, a Dask LocalCluster.

``python benchmarks/grid_search_scaling.py [--out results/]``

DANN on four rotation domains of ``make_shifted_digits`` (0, 15, 30, 45
degrees; 1,198 images), ``lambda_`` in 6 values x 4 leave-one-domain-out
folds = 24 fits (plus the refit), default ConvNet, 10 epochs each. Runs:

* ``n_jobs=1``, torch on all cores (the plain default), and on 1 thread;
* ``n_jobs=2`` (joblib's loky processes, which start with 1 torch thread
  each on 2 cores);
* ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of 2 worker
  processes with 1 thread each, with Dask's default worker environment and
  with ``MALLOC_MMAP_THRESHOLD_`` set (see the comment in ``main``); cluster
  start-up is timed separately.

Every run's ``cv_results_`` (timings aside) is compared with the 1-thread
serial run, whose floating-point arithmetic the workers share. Output:
``<out>/grid_search_scaling.md`` (``--out``, default ``results/``).
"""

import argparse
import os
import time

import numpy as np
import torch
from _common import RESULTS, machine_stamp, markdown_table
from joblib import parallel_backend
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

from skda import DANNClassifier
from skda.datasets import make_shifted_digits


def search(n_jobs=None):
    return GridSearchCV(
        DANNClassifier(max_epochs=10, random_state=0, device="cpu"),
        {"lambda_": [0.0, 0.1, 0.3, 0.5, 1.0, 2.0]}, cv=LeaveOneGroupOut(), n_jobs=n_jobs,
        error_score="raise")


def same_results(a, b):
    keys = [k for k in a if "time" not in k]
    return all(a[k] == b[k] if k == "params" else np.array_equal(a[k], b[k]) for k in keys)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=RESULTS,
                        help="folder of the output file (default: results/)")
    args = parser.parse_args()
    import dask
    from distributed import Client, LocalCluster

    X, y, d = make_shifted_digits("rotation", domains=[0, 15, 30, 45], random_state=0)
    runs = {}

    def timed(name, fit):
        start = time.perf_counter()
        runs[name] = (fit().cv_results_, time.perf_counter() - start)
        print(f"{name}: {runs[name][1]:.1f} s", flush=True)

    all_cores = torch.get_num_threads()
    timed(f"n_jobs=1, {all_cores} torch threads", lambda: search().fit(X, y, groups=d, domains=d))
    torch.set_num_threads(1)
    timed("n_jobs=1, 1 torch thread", lambda: search().fit(X, y, groups=d, domains=d))
    torch.set_num_threads(all_cores)
    timed("n_jobs=2 (loky processes)", lambda: search(2).fit(X, y, groups=d, domains=d))
    def on_dask():
        with parallel_backend("dask"):
            return search().fit(X, y, groups=d, domains=d)

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off
    # glibc's adaptive mmap threshold: every large tensor is then a fresh
    # mmap. A fixed 32 MiB mmap threshold gives torch its usual speed back.
    for label, config in [("defaults", {}), ("MALLOC_MMAP_THRESHOLD_=32 MiB", {
            "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 2**25})]:
        start = time.perf_counter()
        with dask.config.set(config), LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True,
                dashboard_address=None) as cluster, Client(cluster) as client:
            startup = time.perf_counter() - start
            threads = sorted(client.run(torch.get_num_threads).values())
            timed(f"Dask LocalCluster, 2 workers x 1 thread, {label}", on_dask)
    reference = runs["n_jobs=1, 1 torch thread"][0]
    best = sorted({str(res["params"][int(np.argmin(res["rank_test_score"]))])
                   for res, _ in runs.values()})
    rows = [[name, f"{seconds:.1f}", "yes" if same_results(res, reference) else "**no**"]
            for name, (res, seconds) in runs.items()]
    text = "\n".join([
        "# GridSearchCV of 24 fits: one process, joblib processes, Dask",
        "",
        "`python benchmarks/grid_search_scaling.py`; protocol in its docstring.",
        "",
        machine_stamp("cpu"),
        "",
        markdown_table(["run", "wall time (s)", "cv_results_ equal to the 1-thread run"], rows),
        "",
        f"LocalCluster start-up (not in the time above): {startup:.1f} s; torch threads per "
        f"Dask worker: {threads}. Best parameters over the runs: {best}.",
    ]) + "\n"
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "grid_search_scaling.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
