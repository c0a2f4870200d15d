"""Where the real data sets live, and how a missing file is fetched."""

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import scipy.io
from sklearn.utils import Bunch


def get_data_home(data_home=None):
    """The folder of skda's data sets.

    Parameters
    ----------
    data_home : str, path or None, default=None
        ``None``: the ``SKDA_DATA`` environment variable when it is set,
        else ``~/skda_data``. A leading ``~`` is expanded.

    Returns
    -------
    path : pathlib.Path
        The folder (not created).

    Examples
    --------
    >>> from skda.datasets import get_data_home
    >>> get_data_home("/tmp/my_data").as_posix()
    '/tmp/my_data'
    """
    if data_home is None:
        data_home = os.environ.get("SKDA_DATA") or "~/skda_data"
    if not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(f"data_home must be a path or None, got {data_home!r}.")
    return Path(data_home).expanduser()


def fetch_file(folder, name, url, download_if_missing, how_to_get):
    """``folder / name``, downloaded from ``url`` first when it is missing and allowed."""
    path = folder / name
    if path.is_file():
        return path
    if not download_if_missing:
        raise FileNotFoundError(
            f"{path} not found, and download_if_missing=False. {how_to_get} Get it from "
            f"{url}, or point data_home (or the SKDA_DATA environment variable) at a folder "
            "that has it.")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, tempfile.NamedTemporaryFile(
                dir=folder, delete=False) as tmp:
            shutil.copyfileobj(response, tmp)
    except OSError as exc:
        raise OSError(
            f"{path} not found, and downloading it from {url} failed ({exc}). "
            f"{how_to_get}") from exc
    os.replace(tmp.name, path)  # never leave a half-written file under the final name
    return path


def wrong_file(path, expected):
    """The error for a file on disk that is not the one expected: tell how to fix it."""
    return ValueError(f"{path} is not {expected}. Delete it to download it again.")


def check_domains(domains, valid, name="domains"):
    """``domains`` as a list: a non-empty subset of ``valid``, without repeats."""
    if isinstance(domains, str):
        domains = [domains]
    domains = list(domains)
    if not domains or any(d not in valid for d in domains) or len(set(domains)) < len(domains):
        raise ValueError(
            f"{name} must be a non-empty subset of {list(valid)} without repeats, "
            f"got {domains!r}.")
    return domains


def fetch_domains(folder, domains, files, read, download_if_missing, how_to_get):
    """Fetch and read one file per domain, and stack the domains' rows.

    ``files`` maps a domain to ``(file name, url)``; ``read(path, domain)``
    returns a tuple of arrays with one row per sample. Returns those arrays
    concatenated over ``domains`` (in order), then the domain of each row.
    """
    parts, names = [], []
    for domain in domains:
        name, url = files[domain]
        arrays = read(fetch_file(folder, name, url, download_if_missing, how_to_get), domain)
        parts.append(arrays)
        names.append(np.full(len(arrays[0]), domain))
    return (*(np.concatenate(column) for column in zip(*parts, strict=True)),
            np.concatenate(names))


def load_mat(path, n_rows, n_features, labels, expected):
    """``fts`` (n_rows, n_features) float64 and ``labels`` (n_rows,) int of a MATLAB file.

    ``labels`` holds the allowed label values; ``expected`` names the file
    for the error raised when the content is not what it should be.
    """
    try:
        content = scipy.io.loadmat(path)
    except OSError:
        raise  # unreadable, not wrong
    except Exception as exc:  # a damaged file fails with about any error (IndexError, ...)
        raise wrong_file(path, f"{expected} (scipy.io.loadmat failed: {exc!r})") from exc
    fts, y = content.get("fts"), content.get("labels")
    shape = (n_rows, n_features)
    if (not isinstance(fts, np.ndarray) or not isinstance(y, np.ndarray) or fts.shape != shape
            or y.size != n_rows or not np.isin(y, labels).all()):
        raise wrong_file(path, f"{expected}: expected a variable 'fts' of shape {shape} and "
                               f"{n_rows} 'labels' in {sorted(labels)}")
    return fts.astype(np.float64), y.ravel().astype(int)


def domain_bunch(data, target, domains, domain_names, return_X_y_domains, **fields):
    """``(data, target, domains)``, or a Bunch of them with ``domain_names`` and ``fields``."""
    if return_X_y_domains:
        return data, target, domains
    return Bunch(data=data, target=target, domains=domains, domain_names=list(domain_names),
                 **fields)


def to_frames(data, target, domains, feature_names, target_name, domain_name):
    """``data`` as a pandas DataFrame, ``target`` and ``domains`` as named Series."""
    import pandas as pd

    return (pd.DataFrame(data, columns=list(feature_names)), pd.Series(target, name=target_name),
            pd.Series(domains, name=domain_name))
