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
