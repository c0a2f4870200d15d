"""fetch_diabetes_readmission reads SKDA_DATA's UCI archive, offline; counts from its SOURCE.md."""

import io
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skda.datasets import _base, fetch_diabetes_readmission

SHARED = os.environ.get("SKDA_DATA")
ARCHIVE = Path(SHARED or "/nonexistent") / "diabetes_130us" / "dataset_diabetes.zip"
URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00296/dataset_diabetes.zip"
needs_data = pytest.mark.skipif(
    not ARCHIVE.is_file(),
    reason="SKDA_DATA does not point at the shared data with diabetes_130us/ (the README's test "
           "command sets it)")

NUMERIC = ["time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
           "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses"]


def refuse(*args, **kwargs):
    raise AssertionError("a test tried to download")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(_base.urllib.request, "urlopen", refuse)


def load(**kwargs):
    """The loader on the shared data, never downloading (also outside the autouse fixture)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_base.urllib.request, "urlopen", refuse)
        return fetch_diabetes_readmission(data_home=SHARED, download_if_missing=False, **kwargs)


@pytest.fixture(scope="module")
def bunch():
    return load()


@pytest.fixture(scope="module")
def frame():
    return load(as_frame=True)


@pytest.fixture(scope="module")
def raw():
    """The CSV as pandas reads it (SOURCE.md's way), TableShift's rows: an independent parser."""
    with zipfile.ZipFile(ARCHIVE) as archive, archive.open(
            "dataset_diabetes/diabetic_data.csv") as file:
        table = pd.read_csv(file, na_values=["?"], keep_default_na=False, dtype=str)
    assert table.shape == (101766, 50) and table["race"].isna().sum() == 2273
    return table[table["race"].notna()].reset_index(drop=True)


@needs_data
def test_rows_domains_and_tableshift_split(bunch):
    assert bunch.data.shape[0] == len(bunch.target) == len(bunch.domains) == 99493
    assert len(bunch.patient) == 99493 and len(np.unique(bunch.patient)) == 69668
    assert bunch.target_domains == ["Emergency Room"]
    np.testing.assert_array_equal(bunch.ood, bunch.domains == "Emergency Room")
    np.testing.assert_array_equal(bunch.ood, bunch.admission_source_id == 7)
    assert bunch.ood.sum() == 56632 and (~bunch.ood).sum() == 42861  # OOD, ID
    assert len(bunch.domain_names) == 17 and set(bunch.domains) == set(bunch.domain_names)
    counts = {d: int((bunch.domains == d).sum()) for d in bunch.domain_names}
    assert counts["Physician Referral"] == 28855 and counts["Clinic Referral"] == 1042
    # the missing-value codes 17, 20 and 9 keep their names, in ID
    assert counts["NULL"] == 6698 and counts["Not Mapped"] == 160
    assert counts["Not Available"] == 54
    assert bunch.domain_names[0] == "Physician Referral"  # code order
    assert bunch.id_mappings["admission_source_id"][7] == "Emergency Room"
    assert bunch.id_mappings["admission_type_id"][1] == "Emergency"
    assert "TableShift" in bunch.DESCR and "0.4641" in bunch.DESCR and "NULL" in bunch.DESCR


@needs_data
def test_any_readmission_target_rates(bunch):
    np.testing.assert_array_equal(bunch.target, (bunch.readmitted != "NO").astype(int))
    assert set(np.unique(bunch.readmitted)) == {"NO", ">30", "<30"}
    assert bunch.target.sum() == 46176 and round(bunch.target.mean(), 4) == 0.4641
    assert round(bunch.target[~bunch.ood].mean(), 4) == 0.4232
    assert round(bunch.target[bunch.ood].mean(), 4) == 0.4951


@needs_data
def test_30_day_target_and_return_x_y_domains(bunch):
    X, y, domains = load(target="30_day", return_X_y_domains=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(domains, bunch.domains)
    np.testing.assert_array_equal(y, (bunch.readmitted == "<30").astype(int))
    assert y.sum() == 11169 and round(y.mean(), 4) == 0.1123
    assert round(y[~bunch.ood].mean(), 4) == 0.1056 and round(y[bunch.ood].mean(), 4) == 0.1173


@needs_data
def test_one_hot_features(bunch, raw):
    X, names = bunch.data, bunch.feature_names
    assert X.dtype == np.float64 and not np.isnan(X).any()
    assert X.shape[1] == len(names) == 200 and len(set(names)) == len(names)
    assert "race=Caucasian" in names and "race=missing" not in names  # those rows are dropped
    assert {"weight=missing", "weight=infrequent", "max_glu_serum=None", "A1Cresult=None",
            "admission_type_id=1", "diag_1=infrequent"} <= set(names)
    assert "admission_source_id" not in {n.split("=")[0] for n in names}  # the domain column
    features = list(dict.fromkeys(n.split("=")[0] for n in names))
    assert len(features) == 46
    for name in NUMERIC:
        np.testing.assert_array_equal(X[:, names.index(name)], raw[name].to_numpy(float))
    for name in features:
        if name not in NUMERIC:
            block = X[:, [i for i, n in enumerate(names) if n.split("=")[0] == name]]
            assert ((block == 0) | (block == 1)).all() and (block.sum(axis=1) == 1).all()
    # "None" (not measured) stays a level, missing ("?") is its own
    assert X[:, names.index("max_glu_serum=None")].sum() == (raw["max_glu_serum"] == "None").sum()
    assert X[:, names.index("weight=missing")].sum() == raw["weight"].isna().sum() == 96434


@needs_data
def test_one_hot_is_sklearns_with_min_frequency(bunch, frame):
    from sklearn.preprocessing import OneHotEncoder

    names = bunch.feature_names
    for name in ["race", "weight", "admission_type_id", "discharge_disposition_id",
                 "medical_specialty", "diag_3", "A1Cresult", "metformin", "examide"]:
        column = frame.data[[name]].astype(object).where(frame.data[[name]].notna(), np.nan)
        encoder = OneHotEncoder(min_frequency=0.01, sparse_output=False).fit(column)
        mine = [i for i, n in enumerate(names) if n.split("=")[0] == name]
        np.testing.assert_array_equal(bunch.data[:, mine], encoder.transform(column), name)
        theirs = [str(c).replace("nan", "missing").replace("infrequent_sklearn", "infrequent")
                  for c in encoder.get_feature_names_out([name])]
        assert [names[i] for i in mine] == [c.replace(f"{name}_", f"{name}=", 1) for c in theirs]


@needs_data
def test_as_frame_holds_the_raw_features(frame, bunch, raw):
    X, y, domains = frame.data, frame.target, frame.domains
    assert isinstance(X, pd.DataFrame) and X.shape == (99493, 46)
    assert list(X.columns) == frame.feature_names
    assert frame.feature_names == [c for c in raw.columns if c not in (
        "encounter_id", "patient_nbr", "admission_source_id", "readmitted")]
    for name in X.columns:
        if name in NUMERIC:
            assert X[name].dtype == np.float64
            np.testing.assert_array_equal(X[name].to_numpy(), raw[name].to_numpy(float))
        else:
            assert isinstance(X[name].dtype, pd.CategoricalDtype), name
            expected = raw[name].astype(int if name.endswith("_id") else object)  # codes: int
            pd.testing.assert_series_equal(X[name].astype(object), expected.astype(object),
                                           check_names=False)
    assert X["admission_type_id"].cat.categories.tolist() == list(range(1, 9))
    assert X["max_glu_serum"].isna().sum() == 0 and (X["max_glu_serum"] == "None").sum() == 94203
    # the categories without missing + the counts: the one-hot width with min_frequency=0
    assert sum(X[c].nunique(dropna=False) for c in X if c not in NUMERIC) + 8 == 2490
    assert isinstance(y, pd.Series) and y.name == "readmitted_any"
    assert isinstance(domains, pd.Series) and domains.name == "admission_source"
    np.testing.assert_array_equal(y.to_numpy(), bunch.target)
    np.testing.assert_array_equal(domains.to_numpy(), bunch.domains)
    np.testing.assert_array_equal(frame.patient, raw["patient_nbr"].to_numpy(int))
    np.testing.assert_array_equal(frame.ood, bunch.ood)


@pytest.mark.parametrize("target", ["30day", "<30", None, 1])
def test_a_bad_target_is_refused(target, tmp_path):
    with pytest.raises(ValueError, match="target must be one of") as info:
        fetch_diabetes_readmission(data_home=tmp_path, target=target)
    assert "'any', '30_day'" in str(info.value)


@pytest.mark.parametrize("min_frequency", [-0.1, 1.5, "0.01", None, True])
def test_a_bad_min_frequency_is_refused(min_frequency, tmp_path):
    with pytest.raises(ValueError, match="min_frequency must be"):
        fetch_diabetes_readmission(data_home=tmp_path, min_frequency=min_frequency)


def test_missing_file_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_diabetes_readmission(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / "diabetes_130us" / "dataset_diabetes.zip") in message
    assert URL in message and "SKDA_DATA" in message


def zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


HEADER = ("encounter_id,patient_nbr,race,gender,age,weight,admission_type_id,"
          "discharge_disposition_id,admission_source_id,time_in_hospital,payer_code,"
          "medical_specialty,num_lab_procedures,num_procedures,num_medications,"
          "number_outpatient,number_emergency,number_inpatient,diag_1,diag_2,diag_3,"
          "number_diagnoses,max_glu_serum,A1Cresult,metformin,repaglinide,nateglinide,"
          "chlorpropamide,glimepiride,acetohexamide,glipizide,glyburide,tolbutamide,"
          "pioglitazone,rosiglitazone,acarbose,miglitol,troglitazone,tolazamide,examide,"
          "citoglipton,insulin,glyburide-metformin,glipizide-metformin,"
          "glimepiride-pioglitazone,metformin-rosiglitazone,metformin-pioglitazone,change,"
          "diabetesMed,readmitted\r\n")
ROW = ("1,2,Caucasian,Female,[0-10),?,6,25,1,1,?,?,41,0,1,0,0,0,250.83,?,?,1,None,None"
       + ",No" * 23 + ",No,No,NO\r\n")
IDS = ("admission_type_id,description\n6,NULL\n,\ndischarge_disposition_id,description\n"
       "25,Not Mapped\n,\nadmission_source_id,description\n1, Physician Referral\n")


@pytest.mark.parametrize("content", [
    b"not a zip\n",  # not a zip at all
    b"PK\x03\x04" + b"\x00" * 40,  # a damaged zip
    zip_bytes({"diabetic_data.csv": HEADER + ROW}),  # not the archive's members
    zip_bytes({"dataset_diabetes/diabetic_data.csv": HEADER + ROW * 10,  # too few rows
               "dataset_diabetes/IDs_mapping.csv": IDS}),
    zip_bytes({"dataset_diabetes/diabetic_data.csv": HEADER + ROW,
               "dataset_diabetes/IDs_mapping.csv": "no,tables\n1,2,3\n"}),
], ids=["text", "damaged", "members", "rows", "ids"])
def test_a_wrong_file_is_refused(content, tmp_path):
    folder = tmp_path / "diabetes_130us"
    folder.mkdir()
    (folder / "dataset_diabetes.zip").write_bytes(content)
    with pytest.raises(ValueError, match="Delete it to download it again") as info:
        fetch_diabetes_readmission(data_home=tmp_path, download_if_missing=False)
    assert "dataset_diabetes.zip" in str(info.value)


@needs_data
def test_download_is_used_only_when_the_file_is_missing(tmp_path, monkeypatch):
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return open(ARCHIVE, "rb")

    monkeypatch.setattr(_base.urllib.request, "urlopen", fake_urlopen)
    home = tmp_path / "home"
    data = fetch_diabetes_readmission(data_home=home, min_frequency=0.2)
    assert calls == [URL]
    folder = home / "diabetes_130us"
    assert [p.name for p in folder.iterdir()] == ["dataset_diabetes.zip"]  # nothing else cached
    assert (folder / "dataset_diabetes.zip").read_bytes() == ARCHIVE.read_bytes()
    # fewer, more frequent levels: every one-hot column but "infrequent" is on >= 20% of rows
    assert data.data.shape == (99493, 82)
    share = data.data.mean(axis=0)
    for name, s in zip(data.feature_names, share, strict=True):
        if "=" in name and not name.endswith("=infrequent"):
            assert s >= 0.2, name
    X, _, _ = fetch_diabetes_readmission(data_home=home, min_frequency=0.2,
                                         return_X_y_domains=True)  # now on disk
    assert len(calls) == 1
    np.testing.assert_array_equal(X, data.data)


@needs_data
def test_a_copied_archive_loads_without_network(tmp_path):
    (tmp_path / "diabetes_130us").mkdir()
    shutil.copy(ARCHIVE, tmp_path / "diabetes_130us" / "dataset_diabetes.zip")
    X, y, domains = fetch_diabetes_readmission(data_home=tmp_path, return_X_y_domains=True)
    assert X.shape == (99493, 200) and y.shape == domains.shape == (99493,)
