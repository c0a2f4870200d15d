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


def _site_sizes(n_samples, n_sites):
    if isinstance(n_samples, (int, np.integer)):
        check_scalar(int(n_samples), "n_samples", int, min_val=2)
        return [int(n_samples)] * n_sites
    sizes = list(n_samples)
    if len(sizes) != n_sites or not all(
            isinstance(n, (int, np.integer)) and n >= 2 for n in sizes):
        raise ValueError(
            f"n_samples must be an int >= 2 or a list of {n_sites} such ints (one per site), "
            f"got {n_samples!r}.")
    return [int(n) for n in sizes]


def _site_prevalences(n_sites, label_shift, site_label_dependence, prevalence):
    """Prevalence of each site, or None when the rule and ``p(x)`` decide it."""
    if prevalence is not None:
        if label_shift or site_label_dependence is not None:
            raise ValueError(
                "prevalence sets every site's share of positives; leave label_shift and "
                "site_label_dependence at None when giving it.")
        values = np.asarray(prevalence, dtype=float)
        if values.shape != (n_sites,) or not np.all((values >= 0) & (values <= 1)):
            raise ValueError(
                f"prevalence must be a list of {n_sites} shares in [0, 1] (one per site), "
                f"got {prevalence!r}.")
        return values
    if site_label_dependence is not None:
        if label_shift:
            raise ValueError(
                "label_shift and site_label_dependence both set the sites' prevalences; "
                "give one.")
        # even sites lean negative, odd sites positive: with 0 every site is
        # balanced, with 1 every site holds a single class
        lean = np.where(np.arange(n_sites) % 2 == 0, -0.5, 0.5)
        return 0.5 + site_label_dependence * lean
    if label_shift:
        return 1 / (1 + np.exp(-label_shift * np.linspace(-1, 1, n_sites)))
    return None


def _draw_site(rng, n, mean, weights, prevalence, site):
    """``n`` rows of one site: ``x ~ N(mean, I)``, ``y`` by the logistic rule ``weights``.

    With a ``prevalence``, each class keeps its share of a larger draw, so
    that ``p(x | y)`` stays the site's.
    """
    pool = rng.normal(size=(20 * n, len(mean))) + mean
    labels = (rng.uniform(size=len(pool)) < 1 / (1 + np.exp(-pool @ weights))).astype(int)
    if prevalence is None:
        return pool[:n], labels[:n]
    n_pos = int(round(prevalence * n))
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if len(positives) < n_pos or len(negatives) < n - n_pos:
        raise ValueError(
            f"site{site}: too few rows of one class to reach prevalence {prevalence:.2f}; "
            "lower the shift of the labels or covariate_shift.")
    keep = np.sort(np.r_[rng.choice(positives, n_pos, replace=False),
                         rng.choice(negatives, n - n_pos, replace=False)])
    return pool[keep], labels[keep]


def make_site_shift(n_sites=4, n_samples=200, n_features=8, *, covariate_shift=1.0,
                    label_shift=0.0, concept_shift=0.0, site_label_dependence=None,
                    prevalence=None, signal=2.0, random_state=None, rows_random_state=None):
    """Binary tabular data from several sites, with each kind of shift on its own knob.

    A clinical-style multi-site problem: every site draws patients and
    labels them with a logistic rule; the knobs make the sites differ in
    the three ways the literature separates (Moreno-Torres et al., Pattern
    Recognition 2012). With all of them at 0 the sites are identically
    distributed.

    - ``covariate_shift``: ``p(x)`` differs, ``p(y | x)`` does not. Site
      ``k`` draws ``x ~ N(covariate_shift * m_k, I)``, ``m_k`` a random unit
      direction: different patient mixes, same disease mechanism. It also
      makes the site readable from the features.
    - ``label_shift``: ``p(y)`` differs, ``p(x | y)`` does not. The
      prevalence of site ``k`` is ``sigmoid(label_shift * u_k)`` with ``u_k``
      evenly spaced in [-1, 1] (site 0 lowest), obtained by keeping each
      class's rows in the needed numbers from a larger draw: different
      referral patterns.
    - ``site_label_dependence``: the same kind of shift, as site-label
      confounding: even sites hold ``(1 - site_label_dependence) / 2``
      positives, odd sites ``(1 + site_label_dependence) / 2``. At 0 every
      site is balanced and the label says nothing about the site; at 1
      each site holds a single class (controls recorded at some sites,
      patients at others). With
      ``covariate_shift > 0`` the site is then a shortcut to the label,
      while the rule ``p(y | x)`` within a site is the true content signal.
    - ``concept_shift``: ``p(y | x)`` differs. Site ``k``'s rule is ``w +
      concept_shift * signal * d_k``, with ``d_k`` a random unit direction:
      different diagnostic criteria.

    Parameters
    ----------
    n_sites : int, default=4
        Number of sites (domains).
    n_samples : int or list of int, default=200
        Rows per site, or one count per site.
    n_features : int, default=8
        Number of features, all informative.
    covariate_shift : float, default=1.0
        Distance of each site's feature mean from the origin.
    label_shift : float, default=0.0
        Spread of the sites' log-odds of the positive class (0: no control
        of the prevalence, which then follows from the rule and ``p(x)``).
    concept_shift : float, default=0.0
        Size of each site's change of the rule, relative to ``signal``.
    site_label_dependence : float or None, default=None
        Confounding of site and label, in [0, 1] (see above): 0 balances the
        classes in every site. None leaves the prevalences to the other
        knobs. Not together with ``label_shift``.
    prevalence : list of float or None, default=None
        Every site's share of positives, overriding the two label knobs:
        e.g. ``[0, 1, 1, 1]`` for a site of controls and three of patients,
        or the training sites' prevalences reversed to draw a test set whose
        class balance differs.
    signal : float, default=2.0
        Norm of the shared rule's weights: larger is more separable.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws: the sites (directions and rules) and, unless
        ``rows_random_state`` is given, the rows.
    rows_random_state : int, RandomState instance or None, default=None
        Seed of the rows alone. When given, the sites depend on
        ``random_state``, ``n_sites`` and ``n_features`` only, so calls with
        the same ``random_state`` and another ``rows_random_state`` draw new
        rows (with any prevalence) from the same sites: a test set. When
        None, sites and rows come from one stream.

    Returns
    -------
    X : ndarray of shape (n_total, n_features)
        Features, site by site.
    y : ndarray of shape (n_total,)
        Labels 0 or 1.
    domains : ndarray of shape (n_total,)
        Site of each row: ``"site0"``, ``"site1"``, ...

    Examples
    --------
    >>> from skda.datasets import make_site_shift
    >>> X, y, domains = make_site_shift(n_sites=3, n_samples=100, label_shift=2.0,
    ...                                 random_state=0)
    >>> X.shape, np.unique(domains).tolist()
    ((300, 8), ['site0', 'site1', 'site2'])
    >>> print(np.round([y[domains == s].mean() for s in ["site0", "site1", "site2"]], 2))
    [0.12 0.5  0.88]

    Confounded training sites, and a test draw from the same sites with the
    class balance reversed:

    >>> train = make_site_shift(site_label_dependence=0.8, covariate_shift=2.0,
    ...                         random_state=0, rows_random_state=1)
    >>> test = make_site_shift(prevalence=[0.9, 0.1, 0.9, 0.1], covariate_shift=2.0,
    ...                        random_state=0, rows_random_state=2)
    >>> print([float(train[1][train[2] == s].mean()) for s in ["site0", "site1"]])
    [0.1, 0.9]
    """
    check_scalar(n_sites, "n_sites", int, min_val=1)
    check_scalar(n_features, "n_features", int, min_val=1)
    for name, value in (("covariate_shift", covariate_shift), ("label_shift", label_shift),
                        ("concept_shift", concept_shift), ("signal", signal),
                        ("site_label_dependence", site_label_dependence)):
        if value is None and name == "site_label_dependence":
            continue
        check_scalar(value, name, (int, float), min_val=0,
                     max_val=1 if name == "site_label_dependence" else None)
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}.")
    sizes = _site_sizes(n_samples, n_sites)
    prevalences = _site_prevalences(n_sites, label_shift, site_label_dependence, prevalence)
    rng = check_random_state(random_state)

    def unit(size):
        v = rng.normal(size=size)
        return v / np.linalg.norm(v)

    rule = signal * unit(n_features)
    if rows_random_state is None:
        # sites and rows interleaved in one stream (the rows of a site follow its directions)
        sites = ((covariate_shift * unit(n_features), rule + concept_shift * signal * unit(
            n_features)) for _ in sizes)
        rows_rng = rng
    else:
        sites = [(covariate_shift * unit(n_features),
                  rule + concept_shift * signal * unit(n_features)) for _ in sizes]
        rows_rng = check_random_state(rows_random_state)
    X, y, domains = [], [], []
    for k, (n, (mean, weights)) in enumerate(zip(sizes, sites, strict=True)):
        rows, labels = _draw_site(
            rows_rng, n, mean, weights, None if prevalences is None else prevalences[k], k)
        X.append(rows)
        y.append(labels)
        domains.append(np.full(n, f"site{k}"))
    return np.vstack(X), np.concatenate(y), np.concatenate(domains)
