"""Checks and encodings of the fit inputs that all skda estimators share."""

import numbers

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets

UNLABELED = -1


def unlabeled_mask(y):
    """Rows of ``y`` equal to the unlabeled marker ``-1`` (never so in string arrays)."""
    y = np.asarray(y)
    if y.dtype.kind in "US":
        return np.zeros(len(y), dtype=bool)
    return np.asarray(y == UNLABELED, dtype=bool)


def encode_labels(y):
    """Split ``y`` into labeled and unlabeled rows and encode the labels.

    Follows ``sklearn.semi_supervised``: an entry equal to ``-1`` marks an
    unlabeled row and never becomes a class. String arrays cannot hold the
    marker; object arrays can mix labels with ``-1``.

    Returns
    -------
    classes : ndarray
        Sorted class labels found among labeled rows.
    codes : ndarray of int64
        Class index per row, ``-1`` for unlabeled rows.
    """
    labeled = ~unlabeled_mask(y)
    if not labeled.any():
        raise ValueError(
            "y has no labeled rows: every entry is -1, the marker of an unlabeled "
            "row. At least the source domain(s) must be labeled."
        )
    check_classification_targets(y[labeled])
    try:
        classes, inverse = np.unique(y[labeled], return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"y mixes label types that cannot be sorted: {exc}") from None
    if len(classes) < 2:
        raise ValueError(
            f"y has 1 class ({classes[0]!r}) among its labeled rows; a classifier "
            "needs at least 2 classes."
        )
    codes = np.full(len(y), UNLABELED, dtype=np.int64)
    codes[labeled] = inverse
    return classes, codes


def encode_domains(domains, n_samples):
    """Check ``domains`` (one entry per row, or None) and encode it.

    Returns
    -------
    names : ndarray
        Distinct domain labels in the order of their first row (``[0]`` when
        ``domains`` is None).
    codes : ndarray of int64
        Domain index per row, into ``names``.

    Notes
    -----
    Codes follow the rows, not the sorted labels, so that renaming the
    domains (``"target"`` to ``"a_target"``, say) changes neither the
    sampler's random stream nor which discriminator output serves which
    domain: the same seed gives the same model whatever the domains are
    called.
    """
    if domains is None:
        return np.array([0]), np.zeros(n_samples, dtype=np.int64)
    if isinstance(domains, (str, bytes)) or not hasattr(domains, "__len__"):
        raise TypeError(
            "domains must be array-like with one domain label per row of X, "
            f"got {type(domains).__name__}."
        )
    values = np.asarray(domains)
    if values.ndim != 1:
        raise ValueError(
            f"domains must be 1-D with one label per row of X, got shape {values.shape}."
        )
    if len(values) != n_samples:
        raise ValueError(
            f"domains has {len(values)} entries but X has {n_samples} rows; "
            "pass one domain label per row."
        )
    missing = (values.dtype.kind == "f" and not np.isfinite(values).all()) or (
        values.dtype.kind == "O" and any(v is None or v != v for v in values))
    if missing:
        raise ValueError(
            "domains contains a missing entry (None, NaN or infinity); every row needs a "
            "domain label. Rows of unknown domain cannot be aligned: drop them or give "
            "them a domain of their own.")
    try:
        names, first, codes = np.unique(values, return_index=True, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"domains mixes label types that cannot be sorted: {exc}") from None
    order = np.argsort(first)  # sorted position -> rank of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return names[order], rank[codes.ravel()].astype(np.int64)


def check_hidden_sizes(value, name):
    """Return ``value`` as a tuple of positive ints, or raise naming ``name``."""
    sizes = (value,) if isinstance(value, numbers.Integral) else value
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(f"{name} must be a tuple of positive ints, got {value!r}.")
    return sizes


def resolve_device(device):
    """Turn the ``device`` parameter into a ``torch.device``; ``"auto"`` picks CUDA if present."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use 'auto' or 'cpu'.")
    return resolved


def check_real(value, name, low=0.0, high=None, low_inclusive=True):
    """Raise unless ``value`` is a finite real number in ``[low, high]``.

    ``high=None`` means no upper bound; ``low_inclusive=False`` excludes ``low``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    above_low = value >= low if low_inclusive else value > low
    below_high = value < float("inf") if high is None else value <= high
    if not (above_low and below_high):  # NaN fails both comparisons
        opening = "[" if low_inclusive else "("
        bounds = f"{opening}{low}, {'inf)' if high is None else f'{high}]'}"
        raise ValueError(f"{name} must be a finite number in {bounds}, got {value!r}.")
