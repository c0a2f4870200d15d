"""Loader of the UCI Wine Quality data: red and white Vinho Verde, the same 11 measurements."""

import csv

import numpy as np

from ._base import check_domains, domain_bunch, fetch_domains, get_data_home, to_frames, wrong_file

URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"
DOMAINS = ("red", "white")
FEATURES = ("fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
            "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates",
            "alcohol")
N_ROWS = {"red": 1599, "white": 4898}

DESCR = """\
UCI Wine Quality, red and white Vinho Verde
-------------------------------------------

Physico-chemical measurements and a sensory quality score (0-10, the
median of at least three assessors) of red and white variants of the
Portuguese "Vinho Verde" wine (Cortez et al., 2009; UCI Machine Learning
Repository, CC BY 4.0): 1599 red and 4898 white wines. 6497 rows.

Features (the same 11 in both domains, no missing values): fixed acidity,
volatile acidity, citric acid, residual sugar, chlorides, free sulfur
dioxide, total sulfur dioxide, density, pH, sulphates, alcohol. Their
distributions differ strongly by colour (covariate shift): mean residual
sugar 2.54 red / 6.39 white, total sulfur dioxide 46.5 / 138.4, volatile
acidity 0.528 / 0.278.

Target: the quality score (regression or multi-class), or with
``binary=True`` 1 when quality >= 7 (217 red, 1060 white wines) and the
score in ``quality``. Rows per score:

=======  ==  ===  ====  ====  ===  ===  =  ==========
score    3   4    5     6     7    8    9  quality>=7
=======  ==  ===  ====  ====  ===  ===  =  ==========
red      10  53   681   638   199  18   0  217
white    20  163  1457  2198  880  175  5  1060
=======  ==  ===  ====  ====  ===  ===  =  ==========

The files contain duplicate rows (240 red, 937 white), as UCI ships them.

Reference: P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis,
"Modeling wine preferences by data mining from physicochemical
properties", Decision Support Systems 47(4):547-553, 2009.
"""


def _read_domain(path, domain):
    expected = (f"the UCI file winequality-{domain}.csv: expected a header and "
                f"{N_ROWS[domain]} rows of 12 ';'-separated numbers")
    try:  # a UnicodeDecodeError or a non-number is a ValueError
        with open(path, newline="", encoding="utf-8") as file:
            rows = [row for row in csv.reader(file, delimiter=";") if row]
        if (len(rows) != N_ROWS[domain] + 1 or rows[0] != [*FEATURES, "quality"]
                or any(len(row) != 12 for row in rows[1:])):
            raise ValueError(expected)
        table = np.array(rows[1:], dtype=float)
    except ValueError as exc:
        raise wrong_file(path, expected) from exc
    quality = table[:, -1].astype(int)
    if not np.array_equal(quality, table[:, -1]):
        raise wrong_file(path, expected + " (an integer quality last)")
    return table[:, :-1], quality


def fetch_wine_quality(*, data_home=None, download_if_missing=True, domains=DOMAINS,
                       binary=False, as_frame=False, return_X_y_domains=False):
    """Load the UCI Wine Quality data of red and white wine (one domain per colour).

    Reads ``<data_home>/wine_quality/winequality-<colour>.csv`` (the files
    as UCI ships them), downloading a missing file from the UCI repository
    when ``download_if_missing`` allows it.

    =================   ==============================
    Domains             2 (red, white)
    Samples total       6497 (1599, 4898)
    Features            11 physico-chemical measurements
    Target              quality score 3-9, or quality >= 7 (1277 rows)
    =================   ==============================

    Parameters
    ----------
    data_home : str, path or None, default=None
        Folder holding ``wine_quality/``; ``None``: ``SKDA_DATA``, else
        ``~/skda_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download missing files from UCI. ``False``: a missing file raises
        FileNotFoundError naming where it was looked for.
    domains : sequence of str, default=("red", "white")
        Which colours to load, in this order.
    binary : bool, default=False
        ``target`` 1 when the quality is 7 or more, else 0 (the score stays
        in ``quality``). ``False``: ``target`` is the integer score.
    as_frame : bool, default=False
        ``data`` as a pandas DataFrame (``target`` and ``domains`` as Series).
    return_X_y_domains : bool, default=False
        Return ``(data, target, domains)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (n_samples, 11) float, ``target`` (int score, or 0/1 with
        ``binary``), ``domains`` (colour of each row), ``domain_names``,
        ``feature_names``, ``quality`` (the score) and ``DESCR``.
    (data, target, domains) : tuple
        When ``return_X_y_domains`` is True.

    Examples
    --------
    >>> from skda.datasets import fetch_wine_quality
    >>> wine = fetch_wine_quality(binary=True)  # doctest: +SKIP
    >>> wine.data.shape, wine.domain_names, int(wine.target.sum())  # doctest: +SKIP
    ((6497, 11), ['red', 'white'], 1277)
    """
    domains = check_domains(domains, DOMAINS)
    folder = get_data_home(data_home) / "wine_quality"
    how_to_get = (
        "The data set is the UCI 'Wine Quality' data; put the files winequality-red.csv and "
        f"winequality-white.csv in {folder}.")
    files = {d: (f"winequality-{d}.csv", f"{URL}winequality-{d}.csv") for d in DOMAINS}
    X, quality, names = fetch_domains(folder, domains, files, _read_domain,
                                      download_if_missing, how_to_get)
    y = (quality >= 7).astype(int) if binary else quality
    if as_frame:
        X, y, names = to_frames(X, y, names, FEATURES, "quality>=7" if binary else "quality",
                                "colour")
    return domain_bunch(X, y, names, domains, return_X_y_domains,
                        feature_names=list(FEATURES), quality=quality, DESCR=DESCR)
