"""Images as rows of X that are decoded when a batch needs them: files on disk, or a Dataset."""

import numbers
import os
from pathlib import Path

import numpy as np
import torch

#: file name endings :func:`load_image_folder` takes as images (lower case)
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                    ".pgm")


def decode_image(path):
    """The image file ``path`` as a PIL image: greyscale (``"L"``) and RGB kept, others to RGB."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow comes with the test extras
        raise ImportError(
            "Reading image files needs Pillow: pip install pillow (or skda's [images] "
            "extra).") from exc
    with Image.open(path) as image:
        image.load()
        return image if image.mode in ("L", "RGB") else image.convert("RGB")


def to_float_image(image):
    """A PIL image as a float32 tensor ``(channels, height, width)`` in [0, 1].

    torchvision's ``ToImage()`` followed by ``ToDtype(torch.float32,
    scale=True)``, without torchvision.
    """
    return as_float_images(to_pixels(image))


def to_pixels(image):
    """A PIL image as a uint8 tensor ``(channels, height, width)`` (torchvision's ``ToImage``)."""
    pixels = torch.from_numpy(np.array(image, dtype=np.uint8, copy=True))
    return pixels[None] if pixels.ndim == 2 else pixels.permute(2, 0, 1)


def as_float_images(batch):
    """A batch of images as float32: uint8 pixels scaled to [0, 1] (``ToDtype(scale=True)``)."""
    if batch.dtype == torch.uint8:
        return batch.float().div_(255.0)
    return batch if batch.dtype == torch.float32 else batch.float()


def _as_image_tensor(value, where):
    """A transform's (or Dataset's) output as a tensor ``(channels, height, width)``.

    uint8 stays uint8 (4x less to pass from a worker and to copy to the
    device; :func:`as_float_images` scales it there); other dtypes become float32.
    """
    if isinstance(value, (tuple, list)):  # a Dataset of (image, label, ...) items
        value = value[0]
    if not isinstance(value, torch.Tensor):
        if hasattr(value, "mode") and hasattr(value, "size"):  # a PIL image
            value = to_pixels(value)
        else:
            value = torch.as_tensor(np.asarray(value))
    if value.ndim == 2:
        value = value[None]
    if value.ndim != 3:
        raise ValueError(
            f"{where} gave an image of shape {tuple(value.shape)}; an image must be "
            "(channels, height, width) (or (height, width)).")
    return value if value.dtype in (torch.uint8, torch.float32) else value.float()


class _Decoded(torch.utils.data.Dataset):
    """The rows of an :class:`ImageRows` as a map-style Dataset (what DataLoader workers read)."""

    def __init__(self, rows, transform):
        self.rows = rows
        self.transform = transform

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows._load(int(i), self.transform)


def stack_images(images):
    """Collate a batch of images of one shape; a different shape is a ``ValueError``."""
    shape = images[0].shape
    for image in images[1:]:
        if image.shape != shape:
            raise ValueError(
                f"Images in one batch have different shapes, {tuple(shape)} and "
                f"{tuple(image.shape)}: all images must have one shape. Give ImageRows a "
                "transform that resizes them (e.g. torchvision.transforms.v2.Resize).")
    return torch.stack(images)


class ImageRows:
    """Images as the rows of X, decoded batch by batch while the network trains.

    Pass it (or a plain list or 1-D array of file paths, which becomes one
    with the defaults) as ``X`` to any skda estimator: ``fit`` and
    ``predict`` read the images of each batch only, in ``num_workers``
    DataLoader worker processes, so a data set larger than memory trains
    as well as a small one. It behaves as an array of shape ``(n_images,
    channels, height, width)`` where scikit-learn needs one: indexing it
    with rows gives another ``ImageRows`` (no image is read), so it works
    in ``Pipeline``, ``GridSearchCV``, ``cross_validate`` and
    :class:`~skda.model_selection.LeaveOneDomainOut`. Converting it to a
    numpy array is refused, so that the images are never read into memory
    at once by accident.

    Parameters
    ----------
    source : sequence of str or path-like, or torch.utils.data.Dataset
        Image files (PNG, JPEG, ... anything Pillow reads), or a map-style
        Dataset whose items are images (a tensor ``(channels, height,
        width)``, a PIL image, or a tuple whose first entry is one, as
        torchvision's data sets give). Each file is decoded with Pillow:
        greyscale stays one channel, colour images become RGB.
    transform : callable or None, default=None
        Applied to each image in prediction, and in training unless
        ``train_transform`` is given: it receives the PIL image (the tensor
        or item of a Dataset) and returns a tensor ``(channels, height,
        width)``, as a torchvision transform pipeline does (e.g.
        ``v2.Compose([v2.Resize(256), v2.CenterCrop(224), v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)])``).
        ``None``: the image as a float32 tensor in [0, 1] (torchvision's
        ``ToImage`` + ``ToDtype(scale=True)``, the pixels passed as uint8
        and scaled on the training device); all images must then have one
        shape. A transform that returns uint8 pixels gets the same scaling.
    train_transform : callable or None, default=None
        Used instead of ``transform`` on training images: the place for
        random augmentations (crops, flips, colour jitter). ``None``:
        ``transform``. It must give images of the shape ``transform``
        gives.
    num_workers : int, default=0
        DataLoader worker processes that decode the images while the
        network trains; 0 decodes them in the training process.

    Attributes
    ----------
    shape : tuple of int
        ``(n_images, channels, height, width)``, the image shape read from
        the first image (through ``transform``).

    See Also
    --------
    load_image_folder : Paths, labels and domains from a folder per domain.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skda.datasets import ImageRows
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i in range(3):
    ...     Image.fromarray(np.full((8, 8), 40 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    >>> X = ImageRows(sorted(folder.glob("*.png")))
    >>> X.shape
    (3, 1, 8, 8)
    >>> X[[0, 2]].shape
    (2, 1, 8, 8)
    """

    ndim = 4

    def __init__(self, source, transform=None, train_transform=None, num_workers=0):
        if isinstance(source, torch.utils.data.Dataset):
            self._files = None
            self._dataset = source
            n = len(source)
        else:
            if isinstance(source, (str, bytes, os.PathLike)) or not hasattr(source, "__len__"):
                raise TypeError(
                    "source must be a sequence of image paths or a torch Dataset of images, "
                    f"got {type(source).__name__}.")
            files = np.asarray([os.fspath(p) for p in np.asarray(source, dtype=object).ravel()],
                               dtype=object)
            if np.ndim(source) != 1:
                raise ValueError(
                    f"source must be 1-D, one image path per row; got shape {np.shape(source)}.")
            self._files = files
            self._dataset = None
            n = len(files)
        for name, value in (("transform", transform), ("train_transform", train_transform)):
            if value is not None and not callable(value):
                raise TypeError(f"{name} must be callable or None, got {type(value).__name__}.")
        if (not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool)
                or num_workers < 0):
            raise ValueError(f"num_workers must be an int >= 0, got {num_workers!r}.")
        self.transform = transform
        self.train_transform = train_transform
        self.num_workers = int(num_workers)
        self._index = np.arange(n)
        self._image_shape = None

    # -- an array of rows ----------------------------------------------------------------

    @property
    def files(self):
        """The paths of the rows (None for a Dataset source)."""
        return None if self._files is None else self._files[self._index]

    @property
    def shape(self):
        if self._image_shape is None:
            if not len(self):
                raise ValueError("ImageRows holds no image: its shape is unknown.")
            self._image_shape = tuple(self._load(0, self.transform).shape)
        return (len(self), *self._image_shape)

    def __len__(self):
        return len(self._index)

    def __getitem__(self, key):
        if isinstance(key, tuple):  # scikit-learn indexes arrays as X[rows, ...]
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError("ImageRows is indexed by rows only.")
        if isinstance(key, numbers.Integral):
            return as_float_images(self._load(int(key), self.transform))
        subset = object.__new__(type(self))
        subset.__dict__.update(self.__dict__)
        subset._index = self._index[key]
        return subset

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "ImageRows is not converted to a numpy array: that would read every image into "
            "memory at once. skda's estimators take it as it is; index it for rows "
            "(X[rows]) or read one image with X[i].")

    def __repr__(self):
        what = "files" if self._files is not None else type(self._dataset).__name__
        return f"ImageRows({len(self)} images from {what})"

    # -- reading -------------------------------------------------------------------------

    def _load(self, i, transform):
        row = self._index[i]
        if self._files is not None:
            where = f"image {self._files[row]!r}"
            try:
                image = decode_image(self._files[row])
            except (OSError, ValueError) as exc:
                raise ValueError(f"Cannot read {where}: {exc}") from exc
        else:
            where = f"item {row} of the Dataset"
            image = self._dataset[int(row)]
            if isinstance(image, (tuple, list)):
                image = image[0]
        if transform is not None:
            image = transform(image)
            where += " after the transform"
        return _as_image_tensor(image, where)

    def loader(self, batch_sampler=None, batch_size=None, training=False, pin_memory=False,
               seed=0):
        """A DataLoader of image batches: ``batch_sampler``'s row lists, else rows in order.

        Batches of images without a transform come as uint8 (pass them
        through :func:`as_float_images`). A loader with a batch sampler keeps
        its workers between passes (the sampler may give new rows each
        pass): one fit starts its workers once.
        """
        transform = self.train_transform if training and self.train_transform else self.transform
        kwargs = dict(num_workers=self.num_workers, pin_memory=pin_memory,
                      collate_fn=stack_images,
                      # worker seeds (random transforms) follow the fit's seed alone
                      generator=torch.Generator().manual_seed(int(seed)))
        dataset = _Decoded(self, transform)
        if batch_sampler is not None:
            return torch.utils.data.DataLoader(
                dataset, batch_sampler=batch_sampler,
                persistent_workers=self.num_workers > 0, **kwargs)
        return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False,
                                           **kwargs)


def is_image_source(X):
    """Whether ``X`` is images to read on demand: ImageRows, a Dataset, or 1-D paths."""
    if isinstance(X, (ImageRows, torch.utils.data.Dataset)):
        return True
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or hasattr(X, "iloc"):
        return False
    if isinstance(X, np.ndarray):
        if X.ndim != 1 or X.dtype.kind not in "UO" or not len(X):
            return False
        first = X[0]
    elif isinstance(X, (list, tuple)):
        if not X or not all(isinstance(p, (str, os.PathLike)) for p in X):
            return False
        first = X[0]
    else:
        return False
    return isinstance(first, (str, os.PathLike))


def as_image_rows(X):
    """``X`` as :class:`ImageRows` (a Dataset or paths wrapped with the defaults)."""
    return X if isinstance(X, ImageRows) else ImageRows(X)


def load_image_folder(root, domains=None, extensions=IMAGE_EXTENSIONS):
    """Image paths, labels and domains from a folder per domain with a subfolder per class.

    The layout of Office-31, OfficeHome, PACS, DomainNet and most site-wise
    medical image sets::

        root/<domain>/<class>/<image file>

    No image is read: ``X`` holds the paths, which skda's estimators (and
    :class:`ImageRows`, for a transform) decode batch by batch.

    Parameters
    ----------
    root : str or path-like
        The folder that holds one folder per domain.
    domains : list of str or None, default=None
        The domain folders to take, in this order; ``None``: every folder
        in ``root``, sorted by name.
    extensions : tuple of str, default=IMAGE_EXTENSIONS
        File name endings taken as images (case-insensitive).

    Returns
    -------
    X : ndarray of str, shape (n_images,)
        Image paths, domain by domain, class by class, file names sorted.
    y : ndarray of str, shape (n_images,)
        Class of each image (its class folder's name).
    domains : ndarray of str, shape (n_images,)
        Domain of each image (its domain folder's name).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from skda.datasets import load_image_folder
    >>> root = Path(tempfile.mkdtemp())
    >>> for site in ("site_a", "site_b"):
    ...     for label in ("benign", "malignant"):
    ...         (root / site / label).mkdir(parents=True)
    ...         Image.new("L", (8, 8)).save(root / site / label / "0.png")
    >>> X, y, domains = load_image_folder(root)
    >>> y.tolist(), domains.tolist()
    (['benign', 'malignant', 'benign', 'malignant'], ['site_a', 'site_a', 'site_b', 'site_b'])
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"root={str(root)!r} is not a folder.")
    if domains is None:
        domains = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not len(domains):
        raise ValueError(f"{root} holds no domain folder (expected root/<domain>/<class>/).")
    endings = tuple(e.lower() for e in extensions)
    paths, labels, names = [], [], []
    for domain in domains:
        folder = root / domain
        if not folder.is_dir():
            raise FileNotFoundError(f"domain folder {str(folder)!r} does not exist.")
        classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
        if not classes:
            raise ValueError(
                f"domain folder {str(folder)!r} holds no class folder (expected "
                "root/<domain>/<class>/<image>).")
        for label in classes:
            files = sorted(p for p in (folder / label).iterdir()
                           if p.is_file() and p.suffix.lower() in endings)
            paths += [str(p) for p in files]
            labels += [label] * len(files)
            names += [domain] * len(files)
    if not paths:
        raise ValueError(f"no image files ({', '.join(endings)}) under {root}.")
    return np.array(paths), np.array(labels), np.array(names)
