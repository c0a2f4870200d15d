"""How far apart two domains are, as seen by a classifier."""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC


def _rows(X, name):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2 or len(X) < 2:
        raise ValueError(f"{name} must hold at least 2 rows of features, got shape {X.shape}.")
    if not np.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return X.reshape(len(X), -1)


def proxy_a_distance(X_a, X_b, *, classifier=None, test_size=0.5, random_state=None):
    """Proxy A-distance between two domains: how well a classifier tells them apart.

    A classifier learns to tell rows of ``X_a`` from rows of ``X_b`` on a
    stratified part of them; with ``err`` its error on the rest, the proxy
    A-distance is ``2 * (1 - 2 * err)`` (Ben-David et al., NeurIPS 2006; the
    measure of the DANN paper, section 6.2.4). It is 2 for domains that
    never overlap and about 0 for the same distribution (slightly negative
    values are chance). Compare raw inputs with learned features,
    ``estimator.transform(X)``, to see whether adaptation aligned them.

    Parameters
    ----------
    X_a, X_b : array-like of shape (n_a, n_features) and (n_b, n_features)
        Rows of the two domains (images are flattened).
    classifier : classifier or None, default=None
        ``None``: a linear SVM on standardised features, as in the DANN
        paper. A more flexible classifier gives a larger distance.
    test_size : float, default=0.5
        Fraction of the rows held out to measure the error.
    random_state : int, RandomState instance or None, default=None
        Seeds the split (and a classifier that is cloned with it unchanged).

    Returns
    -------
    distance : float
        In [-2, 2]; larger means more separable domains.

    Examples
    --------
    >>> import numpy as np
    >>> from skda.metrics import proxy_a_distance
    >>> rng = np.random.RandomState(0)
    >>> far = proxy_a_distance(rng.normal(size=(200, 2)), rng.normal(5, 1, (200, 2)),
    ...                        random_state=0)
    >>> round(far, 2)
    2.0
    """
    X_a, X_b = _rows(X_a, "X_a"), _rows(X_b, "X_b")
    if X_a.shape[1] != X_b.shape[1]:
        raise ValueError(
            f"X_a and X_b must have the same number of features, got {X_a.shape[1]} and "
            f"{X_b.shape[1]}.")
    if not isinstance(test_size, numbers.Real) or not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}.")
    if classifier is None:
        classifier = make_pipeline(StandardScaler(), LinearSVC())
    X = np.vstack([X_a, X_b])
    side = np.r_[np.zeros(len(X_a), dtype=int), np.ones(len(X_b), dtype=int)]
    X_fit, X_test, side_fit, side_test = train_test_split(
        X, side, test_size=test_size, stratify=side, random_state=random_state)
    model = clone(classifier).fit(X_fit, side_fit)
    error = float(np.mean(model.predict(X_test) != side_test))
    return 2.0 * (1.0 - 2.0 * error)
