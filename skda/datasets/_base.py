"""Where the real data sets live, and how a missing file is fetched."""

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path


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
