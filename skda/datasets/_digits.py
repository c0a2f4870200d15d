"""Shifted digits: scikit-learn's bundled 8x8 digits split into rotation or style domains."""

import numbers

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.utils import check_random_state

ROTATIONS = (0, 15, 30, 45, 60, 75)

# name: (digit colour, background colour, background texture)
STYLES = {
    "gray": ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), None),
    "red": ((1.0, 0.25, 0.25), (0.1, 0.1, 0.35), None),
    "stripes": ((0.3, 1.0, 0.3), (0.6, 0.6, 0.6), "stripes"),
    "checker": ((0.3, 0.5, 1.0), (0.9, 0.8, 0.3), "checker"),
    "inverted": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), None),
    "noise": ((1.0, 1.0, 0.4), (0.7, 0.7, 0.7), "noise"),
}


def make_shifted_digits(shift="rotation", domains=None, random_state=None):
    """Handwritten digits in domains that differ by rotation or by colour and texture.

    The 1,797 8x8 digit images bundled with scikit-learn (no download) are
    shuffled and dealt into disjoint, equal-sized domains (as DomainBed
    builds RotatedMNIST), then each domain is transformed:

    * ``shift="rotation"``: rotated by the domain's angle in degrees,
      counter-clockwise, bilinear, one channel. The default angles 0, 15,
      30, 45, 60 and 75 are RotatedMNIST's.
    * ``shift="style"``: rendered in RGB with the domain's digit colour,
      background colour and background texture: ``"gray"`` (white on
      black), ``"red"`` (red on dark blue), ``"stripes"`` (green on grey
      stripes), ``"checker"`` (blue on a yellow checkerboard),
      ``"inverted"`` (black on white) and ``"noise"`` (yellow on random
      grey noise). The shapes stay the same; only style changes, the shift
      style-agnostic networks target.

    Pixel values are in ``[0, 1]``.

    Parameters
    ----------
    shift : {"rotation", "style"}, default="rotation"
        Kind of domain shift.
    domains : sequence or None, default=None
        The domains to make: angles (numbers) for ``"rotation"``, style
        names for ``"style"``. ``None``: all six of the kind.
    random_state : int, RandomState instance or None, default=None
        Seeds the dealing of images to domains and the noise texture.

    Returns
    -------
    X : ndarray of float32 of shape (1797, channels, 8, 8)
        Images; 1 channel for rotation, 3 (RGB) for style.
    y : ndarray of int64 of shape (1797,)
        Digit 0-9.
    domains : ndarray of shape (1797,)
        The domain of each image: its angle (int) or its style name (str).

    Examples
    --------
    >>> from skda.datasets import make_shifted_digits
    >>> X, y, domains = make_shifted_digits("rotation", random_state=0)
    >>> X.shape, sorted(set(domains.tolist()))
    ((1797, 1, 8, 8), [0, 15, 30, 45, 60, 75])
    >>> X, y, domains = make_shifted_digits("style", domains=["gray", "inverted"])
    >>> X.shape
    (1797, 3, 8, 8)
    """
    if shift == "rotation":
        names = list(ROTATIONS if domains is None else domains)
        for angle in names:
            if isinstance(angle, bool) or not isinstance(angle, numbers.Real):
                raise TypeError(f"rotation domains must be angles in degrees, got {angle!r}.")
    elif shift == "style":
        names = list(STYLES if domains is None else domains)
        unknown = [name for name in names if name not in STYLES]
        if unknown:
            raise ValueError(f"unknown style(s) {unknown}; choose from {list(STYLES)}.")
    else:
        raise ValueError(f"shift must be 'rotation' or 'style', got {shift!r}.")
    if not names or len(set(names)) != len(names):
        raise ValueError(f"domains must be a non-empty sequence of distinct values, got {names}.")
    rng = check_random_state(random_state)
    images, target, dealt = _deal_digits(len(names), rng)
    X, y, labels = [], [], []
    for name, rows in zip(names, dealt, strict=True):
        if shift == "rotation":
            X.append(_rotate(images[rows], name)[:, None])
        else:
            X.append(_render(images[rows], *STYLES[name], rng))
        y.append(target[rows])
        labels.append(np.full(len(rows), name))
    return (np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64),
            np.concatenate(labels))


def _deal_digits(n_domains, rng):
    """The bundled digits in [0, 1], their labels, and a shuffled deal into disjoint domains."""
    digits = load_digits()
    order = rng.permutation(len(digits.images))
    dealt = [order[k::n_domains] for k in range(n_domains)]
    return (digits.images / 16.0).astype(np.float32), digits.target, dealt


def _rotate(images, angle):
    rotated = ndimage.rotate(images, angle, axes=(2, 1), reshape=False, order=1,
                             mode="constant", cval=0.0)
    return np.clip(rotated, 0.0, 1.0)


def _render(images, foreground, background, texture, rng):
    """RGB images: digit ink in ``foreground`` over a ``background`` with ``texture``."""
    n, h, w = images.shape
    rows, cols = np.indices((h, w))
    if texture == "stripes":
        pattern = np.broadcast_to((rows % 2).astype(np.float32), (n, h, w))
    elif texture == "checker":
        pattern = np.broadcast_to(((rows + cols) % 2).astype(np.float32), (n, h, w))
    elif texture == "noise":
        pattern = rng.uniform(size=(n, h, w)).astype(np.float32)
    else:
        pattern = np.ones((n, h, w), dtype=np.float32)
    ink = images[:, None]
    fg = np.asarray(foreground, dtype=np.float32)[None, :, None, None]
    bg = np.asarray(background, dtype=np.float32)[None, :, None, None] * pattern[:, None]
    return ink * fg + (1.0 - ink) * bg


def make_colored_digits(correlations=(0.9, 0.9, 0.0), random_state=None):
    """Digits tinted with a colour that predicts the class, more or less, per domain.

    A spurious-correlation shift in the manner of DomainBed's ColoredMNIST,
    on scikit-learn's bundled 8x8 digits (no download). Each class gets an
    RGB colour, drawn once. The images are shuffled and dealt into disjoint,
    equal-sized domains, one per entry of ``correlations``; in a domain with
    correlation ``p``, an image wears its own class's colour with probability
    ``p`` and a uniformly random class's colour otherwise. With the default,
    colour is a strong shortcut in the two training-like domains (0.9) and
    carries no information in the third (0.0): a model that learned shape
    keeps its accuracy there, one that learned colour loses it.

    Parameters
    ----------
    correlations : sequence of float in [0, 1], default=(0.9, 0.9, 0.0)
        Probability, per domain, that an image wears its class's colour.
    random_state : int, RandomState instance or None, default=None
        Seeds the palette, the dealing and the colours.

    Returns
    -------
    X : ndarray of float32 of shape (1797, 3, 8, 8)
        RGB images in ``[0, 1]``: the digit's ink times its colour, on black.
    y : ndarray of int64 of shape (1797,)
        Digit 0-9.
    domains : ndarray of int64 of shape (1797,)
        Index of the domain (the position in ``correlations``).

    Examples
    --------
    >>> from skda.datasets import make_colored_digits
    >>> X, y, domains = make_colored_digits(random_state=0)
    >>> X.shape, np.bincount(domains).tolist()
    ((1797, 3, 8, 8), [599, 599, 599])
    """
    correlations = list(correlations)
    if not correlations or not all(
            isinstance(p, numbers.Real) and not isinstance(p, bool) and 0 <= p <= 1
            for p in correlations):
        raise ValueError(
            f"correlations must be a non-empty sequence of numbers in [0, 1], got {correlations}.")
    rng = check_random_state(random_state)
    palette = rng.uniform(0.2, 1.0, size=(10, 3)).astype(np.float32)
    images, target, dealt = _deal_digits(len(correlations), rng)
    X, y, labels = [], [], []
    for k, (p, rows) in enumerate(zip(correlations, dealt, strict=True)):
        own = rng.uniform(size=len(rows)) < p
        colour = np.where(own, target[rows], rng.randint(10, size=len(rows)))
        X.append(images[rows][:, None] * palette[colour][:, :, None, None])
        y.append(target[rows])
        labels.append(np.full(len(rows), k))
    return np.concatenate(X), np.concatenate(y).astype(np.int64), np.concatenate(labels)
