"""Checks and encodings of the inputs (X, y, domains) that all skda functions share."""

import contextlib
import warnings

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_X_y,
    column_or_1d,
    validate_data,
)

UNLABELED = -1


class UnlabeledRowsWarning(UserWarning):
    """An estimator left out rows marked unlabeled (``y == -1``, or ``NaN`` for a regressor).

    Issued by every estimator that cannot learn from unlabeled rows, so that
    a ``-1`` meant as a class never disappears silently. Code that hides the
    target's labels on purpose (a source-only baseline in unsupervised
    adaptation) silences it with :func:`unlabeled_rows_expected`.
    """


@contextlib.contextmanager
def unlabeled_rows_expected():
    """Silence :class:`UnlabeledRowsWarning` where rows are unlabeled by design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnlabeledRowsWarning)
        yield


def unlabeled_mask(y, regression=False):
    """Rows of ``y`` marked unlabeled: ``-1`` for classes (never so in string arrays).

    With ``regression``, ``NaN`` marks them instead (``-1`` is a real target
    value); a ``y`` that does not hold numbers has none.
    """
    if regression:
        try:
            return np.isnan(np.asarray(y, dtype=np.float64))
        except (TypeError, ValueError):
            return np.zeros(len(y), dtype=bool)  # not numbers: whatever reads y says so
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
    if np.asarray(y).dtype.kind in "US" and np.any(np.asarray(y) == str(UNLABELED)):
        raise ValueError(
            "y is a string array holding '-1': the unlabeled marker must be the integer -1, "
            "which a string array cannot hold (assigning -1 into it stores the string '-1', "
            "which would be trained as a class). Use an object array, e.g. "
            "y = y.astype(object); y[unlabeled] = -1.")
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
        marker = ("" if labeled.all() else
                  f" The {int((~labeled).sum())} rows with y == -1 are unlabeled rows, not a "
                  "class (the sklearn.semi_supervised convention): to use -1 as a class, "
                  "encode the classes otherwise, e.g. {-1, +1} as {0, 1}.")
        raise ValueError(
            f"y has 1 class ({classes[0]!r}) among its labeled rows; a classifier "
            f"needs at least 2 classes.{marker}"
        )
    codes = np.full(len(y), UNLABELED, dtype=np.int64)
    codes[labeled] = inverse
    return classes, codes


def _is_missing(value):
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT differ from themselves
    except TypeError:  # pandas.NA refuses to be a bool: it is missing
        return True


def check_domains(domains, n_samples, name="domains"):
    """``domains`` as a 1-D array of one domain label per row, or raise naming ``name``.

    Every function that takes a domain array checks it here, so the rules
    and messages are the same everywhere: array-like, one entry per row of
    X, and no missing entry (None, NaN, NaT, ``pandas.NA``).
    """
    if isinstance(domains, (str, bytes)) or not hasattr(domains, "__len__"):
        raise TypeError(
            f"{name} must be array-like with one domain label per row of X, "
            f"got {type(domains).__name__}.")
    values = np.asarray(domains)
    if values.ndim != 1 or len(values) != n_samples:
        raise ValueError(
            f"{name} must hold one domain label per row of X ({n_samples} rows), got shape "
            f"{values.shape}.")
    if values.dtype.kind == "f":
        missing = not np.isfinite(values).all()
    elif values.dtype.kind in "mM":
        missing = np.isnat(values).any()
    else:
        missing = values.dtype.kind == "O" and any(_is_missing(v) for v in values)
    if missing:
        raise ValueError(
            f"{name} contains a missing entry (None, NaN, NaT or infinity); every row needs "
            "a domain label. Rows of unknown domain cannot be aligned: drop them or give "
            "them a domain of their own.")
    if values.dtype.kind == "O":
        kinds = {"string" if isinstance(v, (str, np.str_)) else "non-string" for v in values}
        if len(kinds) > 1:
            raise TypeError(
                f"{name} mixes strings and other labels (e.g. 1 and '1', which would be two "
                f"different domains); give every domain a label of one type, e.g. "
                f"{name}.astype(str).")
    if values.dtype.kind in "USO" and any(isinstance(v, str) and not v.strip()
                                          for v in np.unique(values.astype(object))):
        raise ValueError(
            f"{name} contains an empty string; name every domain (an empty label is "
            "usually a missing one).")
    return values


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
    values = check_domains(domains, n_samples)
    try:
        names, first, codes = np.unique(values, return_index=True, return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"domains mixes label types that cannot be sorted: {exc}") from None
    order = np.argsort(first)  # sorted position -> rank of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return names[order], rank[codes.ravel()].astype(np.int64)


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
    if resolved.type == "meta":
        raise ValueError(
            "device='meta' holds no data (tensors there have shapes only); skda trains and "
            "predicts on real values. Use 'auto', 'cpu' or 'cuda'.")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use 'auto' or 'cpu'.")
    return resolved


#: dtypes image arrays keep (uint8 stays small on the host); any other becomes float32
IMAGE_DTYPES = (np.float32, np.uint8)

#: ``validate_X`` without y (None is a y, and gets sklearn's "requires y" error)
NO_Y = "no_validation"


def _ndim(X):
    if hasattr(X, "ndim"):
        return X.ndim
    try:
        return np.ndim(X)
    except TypeError:  # array-likes that refuse numpy functions but convert
        return np.asarray(X).ndim


def validate_X(estimator, X, y=NO_Y, reset=False):
    """Validated X (and y): tabular through ``validate_data``, images by shape.

    Tabular X and image arrays come back as float32 arrays, except uint8
    images, which stay uint8 (the engine converts them batch by batch);
    image files, a Dataset or :class:`~skda.datasets.ImageRows` come back as
    ``ImageRows``, none of their images read but the first (its shape).
    With ``reset``, sets ``estimator``'s ``n_features_in_``, ``input_shape_``
    and (for tabular X with column names) ``feature_names_in_``; otherwise
    checks X against them.
    """
    from .datasets._images import as_image_rows, is_image_source

    name = type(estimator).__name__
    if is_image_source(X):
        X = as_image_rows(X)
        if y is not NO_Y:
            y = column_or_1d(y, warn=True)
            check_consistent_length(X, y)
    elif _ndim(X) <= 2:
        if not reset and len(estimator.input_shape_) > 1:
            raise ValueError(
                f"{name} was fitted on images of shape {estimator.input_shape_}; X must be "
                f"an image array, got {_ndim(X)}-D X.")
        args = (X,) if y is NO_Y else (X, y)
        out = validate_data(estimator, *args, dtype=np.float32, reset=reset,
                            ensure_all_finite="allow-nan")
        # missing values are the input scaler's to fill (DomainEstimator's input_scaling)
        if getattr(estimator, "input_scaling", None) is None and np.isnan(
                out if y is NO_Y else out[0]).any():
            raise ValueError(
                f"X contains NaN, which {name}(input_scaling=None) would pass to the network "
                "as it is. Leave input_scaling at its default (a missing value then becomes "
                "its column's center, with an indicator input), or impute X first (e.g. "
                "sklearn.impute.SimpleImputer(add_indicator=True)).")
        if reset:
            estimator.input_shape_ = (estimator.n_features_in_,)
        return out
    elif y is NO_Y:
        X = check_array(X, dtype=IMAGE_DTYPES, allow_nd=True)
    else:
        X, y = check_X_y(X, y, dtype=IMAGE_DTYPES, allow_nd=True)
    if X.ndim == 3:
        X = X[:, None]  # (n, height, width): one channel
    if X.ndim != 4:
        raise ValueError(
            "X must be 2-D (n_samples, n_features), or images of shape (n_samples, "
            f"channels, height, width) or (n_samples, height, width); got {X.ndim}-D X.")
    if reset:
        estimator.input_shape_ = X.shape[1:]
        estimator.n_features_in_ = int(np.prod(X.shape[1:]))
        estimator.__dict__.pop("feature_names_in_", None)
    elif len(estimator.input_shape_) == 1:
        raise ValueError(
            f"{name} was fitted on tabular X with {estimator.n_features_in_} features; got "
            f"images of shape {X.shape[1:]}.")
    elif X.shape[1:] != estimator.input_shape_:
        raise ValueError(
            f"X has images of shape {X.shape[1:]} but {name} was fitted on "
            f"{estimator.input_shape_} (channels, height, width).")
    return X if y is NO_Y else (X, y)


def holdout_per_cell(cells, fraction, rng):
    """Mask of the rows held out: a share ``fraction`` of the rows of every cell.

    ``cells`` holds one integer code per row (a domain, or a (domain,
    class) pair). Each cell's share is rounded half up and drawn at random
    with ``rng``; a cell always keeps at least one row, so a one-row cell is
    never held out.
    """
    held = np.zeros(len(cells), dtype=bool)
    rows = np.arange(len(cells))
    for cell in np.unique(cells):
        members = rows[cells == cell]
        n_held = min(int(np.floor(fraction * len(members) + 0.5)), len(members) - 1)
        held[rng.permutation(members)[:n_held]] = True
    return held


def holdout_labeled(labeled, domain_codes, class_codes, fraction, rng):
    """Mask of the labeled rows held out: ``fraction`` of every domain (x class) cell.

    ``class_codes`` (``0..n_classes-1`` on the labeled rows) stratifies by
    class within each domain; ``None`` stratifies by domain only. Unlabeled
    rows form a cell of their own and are never held out.
    """
    cell = (domain_codes if class_codes is None
            else domain_codes * (int(class_codes[labeled].max()) + 1) + class_codes)
    cells = np.where(labeled, cell, -1).astype(np.int64)
    return holdout_per_cell(cells, fraction, rng) & labeled
