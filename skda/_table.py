"""The per-domain tables that evaluation functions return."""

import numpy as np


def make_table(columns, as_frame):
    """``columns`` (name -> list) as a dict of arrays, or a pandas DataFrame."""
    if not isinstance(as_frame, bool):
        raise TypeError(f"as_frame must be True or False, got {as_frame!r}.")
    table = {name: np.asarray(values) for name, values in columns.items()}
    if not as_frame:
        return table
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is in the test extra
        raise ImportError("as_frame=True needs pandas: pip install pandas") from exc
    return pd.DataFrame(table)
