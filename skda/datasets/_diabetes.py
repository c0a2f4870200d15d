"""Loader of the UCI Diabetes 130-US hospitals data, split by admission source (TableShift)."""

import csv
import io
import numbers
import zipfile

import numpy as np

from ._base import domain_bunch, fetch_file, get_data_home, to_frames, wrong_file

URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00296/dataset_diabetes.zip"
FILE = "dataset_diabetes.zip"
DATA_MEMBER = "dataset_diabetes/diabetic_data.csv"
IDS_MEMBER = "dataset_diabetes/IDs_mapping.csv"
N_ROWS = 101766  # in the file, before TableShift's rows with a missing race are dropped

MEDICATIONS = (
    "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide",
    "glipizide", "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose",
    "miglitol", "troglitazone", "tolazamide", "examide", "citoglipton", "insulin",
    "glyburide-metformin", "glipizide-metformin", "glimepiride-pioglitazone",
    "metformin-rosiglitazone", "metformin-pioglitazone")
COLUMNS = (
    "encounter_id", "patient_nbr", "race", "gender", "age", "weight", "admission_type_id",
    "discharge_disposition_id", "admission_source_id", "time_in_hospital", "payer_code",
    "medical_specialty", "num_lab_procedures", "num_procedures", "num_medications",
    "number_outpatient", "number_emergency", "number_inpatient", "diag_1", "diag_2", "diag_3",
    "number_diagnoses", "max_glu_serum", "A1Cresult", *MEDICATIONS, "change", "diabetesMed",
    "readmitted")
NUMERIC = ("time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
           "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses")
CODES = ("admission_type_id", "discharge_disposition_id")  # categorical, levels are the codes
# TableShift's 46 predictors: every column but the ids, the label and the domain column
FEATURES = tuple(c for c in COLUMNS if c not in (
    "encounter_id", "patient_nbr", "admission_source_id", "readmitted"))
DOMAIN_COLUMN = "admission_source_id"
OOD_SOURCE = 7  # Emergency Room: TableShift's out-of-distribution domain
TARGETS = {"any": "readmitted_any", "30_day": "readmitted_30_day"}
READMITTED = ("NO", ">30", "<30")
MISSING, INFREQUENT = "missing", "infrequent"

DESCR = """\
UCI Diabetes 130-US hospitals 1999-2008, by admission source (TableShift)
-------------------------------------------------------------------------

101,766 inpatient encounters of diabetic patients at 130 US hospitals
(1999-2008) with their demographics, diagnoses, lab tests, medications and
whether the patient was readmitted (Strack et al., 2014; UCI Machine
Learning Repository, id 296, CC BY 4.0). The rows and the split are those
of the TableShift benchmark's "diabetes_readmission" task (Gardner et al.,
2023): the 2,273 encounters with a missing race are dropped, leaving 99,493
rows of 69,668 distinct patients.

Target: ``target="any"`` (TableShift's label, the default) is 1 when the
patient was readmitted at all (``readmitted`` is "<30" or ">30"): 46,176
rows, rate 0.4641 (0.4609 on the whole file). ``target="30_day"`` is the
clinically usual label, readmitted within 30 days (``"<30"``): 11,169 rows,
rate 0.1123. ``readmitted`` keeps the raw value. Say which label a result
uses.

Domains: the admission source (``admission_source_id``), named as in the
archive's IDs_mapping.csv (verbatim, stripped of spaces, "critial"
included); 17 sources occur. TableShift's split: out of distribution (OOD)
is "Emergency Room" (code 7), in distribution (ID) every other source;
``target_domains`` names it and the boolean ``ood`` marks its rows.

=====  ==============  ======  ========  ===========
split  sources         rows    rate any  rate 30_day
=====  ==============  ======  ========  ===========
ID     16 others       42,861  0.4232    0.1056
OOD    Emergency Room  56,632  0.4951    0.1173
=====  ==============  ======  ========  ===========

Codes 17 ("NULL", 6,698 rows), 20 ("Not Mapped", 160) and 9 ("Not
Available", 54) mean that the source is unknown; they are kept as domains
of their own, in ID, as TableShift keeps them. Physician Referral (28,855
rows) and NULL are the only other sources with more than 3,000 rows; most
have fewer than 200.

Features: TableShift's 46 predictors, every column but encounter_id,
patient_nbr, readmitted and the domain column. 8 are counts, kept numeric
(time_in_hospital, num_lab_procedures, num_procedures, num_medications,
number_outpatient, number_emergency, number_inpatient, number_diagnoses).
38 are categorical: race, gender, age (10-year bins), weight, payer_code,
medical_specialty, diag_1/2/3 (ICD-9 codes), max_glu_serum and A1Cresult
("None" means not measured: a level of its own), the 23 medications
(No/Steady/Up/Down), change, diabetesMed, and the codes admission_type_id
and discharge_disposition_id (the levels are the codes; ``id_mappings``
names them). The array output one-hot encodes them ("race=Caucasian"): a
missing value ("?" in the file) is the level "missing", and the levels on
fewer than ``min_frequency`` of the rows are merged into one
"<feature>=infrequent" column per feature, as scikit-learn's
OneHotEncoder(min_frequency=...) does and TableShift (min_frequency=0.01)
uses: 200 columns by default, 2,490 with min_frequency=0. These levels are
counted on all the rows loaded, OOD included (no labels are used); to fit
the encoding on training rows only, load ``as_frame=True`` and encode in a
Pipeline. TableShift also binarises race (Caucasian or not) and gender
(Male or not); here they keep all their levels.

Missing values: weight (97% of rows), medical_specialty (49%), payer_code
(40%), diag_1/2/3 (19, 336 and 1,349 rows). Patients repeat (several
encounters per ``patient``): group splits by patient when leakage matters
(TableShift's own split is not grouped). The data has no hospital
identifier.

References: B. Strack, J. P. DeShazo, C. Gennings, J. L. Olmo, S. Ventura,
K. J. Cios and J. N. Clore, "Impact of HbA1c Measurement on Hospital
Readmission Rates: Analysis of 70,000 Clinical Database Patient Records",
BioMed Research International, 2014. J. Gardner, Z. Popovic and L.
Schmidt, "Benchmarking Distribution Shift in Tabular Data with
TableShift", NeurIPS 2023 Datasets and Benchmarks.
"""


def _read_ids(text):
    """IDs_mapping.csv's three stacked tables: ``{column: {code: description}}``."""
    tables, current = {}, None
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(v.strip() for v in row):
            current = None  # the "," lines between the tables
        elif current is None:
            current = tables.setdefault(row[0].strip(), {})
        elif len(row) == 2:
            current[int(row[0])] = row[1].strip()
        else:
            raise ValueError(f"unexpected row {row!r}")
    if set(tables) != {*CODES, DOMAIN_COLUMN}:
        raise ValueError(f"unexpected tables {sorted(tables)}")
    return tables


def _read_zip(path):
    """diabetic_data.csv's columns (lists of str) of the rows with a race, and the id tables."""
    expected = (f"the UCI archive {FILE}: expected a zip with {DATA_MEMBER} (a header and "
                f"{N_ROWS} rows of {len(COLUMNS)} comma-separated values) and {IDS_MEMBER}")
    try:
        with zipfile.ZipFile(path) as archive:
            ids = _read_ids(archive.read(IDS_MEMBER).decode("utf-8"))
            text = archive.read(DATA_MEMBER).decode("utf-8")
    except OSError:
        raise  # unreadable, not wrong
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, csv.Error) as exc:
        raise wrong_file(path, f"{expected} ({exc!r})") from exc
    # no field is quoted, so the commas split the fields (faster than the csv module)
    lines = text.splitlines()
    width = len(COLUMNS)
    if ('"' in text or len(lines) != N_ROWS + 1 or tuple(lines[0].split(",")) != COLUMNS
            or any(line.count(",") != width - 1 for line in lines)):
        raise wrong_file(path, expected)
    race = COLUMNS.index("race")  # TableShift drops the rows without a race
    lines = [line for line in lines[1:] if line.split(",", race + 1)[race] != "?"]
    cells = ",".join(lines).split(",")
    return {name: cells[i::width] for i, name in enumerate(COLUMNS)}, ids


def _numbers(values, path, name, dtype=np.float64):
    try:
        return np.array(values, dtype=dtype)
    except ValueError as exc:
        raise wrong_file(path, f"the UCI archive {FILE}: {name} holds a non-number") from exc


def _levels(values, numeric, path, name):
    """Sorted levels without the missing "?", and each row's level index (-1: missing)."""
    index = {}
    codes = np.array([index.setdefault(v, len(index)) for v in values], dtype=np.intp)
    seen = list(index)
    try:
        levels = sorted((v for v in seen if v != "?"), key=int if numeric else None)
    except ValueError as exc:
        raise wrong_file(path, f"the UCI archive {FILE}: {name} holds a non-integer") from exc
    position = {v: i for i, v in enumerate(levels)}
    rank = np.array([position.get(v, -1) for v in seen], dtype=np.intp)
    return [int(v) for v in levels] if numeric else levels, rank[codes]


def _one_hot(levels, codes, min_frequency):
    """Each level's one-hot column (missing, then infrequent last) and the column labels."""
    counts = np.bincount(codes + 1, minlength=len(levels) + 1)  # [missing, levels...]
    names = [*levels, MISSING]
    counts = np.append(counts[1:], counts[0])
    present = counts > 0
    rare = present & (counts < min_frequency * len(codes))
    column = np.full(len(names), -1)
    kept = np.flatnonzero(present & ~rare)
    column[kept] = np.arange(len(kept))
    labels = [names[i] for i in kept]
    if rare.any():
        column[rare] = len(kept)
        labels.append(INFREQUENT)
    return column[np.where(codes < 0, len(levels), codes)], labels


def fetch_diabetes_readmission(*, data_home=None, download_if_missing=True, target="any",
                               min_frequency=0.01, as_frame=False, return_X_y_domains=False):
    """Load the UCI Diabetes 130-US hospitals data (TableShift's readmission task).

    Reads ``<data_home>/diabetes_130us/dataset_diabetes.zip`` (the archive
    as UCI ships it, read without unpacking), downloading it from the UCI
    repository when it is missing and ``download_if_missing`` allows it.
    The rows, label, features and domain split are TableShift's
    "diabetes_readmission" task: the encounters with a known race, one
    domain per admission source, "Emergency Room" out of distribution.

    =================   ==============================
    Domains             17 admission sources (ID: 16, 42,861 rows;
                        OOD: Emergency Room, 56,632 rows)
    Samples total       99,493 (patients repeat: ``patient``)
    Features            46: 8 counts and 38 categorical, one-hot
                        encoded to 200 columns by default
    Classes             2 (readmitted at all: 46,176 rows; within
                        30 days: 11,169 rows)
    =================   ==============================

    Parameters
    ----------
    data_home : str, path or None, default=None
        Folder holding ``diabetes_130us/``; ``None``: ``SKDA_DATA``, else
        ``~/skda_data`` (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download the missing archive from UCI. ``False``: a missing file
        raises FileNotFoundError naming where it was looked for.
    target : {"any", "30_day"}, default="any"
        ``"any"``: 1 when the patient was readmitted at all (TableShift's
        label, rate 0.464); ``"30_day"``: 1 when readmitted within 30 days
        (rate 0.112).
    min_frequency : float in [0, 1], default=0.01
        In the one-hot encoding, the levels of a categorical feature on
        fewer than this share of the rows are merged into one
        ``"<feature>=infrequent"`` column, as ``OneHotEncoder(min_frequency=...)``
        does. ``0``: one column per level (2,490 columns). Unused with
        ``as_frame``.
    as_frame : bool, default=False
        ``data`` as a pandas DataFrame of the 46 raw features (categorical
        ones as ``category`` dtype with NaN for missing, counts as float),
        ``target`` and ``domains`` as Series: build your own encoding, e.g.
        a ColumnTransformer fitted on the training rows only.
    return_X_y_domains : bool, default=False
        Return ``(data, target, domains)`` instead of a Bunch.

    Returns
    -------
    data : Bunch
        ``data`` (99493, n_features) float64: the counts and the one-hot
        columns, in the file's column order (or the DataFrame);
        ``target`` (0 or 1); ``domains`` (admission source name of each
        row); ``domain_names`` (in code order); ``feature_names`` (e.g.
        ``"race=Caucasian"``; the 46 columns with ``as_frame``);
        ``target_domains`` (``["Emergency Room"]``, TableShift's OOD
        domain, as :func:`~skda.model_selection.evaluate_transductive`
        takes it); ``ood`` (bool, the row is in it); ``patient``
        (``patient_nbr``, to group splits by patient);
        ``admission_source_id`` (the codes); ``readmitted`` ("NO", ">30" or
        "<30"); ``id_mappings`` (``{column: {code: description}}`` of the
        three code columns) and ``DESCR``.
    (data, target, domains) : tuple
        When ``return_X_y_domains`` is True.

    Examples
    --------
    >>> from skda.datasets import fetch_diabetes_readmission
    >>> diabetes = fetch_diabetes_readmission()  # doctest: +SKIP
    >>> diabetes.data.shape, int(diabetes.ood.sum())  # doctest: +SKIP
    ((99493, 200), 56632)
    >>> diabetes.target_domains, round(diabetes.target.mean(), 4)  # doctest: +SKIP
    (['Emergency Room'], 0.4641)

    TableShift's two domains, in distribution and out:

    >>> import numpy as np
    >>> id_ood = np.where(diabetes.ood, "ood", "id")  # doctest: +SKIP
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {list(TARGETS)}, got {target!r}.")
    if (not isinstance(min_frequency, numbers.Real) or isinstance(min_frequency, bool)
            or not 0 <= min_frequency <= 1):
        raise ValueError(f"min_frequency must be a number in [0, 1], got {min_frequency!r}.")
    folder = get_data_home(data_home) / "diabetes_130us"
    how_to_get = (
        "The data set is the UCI 'Diabetes 130-US hospitals for years 1999-2008' data; put "
        f"the archive {FILE} (not unpacked) in {folder}.")
    path = fetch_file(folder, FILE, URL, download_if_missing, how_to_get)
    columns, ids = _read_zip(path)
    readmitted = np.array(columns["readmitted"])
    if not np.isin(readmitted, READMITTED).all():
        raise wrong_file(path, f"the UCI archive {FILE}: readmitted not in {list(READMITTED)}")
    y = (readmitted != "NO" if target == "any" else readmitted == "<30").astype(int)
    patient = _numbers(columns["patient_nbr"], path, "patient_nbr", np.int64)
    source = _numbers(columns[DOMAIN_COLUMN], path, DOMAIN_COLUMN, np.int64)
    present = np.unique(source).tolist()
    names = ids[DOMAIN_COLUMN]
    if OOD_SOURCE not in present or any(code not in names for code in present):
        raise wrong_file(path, f"the UCI archive {FILE}: an {DOMAIN_COLUMN} without a name")
    taken = [names[code] for code in present]
    domain_names = [names[code] if taken.count(names[code]) == 1 else f"{names[code]} ({code})"
                    for code in present]
    domains = np.array(domain_names)[np.searchsorted(present, source)]

    if as_frame:
        import pandas as pd

        frame = {}
        for name in FEATURES:
            if name in NUMERIC:
                frame[name] = _numbers(columns[name], path, name)
            else:
                levels, codes = _levels(columns[name], name in CODES, path, name)
                frame[name] = pd.Categorical.from_codes(codes, categories=levels)
        X, y_out, domains_out = to_frames(frame, y, domains, FEATURES, TARGETS[target],
                                          "admission_source")
        feature_names = list(FEATURES)
    else:
        parts, feature_names = [], []  # (first column, values, whether one-hot)
        for name in FEATURES:
            if name in NUMERIC:
                parts.append((len(feature_names), _numbers(columns[name], path, name), False))
                feature_names.append(name)
            else:
                levels, codes = _levels(columns[name], name in CODES, path, name)
                column, labels = _one_hot(levels, codes, min_frequency)
                parts.append((len(feature_names), column, True))
                feature_names.extend(f"{name}={label}" for label in labels)
        del columns  # free the ~5 million cell strings before the dense array is allocated
        X = np.zeros((len(y), len(feature_names)))
        rows = np.arange(len(y))
        for offset, values, one_hot in parts:
            if one_hot:
                X[rows, offset + values] = 1.0
            else:
                X[:, offset] = values
        y_out, domains_out = y, domains
    return domain_bunch(
        X, y_out, domains_out, domain_names, return_X_y_domains, feature_names=feature_names,
        target_domains=[domain_names[present.index(OOD_SOURCE)]], ood=source == OOD_SOURCE,
        patient=patient, admission_source_id=source, readmitted=readmitted, id_mappings=ids,
        DESCR=DESCR)
