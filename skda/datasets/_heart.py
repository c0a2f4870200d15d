"""Loader of the UCI Heart Disease data: the same 14 attributes at four hospitals."""

import numpy as np

from ._base import check_domains, domain_bunch, fetch_domains, get_data_home, to_frames, wrong_file

URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease/"
SITES = ("cleveland", "hungarian", "switzerland", "va")
FEATURES = ("age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang",
            "oldpeak", "slope", "ca", "thal")
N_ROWS = {"cleveland": 303, "hungarian": 294, "switzerland": 123, "va": 200}

DESCR = """\
UCI Heart Disease, four hospital sites
--------------------------------------

The same 13 attributes and diagnosis recorded at four hospitals (Janosi,
Steinbrunn, Pfisterer and Detrano, 1988; UCI Machine Learning Repository,
CC BY 4.0): Cleveland Clinic Foundation (303 patients), Hungarian Institute
of Cardiology, Budapest (294), University Hospitals of Zurich and Basel (123)
and the V.A. Medical Center, Long Beach (200). 920 rows.

Features: age, sex, cp (chest pain type 1-4), trestbps (resting blood
pressure), chol (serum cholesterol), fbs (fasting blood sugar > 120), restecg,
thalach (maximum heart rate), exang (exercise angina), oldpeak (ST
depression), slope, ca (vessels coloured by fluoroscopy), thal.

Target: 1 when the diagnosis ``num`` is 1-4 (disease), 0 when it is 0. The
prevalence differs strongly by site: 46% Cleveland, 36% Hungary, 93%
Switzerland, 75% Long Beach (label shift).

Missing values are NaN: the files' ``?``, and ``chol == 0`` (impossible;
it is 0 for every Swiss patient and 49 at Long Beach, a recording artefact).
Missingness differs by site: ``ca`` is missing almost everywhere outside
Cleveland, ``slope`` and ``thal`` at most Hungarian rows. Impute inside the
model (e.g. ``SimpleImputer(add_indicator=True)`` in a Pipeline), as the
estimators refuse NaN.
"""


def _read_site(path, site):
    rows = [line.strip().split(",") for line in path.read_text().splitlines() if line.strip()]
    if len(rows) != N_ROWS[site] or any(len(row) != 14 for row in rows):
        raise wrong_file(path, f"the UCI file processed.{site}.data: expected {N_ROWS[site]} "
                               "rows of 14 comma-separated values")
    table = np.array([[np.nan if v in ("?", "") else float(v) for v in row] for row in rows])
    return table[:, :-1], table[:, -1]


def fetch_heart_disease(*, data_home=None, download_if_missing=True, sites=SITES,
                        as_frame=False, return_X_y_domains=False, return_X_y=False):
    """Load the UCI Heart Disease data of four hospitals (one domain per hospital).

    Reads ``<data_home>/heart_disease/processed.<site>.data`` (the files as
    UCI ships them), downloading a missing file from the UCI repository
    when ``download_if_missing`` allows it.

    =================   ==============================
    Sites (domains)     4 (cleveland, hungarian, switzerland, va)
    Samples total       920 (303, 294, 123, 200)
    Features            13, with NaN for missing values
    Classes             2 (disease: 509 rows)
    =================   ==============================

    Parameters
    ----------
    data_home : str, path or None, default=None
        Folder holding ``heart_disease/``; ``None``: ``SKDA_DATA``, else
        ``~/skda_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download missing files from UCI. ``False``: a missing file raises
        FileNotFoundError naming where it was looked for.
    sites : sequence of str, default=all four
        Which hospitals to load, in this order.
    as_frame : bool, default=False
        ``data`` as a pandas DataFrame (``target`` and ``domains`` as Series).
    return_X_y_domains : bool, default=False
        Return ``(data, target, domains)`` instead of a Bunch.
    return_X_y : bool, default=False
        The older spelling of ``return_X_y_domains``, kept working: either
        being True returns the tuple.

    Returns
    -------
    data : Bunch
        ``data`` (n_samples, 13) float with NaN, ``target`` (0 or 1),
        ``domains`` (site of each row), ``domain_names``, ``feature_names``,
        ``num`` (the original 0-4 diagnosis) and ``DESCR``.
    (data, target, domains) : tuple
        When ``return_X_y_domains`` (or ``return_X_y``) is True.

    Examples
    --------
    >>> from skda.datasets import fetch_heart_disease
    >>> heart = fetch_heart_disease(download_if_missing=False)  # doctest: +SKIP
    >>> heart.data.shape, heart.domain_names  # doctest: +SKIP
    ((920, 13), ['cleveland', 'hungarian', 'switzerland', 'va'])
    """
    sites = check_domains(sites, SITES, name="sites")
    folder = get_data_home(data_home) / "heart_disease"
    how_to_get = (
        "The data set is the UCI 'Heart Disease' data; put the files processed.<site>.data "
        f"in {folder}.")
    files = {site: (f"processed.{site}.data", f"{URL}processed.{site}.data") for site in SITES}
    X, num, domains = fetch_domains(folder, sites, files, _read_site, download_if_missing,
                                    how_to_get)
    X[:, FEATURES.index("chol")] = np.where(X[:, FEATURES.index("chol")] == 0, np.nan,
                                            X[:, FEATURES.index("chol")])
    num = num.astype(int)
    y = (num > 0).astype(int)
    if as_frame:
        X, y, domains = to_frames(X, y, domains, FEATURES, "disease", "site")
    return domain_bunch(X, y, domains, sites, return_X_y_domains or return_X_y,
                        feature_names=list(FEATURES), num=num, DESCR=DESCR)
