"""Scale on the diabetes data's width: seconds per epoch and peak memory at 100k and 1M rows.

``python benchmarks/tabular_scale.py [--sizes 100000,1000000]`` (set ``SKDA_DATA``).
Output: ``results/tabular_scale.md``.

Each size runs in a fresh process (so that its peak resident memory is its own): the
diabetes encounters (200 encoded columns) replicated to the size, then one epoch of
``ERMClassifier()`` with its defaults (``max_epochs=1``, ``input_scaling="standard"``,
torch pinned to 1 thread) but the weight decay given (one fit: the cost of an epoch), then
the same with the default weight decay ``"auto"`` (four ERM fits first), and, for
reference, ``LGBMClassifier()`` with its defaults on the same rows (1 thread) when lightgbm
is installed. The data's own size is that of the float32
array; peak memory is the process's maximum resident set, Python and torch included (the
loaded table the rows are replicated from is freed before the fits).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
from _common import RESULTS, machine_stamp, markdown_table


def peak_mib():
    """The process's maximum resident set so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size):
    """One size, in this process: ``dict`` of the figures."""
    import torch

    from skda import ERMClassifier
    from skda.datasets import fetch_diabetes_readmission

    torch.set_num_threads(1)
    bunch = fetch_diabetes_readmission(download_if_missing=False)
    rows = np.resize(np.arange(len(bunch.target)), size)  # replicated, in order
    X = np.asarray(bunch.data, dtype=np.float32)[rows]
    y, domains = np.asarray(bunch.target)[rows], np.asarray(bunch.domains)[rows]
    del bunch  # the loaded table, not the data trained on: its memory is not the fit's
    figures = dict(rows=size, columns=X.shape[1], data_mib=X.nbytes / 2**20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        start = time.perf_counter()
        ERMClassifier(max_epochs=1, random_state=0, optimizer__weight_decay=3e-3).fit(
            X, y, domains=domains)
        figures["erm_epoch_s"] = time.perf_counter() - start
        figures["peak_mib"] = peak_mib()
        start = time.perf_counter()
        ERMClassifier(max_epochs=1, random_state=0).fit(X, y, domains=domains)
        figures["auto_s"] = time.perf_counter() - start
    figures["auto_peak_mib"] = peak_mib()
    try:
        from lightgbm import LGBMClassifier
    except ImportError:
        figures["lightgbm_s"] = None
    else:
        start = time.perf_counter()
        LGBMClassifier(n_jobs=1, verbose=-1, random_state=0).fit(X, y)
        figures["lightgbm_s"] = time.perf_counter() - start
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process's size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], check=True,
                             capture_output=True, text=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    first = results[0]
    rows = [[f"{r['rows']:,}", f"{r['data_mib']:.0f}", f"{r['erm_epoch_s']:.1f}",
             f"{1e6 * r['erm_epoch_s'] / r['rows']:.1f}",
             f"{(r['erm_epoch_s'] / r['rows']) / (first['erm_epoch_s'] / first['rows']):.2f}",
             f"{r['peak_mib']:.0f}", f"{r['peak_mib'] / r['data_mib']:.1f}",
             f"{r['auto_s']:.1f}", f"{r['auto_peak_mib'] / r['data_mib']:.1f}",
             "" if r["lightgbm_s"] is None else f"{r['lightgbm_s']:.1f}"] for r in results]
    lines = ["# Tabular scale: the diabetes data's width at 100k and 1M rows", "",
             "Written by `benchmarks/tabular_scale.py` (its docstring is the protocol). One "
             "epoch of `ERMClassifier()` with its defaults but the weight decay given "
             "(`optimizer__weight_decay=3e-3`: one fit), torch on 1 thread; then the same "
             "with the default `\"auto\"` weight decay (four ERM fits of one epoch on four "
             "fifths of the rows, then the fit). Peak memory is the process's maximum resident "
             "set (Python and torch included).", "",
             machine_stamp(), "",
             markdown_table(["rows", "data (MiB)", "ERM epoch (s)", "µs per row",
                             f"cost per row vs {first['rows']:,}", "peak memory (MiB)",
                             "peak / data", "with weight decay \"auto\" (s)",
                             "its peak / data", "LightGBM fit (s)"], rows), ""]
    with open(os.path.join(RESULTS, "tabular_scale.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
