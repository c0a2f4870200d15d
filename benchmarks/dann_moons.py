"""ERM vs DANN target accuracy on the DANN paper's rotated moons, saved to results/.

``python benchmarks/dann_moons.py [--seeds 5]``: the demo's experiment
(150 source rows labeled, 150 target rows rotated by 35 degrees and
unlabeled; MLP 2-15-2, Adam lr 1e-2, batch 64, 300 epochs, lambda_ = 1),
with the table written to ``benchmarks/results/dann_moons.md``.
"""

import argparse
import os
import platform
import time

import torch

from skda.demo import format_table, run

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    scores = run(seeds=args.seeds)
    text = (
        "# ERM vs DANN on rotated moons (unsupervised DA, target unlabeled)\n\n"
        f"Seeds 0..{args.seeds - 1}; accuracy mean ± sd (population sd over seeds). "
        "Protocol: `python benchmarks/dann_moons.py`, see its docstring.\n"
        f"Machine: {os.cpu_count()} CPU cores, torch {torch.__version__}, "
        f"python {platform.python_version()}; {time.perf_counter() - start:.1f} s.\n\n"
        + format_table(scores) + "\n"
    )
    print(text)
    with open(os.path.join(HERE, "results", "dann_moons.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
