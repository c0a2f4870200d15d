"""Synthetic domain-shift generators (no files needed)."""

import numpy as np
from sklearn.datasets import make_moons
from sklearn.utils import check_random_state, check_scalar


def make_rotated_moons(n_samples=150, angle=35.0, noise=0.05, random_state=None):
    """Inter-twinning moons with a rotated target domain (the DANN paper's toy problem).

    The source domain is scikit-learn's two moons, centred on its mean and
    scaled by 2; the target domain is an independent draw of the same moons
    rotated counter-clockwise by ``angle`` degrees about the origin. Ganin et
    al. (JMLR 2016, section 5.1.1) use 35 degrees, 150 rows per domain and
    noise 0.05.

    Parameters
    ----------
    n_samples : int, default=150
        Rows per domain (split evenly between the two moons).
    angle : float, default=35.0
        Rotation of the target domain, in degrees.
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to the moons.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    X : ndarray of shape (2 * n_samples, 2)
        Source rows first, then target rows.
    y : ndarray of shape (2 * n_samples,)
        Moon index (0 or 1) of every row, target rows included; mask the
        target labels with ``-1`` for unsupervised adaptation.
    domains : ndarray of shape (2 * n_samples,)
        ``"source"`` or ``"target"``.

    Examples
    --------
    >>> from skda.datasets import make_rotated_moons
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> X.shape, np.unique(domains).tolist()
    ((300, 2), ['source', 'target'])
    """
    check_scalar(n_samples, "n_samples", int, min_val=2)
    check_scalar(angle, "angle", (int, float))
    check_scalar(noise, "noise", (int, float), min_val=0)
    rng = check_random_state(random_state)
    X_source, y_source = make_moons(n_samples, noise=noise, random_state=rng)
    X_target, y_target = make_moons(n_samples, noise=noise, random_state=rng)
    center = X_source.mean(axis=0)
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    X_source = 2 * (X_source - center)
    X_target = 2 * (X_target - center) @ rotation.T
    X = np.vstack([X_source, X_target])
    y = np.concatenate([y_source, y_target])
    domains = np.repeat(np.array(["source", "target"]), n_samples)
    return X, y, domains
