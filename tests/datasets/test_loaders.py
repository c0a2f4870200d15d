"""Loaders of real data read SKDA_DATA (CI: ../shared/data) and never touch the network."""

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skda.datasets import (
    _base,
    fetch_amazon_reviews,
    fetch_heart_disease,
    fetch_mnist_usps,
    fetch_wine_quality,
    get_data_home,
)

SHARED = os.environ.get("SKDA_DATA")


def needs(folder):
    """Skip unless SKDA_DATA points at shared data holding ``folder``."""
    return pytest.mark.skipif(
        not SHARED or not (Path(SHARED) / folder).is_dir(),
        reason=f"SKDA_DATA does not point at the shared data with {folder}/ (the README's "
               "test command sets it)")


needs_data = needs("heart_disease")


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


@needs_data
def test_heart_disease_return_x_y_domains_is_return_x_y():
    new = fetch_heart_disease(download_if_missing=False, sites="va", return_X_y_domains=True)
    old = fetch_heart_disease(download_if_missing=False, sites="va", return_X_y=True)
    for a, b in zip(new, old, strict=True):
        np.testing.assert_array_equal(a, b)


# MNIST/USPS, Amazon reviews, wine quality: the counts are those of each folder's SOURCE.md

MNIST_DIGITS = [196, 227, 207, 202, 196, 179, 191, 206, 195, 201]
USPS_DIGITS = [352, 241, 165, 166, 166, 126, 139, 172, 129, 144]


@needs("mnist_usps_jda")
def test_mnist_usps_matches_its_source_description():
    digits = fetch_mnist_usps(download_if_missing=False)
    assert digits.data.shape == (3800, 256) and digits.data.dtype == np.float32
    assert digits.data.min() == 0 and digits.data.max() <= 1
    assert digits.domain_names == ["mnist", "usps"]
    assert set(np.unique(digits.target)) == set(range(10))
    for domain, rows, counts in [("mnist", 2000, MNIST_DIGITS), ("usps", 1800, USPS_DIGITS)]:
        here = digits.domains == domain
        assert here.sum() == rows
        assert np.bincount(digits.target[here], minlength=10).tolist() == counts
    # the files' label k is digit k-1: MNIST's row 0 shows a 0, USPS's a 6
    assert digits.target[0] == 0 and digits.target[2000] == 6
    assert "Long" in digits.DESCR and "shuffle" in digits.DESCR


@needs("mnist_usps_jda")
def test_mnist_usps_images_subsets_and_x_y():
    flat = fetch_mnist_usps(download_if_missing=False, domains=["usps", "mnist"])
    assert flat.domain_names == ["usps", "mnist"]
    assert (flat.domains[:1800] == "usps").all() and (flat.domains[1800:] == "mnist").all()
    assert flat.target[0] == 6 and flat.target[1800] == 0
    X, y, d = fetch_mnist_usps(download_if_missing=False, domains="usps", images=True,
                               return_X_y_domains=True)
    assert X.shape == (1800, 1, 16, 16) and X.dtype == np.float32
    np.testing.assert_array_equal(X.reshape(1800, 256), flat.data[:1800])
    assert y.tolist() == flat.target[:1800].tolist() and set(d) == {"usps"}


@needs("amazon_review_400")
def test_amazon_reviews_match_their_source_description():
    reviews = fetch_amazon_reviews(download_if_missing=False)
    assert reviews.data.shape == (7996, 400)
    assert reviews.domain_names == ["books", "dvd", "electronics", "kitchen"]
    np.testing.assert_allclose(reviews.data.sum(axis=1), 1, atol=1e-12)  # L1-normalised rows
    assert reviews.data.min() >= 0
    for domain, rows, negatives in [("books", 2000, 1000), ("dvd", 1999, 1000),
                                    ("electronics", 1998, 1000), ("kitchen", 1999, 1000)]:
        y = reviews.target[reviews.domains == domain]
        assert len(y) == rows and (y == 0).sum() == negatives and (y == 1).sum() == rows - negatives
        assert (np.diff(y) <= 0).all()  # sorted by class, positives first: DESCR says shuffle
    assert "shuffle" in reviews.DESCR and "Blitzer" in reviews.DESCR


@needs("amazon_review_400")
def test_amazon_reviews_subsets_and_x_y():
    X, y, d = fetch_amazon_reviews(download_if_missing=False, domains=["kitchen", "books"],
                                   return_X_y_domains=True)
    assert X.shape == (3999, 400) and d[0] == "kitchen" and d[-1] == "books"
    assert (d == "kitchen").sum() == 1999 and y.sum() == 999 + 1000


@needs("wine_quality")
def test_wine_quality_matches_its_source_description():
    wine = fetch_wine_quality(download_if_missing=False)
    assert wine.data.shape == (6497, 11) and len(wine.feature_names) == 11
    assert wine.feature_names[0] == "fixed acidity" and wine.feature_names[-1] == "alcohol"
    assert wine.domain_names == ["red", "white"]
    np.testing.assert_array_equal(wine.target, wine.quality)
    expected = {"red": (1599, {3: 10, 4: 53, 5: 681, 6: 638, 7: 199, 8: 18}),
                "white": (4898, {3: 20, 4: 163, 5: 1457, 6: 2198, 7: 880, 8: 175, 9: 5})}
    for domain, (rows, counts) in expected.items():
        here = wine.domains == domain
        assert here.sum() == rows
        scores, n = np.unique(wine.target[here], return_counts=True)
        assert dict(zip(scores.tolist(), n.tolist(), strict=True)) == counts
    sugar = wine.data[:, wine.feature_names.index("residual sugar")]
    assert round(sugar[wine.domains == "red"].mean(), 2) == 2.54
    assert "Cortez" in wine.DESCR


@needs("wine_quality")
def test_wine_quality_binary_frames_and_subsets():
    wine = fetch_wine_quality(download_if_missing=False, binary=True)
    assert set(np.unique(wine.target)) == {0, 1}
    assert wine.target[wine.domains == "red"].sum() == 217
    assert wine.target[wine.domains == "white"].sum() == 1060
    np.testing.assert_array_equal(wine.target, (wine.quality >= 7).astype(int))
    X, y, d = fetch_wine_quality(download_if_missing=False, domains=["white", "red"],
                                 as_frame=True, return_X_y_domains=True)
    assert isinstance(X, pd.DataFrame) and list(X.columns) == wine.feature_names
    assert isinstance(y, pd.Series) and isinstance(d, pd.Series)
    assert d.unique().tolist() == ["white", "red"] and len(X) == 6497
    assert y.iloc[0] == 6  # white's first wine; the score, as binary is off


@pytest.mark.parametrize("folder, digests", [
    ("mnist_usps_jda", {"MNIST.mat": "f298468ad5abe79e", "USPS.mat": "cd3a1cac39f7f378"}),
    ("amazon_review_400", {"books_400.mat": "7a53b54f0c0e81e7", "dvd_400.mat": "13a71d399f9c7ae5",
                           "elec_400.mat": "f1dd6e01c1eed956",
                           "kitchen_400.mat": "b1f4e5ddfbd7b37a"}),
    ("wine_quality", {"winequality-red.csv": "4a402cf041b025d4",
                      "winequality-white.csv": "76c3f809815c17c0"}),
])
def test_new_shared_files_are_the_documented_ones(folder, digests):
    if not SHARED or not (Path(SHARED) / folder).is_dir():
        pytest.skip(f"SKDA_DATA does not point at the shared data with {folder}/")
    for name, digest in digests.items():
        path = Path(SHARED) / folder / name
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] == digest


# offline tests on small files written here, one fake upstream per loader

WINE_HEADER = ('"fixed acidity";"volatile acidity";"citric acid";"residual sugar";"chlorides";'
               '"free sulfur dioxide";"total sulfur dioxide";"density";"pH";"sulphates";'
               '"alcohol";"quality"\n')


def write_mat(path, rows, features, label):
    import scipy.io

    fts = np.zeros((rows, features))
    fts[:, 0] = 1.0
    scipy.io.savemat(path, {"fts": fts, "labels": np.full((rows, 1), label, dtype=np.uint8)},
                     do_compression=True)


def write_wine(path, rows, quality=7):
    path.write_text(WINE_HEADER + f"7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4;{quality}\n"
                    * rows)


LOADERS = {  # loader, its folder, the domain tested, its file, its URL, a writer of a valid file
    "mnist_usps": (
        fetch_mnist_usps, "mnist_usps_jda", "usps", "USPS.mat",
        "https://raw.githubusercontent.com/quanxl97/MDTL/a69cd4b05e25ec8c4f5f34dc423f051988afef7a"
        "/data/MNIST_USPS/USPS.mat", lambda path: write_mat(path, 1800, 256, 7)),
    "amazon": (
        fetch_amazon_reviews, "amazon_review_400", "electronics", "elec_400.mat",
        "https://raw.githubusercontent.com/scikit-adaptation/skada-bench/"
        "412086733bf9bd716cd7b48a07561770aa5cc9bf/data/amazon_review/elec_400.mat",
        lambda path: write_mat(path, 1998, 400, 1)),
    "wine": (
        fetch_wine_quality, "wine_quality", "white", "winequality-white.csv",
        "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/"
        "winequality-white.csv", lambda path: write_wine(path, 4898)),
}
each_loader = pytest.mark.parametrize("loader", LOADERS)


@each_loader
def test_new_loaders_download_only_a_missing_file(loader, tmp_path, monkeypatch):
    fetch, folder, domain, name, url, write = LOADERS[loader]
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    write(upstream / name)
    calls = []

    def fake_urlopen(url, timeout):
        calls.append(url)
        return open(upstream / url.rsplit("/", 1)[1], "rb")

    monkeypatch.setattr(_base.urllib.request, "urlopen", fake_urlopen)
    home = tmp_path / "home"
    data = fetch(data_home=home, domains=[domain])
    assert calls == [url]
    assert [p.name for p in (home / folder).iterdir()] == [name]  # final name, no temp file
    assert (home / folder / name).read_bytes() == (upstream / name).read_bytes()
    assert data.domain_names == [domain] and set(data.domains) == {domain}
    assert {"mnist_usps": 6, "amazon": 1, "wine": 7}[loader] == data.target[0]
    fetch(data_home=home, domains=[domain])  # now on disk
    assert len(calls) == 1


@each_loader
def test_new_loaders_missing_file_says_where_and_how(loader, tmp_path):
    fetch, folder, domain, name, url, _ = LOADERS[loader]
    with pytest.raises(FileNotFoundError) as info:
        fetch(data_home=tmp_path, domains=[domain], download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path / folder / name) in message
    assert url in message and "SKDA_DATA" in message


@each_loader
def test_new_loaders_refuse_a_wrong_file(loader, tmp_path):
    fetch, folder, domain, name, _, _ = LOADERS[loader]
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / name
    if name.endswith(".mat"):
        write_mat(path, 10, 256, 1)  # too few rows
    else:
        write_wine(path, 10)
    with pytest.raises(ValueError, match="Delete it to download it again"):
        fetch(data_home=tmp_path, domains=[domain], download_if_missing=False)
    path.write_bytes(b"not a file of this data set\n")
    with pytest.raises(ValueError, match="Delete it to download it again"):
        fetch(data_home=tmp_path, domains=[domain], download_if_missing=False)


def test_mat_labels_out_of_range_are_refused(tmp_path):
    (tmp_path / "mnist_usps_jda").mkdir()
    write_mat(tmp_path / "mnist_usps_jda" / "USPS.mat", 1800, 256, 0)  # labels are 1..10
    with pytest.raises(ValueError, match="labels"):
        fetch_mnist_usps(data_home=tmp_path, domains="usps", download_if_missing=False)


@pytest.mark.parametrize("fetch, valid", [
    (fetch_mnist_usps, "'mnist', 'usps'"),
    (fetch_amazon_reviews, "'books', 'dvd', 'electronics', 'kitchen'"),
    (fetch_wine_quality, "'red', 'white'"),
])
@pytest.mark.parametrize("domains", [["rose"], [], ["red", "red", "usps", "usps", "dvd", "dvd"]])
def test_new_loaders_refuse_bad_domains(fetch, valid, domains, tmp_path):
    with pytest.raises(ValueError, match="domains must be") as info:
        fetch(data_home=tmp_path, domains=domains)
    assert valid in str(info.value)
