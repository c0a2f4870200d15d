"""Images as rows of X: ImageRows (files or a Dataset), load_image_folder, uint8 arrays."""

import pickle

import numpy as np
import pytest
import torch
from helpers import TINY_IMAGES
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from skda import ERMClassifier
from skda.datasets import ImageRows, load_image_folder
from skda.datasets import _images as images_module
from skda.model_selection import LeaveOneDomainOut

PIL = pytest.importorskip("PIL.Image")


def _as_uint8(X):
    """make_shifted_digits' [0, 1] images as uint8 pixels."""
    return np.round(X * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory, digit_images):
    """The two-domain digits written as PNG files, root/<domain>/<class>/<n>.png."""
    X, y, d = digit_images
    pixels = _as_uint8(X)
    root = tmp_path_factory.mktemp("digits")
    for i, (image, label, domain) in enumerate(zip(pixels, y, d, strict=True)):
        folder = root / f"rot{domain:02d}" / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        PIL.fromarray(image[0]).save(folder / f"{i:05d}.png")
    paths, labels, domains = load_image_folder(root)
    # the array the files hold, in load_image_folder's order
    order = [int(p.rsplit("/", 1)[1][:5]) for p in paths]
    return paths, labels.astype(int), domains, pixels[order]


def test_load_image_folder_reads_the_layout(digit_folder, digit_images):
    paths, labels, domains, pixels = digit_folder
    X, y, d = digit_images
    assert len(paths) == len(X)
    assert sorted(np.unique(domains)) == ["rot00", "rot45"]
    order = [int(p.rsplit("/", 1)[1][:5]) for p in paths]
    np.testing.assert_array_equal(labels, y[order])


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no domain folder"):
        load_image_folder(tmp_path)
    (tmp_path / "site").mkdir()
    with pytest.raises(ValueError, match="no class folder"):
        load_image_folder(tmp_path)
    (tmp_path / "site" / "a").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        load_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="other"):
        load_image_folder(tmp_path, domains=["other"])


def test_image_rows_behaves_as_an_array_of_rows(digit_folder):
    paths, *_, pixels = digit_folder
    X = ImageRows(paths)
    assert X.shape == (len(paths), 1, 8, 8) and X.ndim == 4 and len(X) == len(paths)
    sub = X[np.array([3, 1])]
    assert isinstance(sub, ImageRows) and sub.shape == (2, 1, 8, 8)
    np.testing.assert_array_equal(sub.files, paths[[3, 1]])
    assert isinstance(X[5:9], ImageRows) and len(X[5:9]) == 4
    assert isinstance(X[np.arange(len(X)) < 3, ...], ImageRows)  # scikit-learn's indexing
    # one image: float32 in [0, 1], torchvision's ToImage + ToDtype(scale=True)
    torch.testing.assert_close(X[3], torch.from_numpy(pixels[3]).float() / 255)
    with pytest.raises(TypeError, match="read every image"):
        np.asarray(X)
    with pytest.raises(IndexError, match="rows only"):
        X[0, 0]
    assert "ImageRows(" in repr(X)


def test_image_rows_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="source"):
        ImageRows("one_path.png")
    with pytest.raises(ValueError, match="1-D"):
        ImageRows(np.array([["a.png", "b.png"]]))
    with pytest.raises(TypeError, match="transform must be callable"):
        ImageRows(["a.png"], transform="resize")
    with pytest.raises(ValueError, match="num_workers"):
        ImageRows(["a.png"], num_workers=-1)
    with pytest.raises(ValueError, match="Cannot read image"):
        _ = ImageRows([tmp_path / "missing.png"]).shape


def test_transform_gives_the_shape_and_train_transform_is_for_training(digit_folder):
    paths, *_ = digit_folder

    def to_16(image):
        return torch.nn.functional.interpolate(
            images_module.to_float_image(image)[None], size=(16, 16))[0]

    calls = []

    def noisy(image):
        calls.append(1)
        return to_16(image)

    X = ImageRows(paths, transform=to_16, train_transform=noisy)
    assert X.shape[1:] == (1, 16, 16)
    clf = ERMClassifier(**{**TINY_IMAGES, "max_epochs": 1}).fit(X, digit_folder[1])
    assert clf.input_shape_ == (1, 16, 16) and calls  # training read through train_transform
    n_calls = len(calls)
    clf.predict(X)
    assert len(calls) == n_calls  # prediction did not


def test_images_of_different_shapes_are_refused(tmp_path):
    for i, size in enumerate([(8, 8), (8, 8), (9, 8)]):
        PIL.fromarray(np.zeros(size, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    X = ImageRows(sorted(tmp_path.glob("*.png")))
    with pytest.raises(ValueError, match="different shapes"):
        ERMClassifier(**{**TINY_IMAGES, "batch_size": 3}).fit(X, [0, 1, 0])


def test_fit_from_files_equals_fit_from_the_array(digit_folder):
    # the files decode to pixels / 255 exactly, so one seed gives one model
    paths, labels, domains, pixels = digit_folder
    as_array = ERMClassifier(**TINY_IMAGES).fit(pixels.astype(np.float32) / 255, labels, domains)
    from_files = ERMClassifier(**TINY_IMAGES).fit(paths, labels, domains)
    expected = as_array.predict_proba(pixels.astype(np.float32) / 255)
    np.testing.assert_array_equal(from_files.predict_proba(paths), expected)
    # decoded by two worker processes: the same model again
    workers = ImageRows(paths, num_workers=2)
    np.testing.assert_array_equal(
        ERMClassifier(**TINY_IMAGES).fit(workers, labels, domains).predict_proba(workers),
        expected)


class _CountReads:
    def __init__(self, monkeypatch):
        self.n = 0
        decode = images_module.decode_image

        def counting(path):
            self.n += 1
            return decode(path)

        monkeypatch.setattr(images_module, "decode_image", counting)


class _ReadsAtFirstBatch(Callback):
    """Records how many files had been read when the first training batch began."""

    def __init__(self, count):
        self.count = count  # a function: the callback is deep-copied at fit, functions are not
        self.reads = None

    def on_batch_begin(self, net, training=False, **kwargs):
        if training and self.reads is None:
            self.reads = self.count()


class _TrainingDtype(Callback):
    """Records the dtype of the training X the engine batches from."""

    def __init__(self):
        self.dtypes = []

    def on_train_begin(self, net, X=None, **kwargs):
        self.dtypes.append(X.X.dtype)


def test_files_are_read_batch_by_batch_not_all_at_once(digit_folder, monkeypatch):
    paths, labels, domains, _ = digit_folder
    counter = _CountReads(monkeypatch)
    X = ImageRows(paths)
    assert X.shape and counter.n == 1  # the shape: one image read
    clf = ERMClassifier(**{**TINY_IMAGES, "max_epochs": 1, "batch_size": 32},
                        callbacks=[("probe", _ReadsAtFirstBatch(lambda: counter.n))])
    clf.fit(X, labels, domains)
    # by the first step: the shape's image and one batch, not the data set
    assert dict(clf.net_.callbacks_)["probe"].reads <= 1 + 32 < len(paths)


def test_uint8_images_stay_uint8_and_train_as_float32_does(digit_images):
    X, y, d = digit_images
    pixels = _as_uint8(X)
    uint8 = ERMClassifier(**TINY_IMAGES, callbacks=[("probe", _TrainingDtype())])
    uint8.fit(pixels, y, d)
    # not cast to float32 before batching
    assert dict(uint8.net_.callbacks_)["probe"].dtypes == [torch.uint8]
    as_float = ERMClassifier(**TINY_IMAGES).fit(pixels.astype(np.float32), y, d)
    np.testing.assert_array_equal(uint8.predict_proba(pixels),
                                  as_float.predict_proba(pixels.astype(np.float32)))
    assert pixels.dtype == np.uint8  # the caller's array untouched
    np.testing.assert_array_equal(pixels, _as_uint8(X))


def test_a_torch_dataset_is_a_source(digit_images):
    X, y, d = digit_images
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    clf = ERMClassifier(**TINY_IMAGES).fit(dataset, y, d)
    expected = ERMClassifier(**TINY_IMAGES).fit(X, y, d).predict_proba(X)
    np.testing.assert_array_equal(clf.predict_proba(dataset), expected)


def test_paths_in_pipeline_search_and_pickle(digit_folder):
    paths, labels, domains, _ = digit_folder
    search = GridSearchCV(
        ERMClassifier(**{**TINY_IMAGES, "max_epochs": 1}), {"lr": [1e-3, 1e-2]},
        cv=LeaveOneDomainOut(), error_score="raise")
    search.fit(paths, labels, groups=domains, domains=domains)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    scores = cross_val_score(make_pipeline(ERMClassifier(**{**TINY_IMAGES, "max_epochs": 1})),
                             list(paths), labels, groups=domains, cv=LeaveOneDomainOut())
    assert np.isfinite(scores).all()
    clf = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(clf.predict(paths), search.best_estimator_.predict(paths))


def test_shape_mismatch_at_prediction(digit_folder, tmp_path):
    paths, labels, domains, _ = digit_folder
    clf = ERMClassifier(**{**TINY_IMAGES, "max_epochs": 1}).fit(paths, labels, domains)
    PIL.fromarray(np.zeros((9, 9), dtype=np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(ValueError, match="shape"):
        clf.predict([tmp_path / "big.png"])
    with pytest.raises(ValueError, match="images"):
        clf.predict(np.zeros((2, 64), dtype=np.float32))
