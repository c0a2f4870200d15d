"""Loaders of real data read SKDA_DATA (CI: ../shared/data) and never touch the network."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skda.datasets import _base, fetch_heart_disease, get_data_home

SHARED = os.environ.get("SKDA_DATA")
needs_data = pytest.mark.skipif(
    not SHARED or not (Path(SHARED) / "heart_disease").is_dir(),
    reason="SKDA_DATA does not point at the shared data (the README's test command sets it)")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(_base.urllib.request, "urlopen", refuse)


def test_data_home_default_and_override(monkeypatch):
    monkeypatch.setenv("SKDA_DATA", "/some/where")
    assert get_data_home() == Path("/some/where")
    monkeypatch.delenv("SKDA_DATA")
    assert get_data_home() == Path("~/skda_data").expanduser()
    assert get_data_home("~/x") == Path.home() / "x"
    with pytest.raises(TypeError, match="data_home"):
        get_data_home(3)


@needs_data
def test_heart_disease_matches_its_source_description():
    heart = fetch_heart_disease(download_if_missing=False)
    assert heart.data.shape == (920, 13)
    assert heart.domain_names == ["cleveland", "hungarian", "switzerland", "va"]
    assert heart.feature_names[0] == "age" and heart.feature_names[-1] == "thal"
    # rows and classes per site, as in SOURCE.md and the UCI description
    for site, rows, negatives in [("cleveland", 303, 164), ("hungarian", 294, 188),
                                  ("switzerland", 123, 8), ("va", 200, 51)]:
        here = heart.domains == site
        assert here.sum() == rows and (heart.target[here] == 0).sum() == negatives
    np.testing.assert_array_equal(heart.target, (heart.num > 0).astype(int))
    chol = heart.data[:, heart.feature_names.index("chol")]
    assert np.isnan(chol[heart.domains == "switzerland"]).all()  # 0 there is an artefact
    assert not np.isnan(chol[heart.domains == "cleveland"]).any()
    ca = heart.data[:, heart.feature_names.index("ca")]
    assert np.isnan(ca[heart.domains == "cleveland"]).sum() == 4  # its '?' entries
    assert "Cleveland" in heart.DESCR


@needs_data
def test_heart_disease_frames_subsets_and_x_y():
    X, y, d = fetch_heart_disease(download_if_missing=False, sites=["va", "cleveland"],
                                  as_frame=True, return_X_y=True)
    assert isinstance(X, pd.DataFrame) and list(X.columns)[:2] == ["age", "sex"]
    assert isinstance(y, pd.Series) and d.unique().tolist() == ["va", "cleveland"]
    assert len(X) == 503


@needs_data
def test_heart_disease_trains_an_estimator_in_a_pipeline():
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skda import DANNClassifier

    heart = fetch_heart_disease(download_if_missing=False)
    pipe = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(),
                         DANNClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0))
    pipe.fit(heart.data, heart.target, dannclassifier__domains=heart.domains)
    assert pipe.score(heart.data, heart.target) > 0.5


def test_missing_file_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_heart_disease(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / "heart_disease" / "processed.cleveland.data") in message
    assert "archive.ics.uci.edu" in message and "SKDA_DATA" in message


def test_download_is_used_only_when_a_file_is_missing(tmp_path, monkeypatch):
    source = tmp_path / "upstream"
    source.mkdir()
    rows = "63.0,1.0,1.0,145.0,233.0,1.0,2.0,150.0,0.0,2.3,3.0,0.0,6.0,0\n" * 200
    (source / "processed.va.data").write_text(rows)
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return open(source / url.rsplit("/", 1)[1], "rb")

    monkeypatch.setattr(_base.urllib.request, "urlopen", fake_urlopen)
    heart = fetch_heart_disease(data_home=tmp_path / "home", sites=["va"])
    assert calls == ["https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease/"
                     "processed.va.data"]
    assert heart.data.shape == (200, 13)
    fetch_heart_disease(data_home=tmp_path / "home", sites=["va"])  # now on disk
    assert len(calls) == 1


def test_a_wrong_file_is_refused(tmp_path):
    folder = tmp_path / "heart_disease"
    folder.mkdir()
    (folder / "processed.va.data").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="not the UCI file"):
        fetch_heart_disease(data_home=tmp_path, sites=["va"], download_if_missing=False)


def test_bad_sites_are_refused(tmp_path):
    with pytest.raises(ValueError, match="sites must be"):
        fetch_heart_disease(data_home=tmp_path, sites=["boston"])


@needs_data
def test_shared_files_are_the_documented_ones(tmp_path):
    # the sha256 prefixes listed in the data's SOURCE.md: the loader reads those bytes
    expected = {"cleveland": "0a2c5831f337432d", "hungarian": "d1ad108f785768cd",
                "switzerland": "834a405ccf5b66ab", "va": "e7c93d8d0d2acdad"}
    for site, digest in expected.items():
        path = Path(SHARED) / "heart_disease" / f"processed.{site}.data"
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] == digest
    shutil.copytree(Path(SHARED) / "heart_disease", tmp_path / "heart_disease")
    assert fetch_heart_disease(data_home=tmp_path, download_if_missing=False).data.shape[0] == 920
