"""Latent domains: domain labels inferred by clustering (MMLD; Matsuura & Harada, AAAI 2020).

When the rows' domains are unknown, an alignment method can still train on
*pseudo-domains*: clusters of rows that look alike in their low-level
statistics. Matsuura and Harada (Domain Generalization Using a Mixture of
Multiple Latent Domains, AAAI 2020; code: github.com/mil-tokyo/dg_mmld)
cluster images by their *style*, the per-channel mean and standard
deviation of a low convolutional layer's feature maps, re-cluster at the
start of every epoch with the network being trained, match the new
clusters to the previous epoch's with the Hungarian algorithm so that a
cluster keeps its code, and use the clusters as the domain labels of a DANN
discriminator.

This file holds the whole mechanism: what is clustered
(:func:`latent_statistics`), one clustering step (:func:`assign_latent_domains`),
the callback that re-infers the domains every epoch
(:class:`LatentDomainClustering`) and the mixin that gives an estimator its
``latent_domains`` parameter (:class:`LatentDomainsMixin`).
"""

import numbers

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from skorch.callbacks import Callback

from .._params import NONE, Interval
from ..engine import algorithm_of
from ..engine.batching import rows_in_order
from ..modules import ConvNet, ImageStandardization, style_statistics
from .base import DomainEstimator

#: rows k-means is fitted on each epoch at most; the others go to the nearest centre
MAX_CLUSTERED_ROWS = 2000

#: the parameter's valid values, merged into an estimator's ``_parameter_constraints``
LATENT_DOMAINS_CONSTRAINTS = {"latent_domains": [NONE, Interval(numbers.Integral, 2)]}


# -- what is clustered ------------------------------------------------------------------


def _statistics_kind(featurizer, n_dims):
    """How rows are described for clustering, from the backbone and the rank of X."""
    if n_dims > 2:
        return "first_block_style" if isinstance(featurizer, ConvNet) else "input_style"
    return "input"


def _first_block(featurizer):
    """The default ConvNet up to and including its first convolution block."""
    children = list(featurizer.children())
    start = 1 if isinstance(children[0], ImageStandardization) else 0
    return torch.nn.Sequential(*children[:start + 1])


def latent_statistics(featurizer, X, kind, batch_size=512):
    """Per-row statistics that latent domains cluster: an ``(n, d)`` float64 array.

    Parameters
    ----------
    featurizer : torch.nn.Module
        The backbone, in the state it has now (evaluation mode is set here
        and the previous mode restored).
    X : Tensor or ImageRows
        Rows (read batch by batch, as float32 on the backbone's device).
    kind : {"first_block_style", "input_style", "input", "first_hidden"}
        ``"first_block_style"``: the per-channel mean and standard deviation
        of the default ConvNet's first block (MMLD's style features; they
        change as the network trains). ``"input_style"``: the same of the
        input images (any other image backbone). ``"input"``: the rows of
        tabular X themselves (standardized before k-means), the default for
        tabular X. ``"first_hidden"``: the default MLP's first hidden layer
        (ReLU); on ``make_site_shift(n_sites=3)`` it recovered the sites
        worse than the inputs (a lower adjusted Rand index, covariate shift
        2 and 3, three seeds) and its clusters moved between epochs, so it
        is not a default.
    """
    if kind == "input":
        return X.detach().double().cpu().numpy()
    # the backbone's device: X may be kept on the host (uint8 images) or be ImageRows
    device = next((p.device for p in featurizer.parameters()), torch.device("cpu"))
    if kind == "first_hidden":
        layer = torch.nn.Sequential(*list(featurizer.children())[:2])
        with torch.no_grad():
            return torch.cat([layer(chunk).double().cpu()
                              for chunk in rows_in_order(X, batch_size, device)]).numpy()
    layer = _first_block(featurizer) if kind == "first_block_style" else torch.nn.Identity()
    was_training = featurizer.training
    featurizer.eval()
    out = []
    try:
        with torch.no_grad():
            for chunk in rows_in_order(X, batch_size, device):
                mean, std = style_statistics(layer(chunk).float())
                out.append(torch.cat([mean, std], dim=1).flatten(1).double().cpu())
    finally:
        featurizer.train(was_training)
    return torch.cat(out).numpy()


# -- one clustering step --------------------------------------------------------------------


def _standardize(stats, fit_rows, *others):
    """``[stats, *others]`` scaled by the mean and sd of ``stats[fit_rows]`` per column."""
    ref = stats[slice(None) if fit_rows is None else fit_rows]
    mean, scale = ref.mean(axis=0), ref.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return [(values - mean) / scale for values in (stats, *others)]


def _fill_empty(labels, distances, k):
    """Give every empty cluster the row farthest from its own centre in the largest cluster."""
    labels = labels.copy()
    for code in range(k):
        if not (labels == code).any():
            largest = np.bincount(labels, minlength=k).argmax()
            rows = np.flatnonzero(labels == largest)
            labels[rows[np.argmax(distances[rows, largest])]] = code
    return labels


def _first_appearance(labels):
    """Codes renumbered in the order of their first row (as ``encode_domains`` does)."""
    _, first = np.unique(labels, return_index=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[labels]


def match_clusters(previous, labels, k):
    """``labels`` renumbered so that they overlap ``previous`` most (the Hungarian algorithm)."""
    overlap = np.zeros((k, k), dtype=np.int64)
    np.add.at(overlap, (previous, labels), 1)
    old, new = linear_sum_assignment(overlap, maximize=True)
    mapping = np.empty(k, dtype=np.int64)
    mapping[new] = old
    return mapping[labels]


def assign_latent_domains(stats, k, *, previous=None, fit_rows=None, n_init=3,
                          random_state=0):
    """One clustering of the rows into ``k`` latent domains, matched to ``previous``.

    The statistics are standardized per column, k-means is fitted on
    ``fit_rows`` (all rows when None) and every row goes to its nearest
    centre. Two fits compete: a fresh k-means++ one with ``n_init`` starts
    and, given ``previous``, one started from the centres of the previous
    clusters; the lower inertia wins (the warm one on a tie), so that the
    clustering follows the statistics without flipping between equal
    solutions. The clusters are then renumbered to overlap ``previous``
    most, or, without it, in the order of their first row.

    Returns
    -------
    labels : ndarray of int64 of shape (n_rows,)
        Codes ``0..k-1``, every code used.
    """
    fit_rows = slice(None) if fit_rows is None else fit_rows
    (Z,) = _standardize(stats, fit_rows)
    fits = [KMeans(k, n_init=n_init, random_state=random_state).fit(Z[fit_rows])]
    if previous is not None:
        centres = np.stack([Z[previous == code].mean(axis=0) for code in range(k)])
        warm = KMeans(k, init=centres, n_init=1, random_state=random_state).fit(Z[fit_rows])
        if warm.inertia_ <= fits[0].inertia_ * (1 + 1e-9):
            fits = [warm]
    distances = fits[0].transform(Z)
    labels = _fill_empty(distances.argmin(axis=1), distances, k)
    return _first_appearance(labels) if previous is None else match_clusters(previous, labels, k)


# -- the callback -----------------------------------------------------------------------------


class LatentDomainClustering(Callback):
    """Re-infer the training rows' latent domains at the start of every epoch (MMLD).

    At each epoch's start the rows are described by :func:`latent_statistics`
    of the current backbone, clustered by :func:`assign_latent_domains`
    (matched to the previous epoch's clusters), and the codes are written
    into the training :class:`~skda.engine.DomainData` through
    :meth:`~skda.engine.BalancedBatches.set_domains`, so that the epoch's
    balanced batches and the method's domain loss use them. Held-out
    validation rows go to the nearest cluster. The first epoch's clustering
    uses the untrained backbone. Statistics that do not change with the
    network (the inputs themselves) are clustered once.

    k-means is fitted on at most ``max_rows`` rows, a subsample drawn once
    per fit; the other rows go to the nearest centre, so an epoch's
    clustering costs one forward pass of the first block over the rows plus
    a k-means of bounded size.

    Parameters
    ----------
    n_domains : int
        Number of latent domains ``k``.
    statistics : str or None, default=None
        The ``kind`` of :func:`latent_statistics`; None: ``"first_block_style"``
        for images with the default ConvNet, ``"input_style"`` for images
        with another backbone, ``"input"`` for tabular X.
    seed : int or None, default=None
        Seed of the k-means starts and the subsample; None derives it from
        the net's batch seed (so from the estimator's ``random_state``).
    n_init : int, default=3
        k-means++ starts of each fresh clustering.
    max_rows : int, default=MAX_CLUSTERED_ROWS
        Most rows k-means is fitted on.

    Attributes
    ----------
    labels_ : ndarray of int64
        The last assignment of the training rows (in their order).
    valid_labels_ : ndarray of int64 or None
        That of the held-out rows, when there are some.

    Notes
    -----
    ``net.history`` records per epoch ``latent_agreement``: the share of
    training rows whose code is the previous epoch's (1.0 at the first
    epoch). Only the last assignment is kept.
    """

    def __init__(self, n_domains, *, statistics=None, seed=None, n_init=3,
                 max_rows=MAX_CLUSTERED_ROWS):
        self.n_domains = n_domains
        self.statistics = statistics
        self.seed = seed
        self.n_init = n_init
        self.max_rows = max_rows

    def initialize(self):
        self.labels_ = self.valid_labels_ = None
        self._rng = self._fit_rows = self._kind = None
        return self

    def on_train_begin(self, net, X=None, **kwargs):
        n, k = len(X), self.n_domains
        if n < k:
            raise ValueError(
                f"latent_domains={k} needs at least {k} training rows to cluster, got {n} "
                "sample(s).")
        seed = self.seed if self.seed is not None else int(net.seed) + 7919
        self._rng = np.random.RandomState(seed)
        self._fit_rows = (None if n <= self.max_rows
                          else np.sort(self._rng.choice(n, self.max_rows, replace=False)))
        self._kind = self.statistics or _statistics_kind(algorithm_of(net).featurizer, X.X.ndim)
        self.labels_ = self.valid_labels_ = None

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if self.labels_ is not None and self._kind == "input":  # the same statistics again
            net.history.record("latent_agreement", 1.0)
            return
        featurizer = algorithm_of(net).featurizer
        stats = latent_statistics(featurizer, dataset_train.X, self._kind)
        seed = int(self._rng.randint(2**31 - 1))
        previous = self.labels_
        labels = assign_latent_domains(
            stats, self.n_domains, previous=previous, fit_rows=self._fit_rows,
            n_init=self.n_init, random_state=seed)
        net.train_batches_.set_domains(labels)
        self.labels_ = labels
        net.history.record(
            "latent_agreement", 1.0 if previous is None else float(np.mean(labels == previous)))
        if dataset_valid is not None and len(dataset_valid):
            self.valid_labels_ = self._nearest(
                stats, labels, latent_statistics(featurizer, dataset_valid.X, self._kind))
            dataset_valid.domains.copy_(torch.as_tensor(self.valid_labels_).to(
                dataset_valid.domains.device))

    def _nearest(self, stats, labels, other):
        """Rows of ``other`` given the code of the nearest centre of the training clusters."""
        Z, W = _standardize(stats, self._fit_rows, other)
        centres = np.stack([Z[labels == code].mean(axis=0) for code in range(self.n_domains)])
        return ((W[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)

    def on_train_end(self, net, **kwargs):
        self._rng = self._fit_rows = None  # the fitted net keeps the labels only


# -- the estimators' side -------------------------------------------------------------------


class LatentDomainsMixin:
    """Gives an alignment estimator its ``latent_domains`` parameter.

    Put it before the estimator's base class (``class
    DeepCORALClassifier(LatentDomainsMixin, DomainClassifier)``), add
    ``latent_domains=None`` to ``__init__`` and
    :data:`LATENT_DOMAINS_CONSTRAINTS` to ``_parameter_constraints``; a
    class that defines ``_method_callbacks`` itself starts its list with
    ``super()._method_callbacks()``.

    With ``latent_domains=k`` and ``domains=None``, ``fit`` trains on ``k``
    placeholder domains that :class:`LatentDomainClustering` replaces
    before the first batch, ``domains_`` is ``[0, ..., k-1]`` and
    ``latent_domain_labels_`` the last assignment of the rows of X.
    """

    _fitted_attributes = (*DomainEstimator._fitted_attributes, "latent_domain_labels_")

    def _encode_domains(self, X, domains):
        k = self.latent_domains
        if k is None:
            return super()._encode_domains(X, domains)
        if domains is not None:
            raise ValueError(
                f"latent_domains={k} infers the domains, but fit got domains= too. Pass "
                "domains=None to infer them, or latent_domains=None to train on the "
                "given ones.")
        if len(X) < k:
            raise ValueError(
                f"latent_domains={k} needs at least {k} rows to cluster, got {len(X)} "
                "sample(s).")
        if getattr(self, "class_weight", None) == "balanced_per_domain":
            raise ValueError(
                "class_weight='balanced_per_domain' needs the domains before training; "
                "latent domains change every epoch. Use class_weight='balanced'.")
        # placeholders, replaced before the first batch; they only spread the
        # early-stopping hold-out (stratified by class) over the rows
        return np.arange(k), np.arange(len(X), dtype=np.int64) % k

    def _method_callbacks(self):
        k = self.latent_domains
        own = [] if k is None else [("latent_domains", LatentDomainClustering(int(k)))]
        return [*own, *super()._method_callbacks()]

    def _fitted_from_training(self, net, held_out):
        fitted = super()._fitted_from_training(net, held_out)
        if self.latent_domains is None:
            return fitted
        clustering = dict(net.callbacks_)["latent_domains"]
        if held_out is None:
            labels = clustering.labels_.copy()
        else:  # the early-stopping rows went to the nearest cluster
            labels = np.empty(len(held_out), dtype=np.int64)
            labels[~held_out], labels[held_out] = clustering.labels_, clustering.valid_labels_
        return {**fitted, "latent_domain_labels_": labels}
