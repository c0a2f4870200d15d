"""What the accuracy benchmarks share: the machine stamp and mean ± sd tables."""

import os
import platform

import numpy as np


def machine_stamp(device="cpu"):
    """One line naming the machine and the versions that produced a result."""
    import sklearn
    import skorch
    import torch

    gpu = f", GPU {torch.cuda.get_device_name()}" if str(device).startswith("cuda") else ""
    return (f"Machine: {os.cpu_count()} CPU cores{gpu}, device {device}; python "
            f"{platform.python_version()}, torch {torch.__version__}, skorch "
            f"{skorch.__version__}, scikit-learn {sklearn.__version__}.")


def mean_sd(values):
    """``mean ± sd`` (population sd) of a list of accuracies, 3 decimals."""
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} ± {values.std():.3f}"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_arguments(description, seeds, epochs):
    """The command line every accuracy benchmark takes."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def run_and_save(name, run, report, args):
    """Run a benchmark, print its report, save it as ``results/<name>.md`` and ``.json``."""
    import json
    import time

    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    records = run(args.seeds, args.epochs, args.device)
    text = report(records, args.seeds, args.epochs, args.device, time.perf_counter() - start)
    print(text)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", name)
    with open(out + ".md", "w") as f:
        f.write(text)
    with open(out + ".json", "w") as f:
        json.dump({"seeds": args.seeds, "epochs": args.epochs, "device": args.device,
                   "records": records}, f, indent=1)
