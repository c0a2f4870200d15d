"""Inter-domain mixup (Yan et al. 2020; Wang et al. 2020; DomainBed's Mixup)."""

from typing import NamedTuple

import torch

from ..engine import Adam, DomainAlgorithm
from .base import STRENGTH, DomainClassifier, fill_doc


class DomainPairs(NamedTuple):
    """Rows of a batch paired across domains (see :func:`pair_across_domains`)."""

    #: row each row is mixed with, from the next domain of the cycle
    partner: torch.Tensor
    #: the row whose partner each row is (``partner[inverse[r]] == r`` on used rows)
    inverse: torch.Tensor
    #: rows that take part (each domain's first ``m`` rows, ``m`` the smallest count)
    used: torch.Tensor
    #: the domain each domain is paired with (a cycle over the domains present)
    next_domain: torch.Tensor
    #: domains with rows in the batch
    present: torch.Tensor


def pair_across_domains(domains, n_domains):
    """Pair every row of a batch with a row of another domain, in one go.

    DomainBed's pairing (``random_pairs_of_minibatches``), vectorised: the
    domains present in the batch are put in a random cycle, and each domain
    is paired with the next one of the cycle, its ``k``-th row (in batch
    order, which is random) with that domain's ``k``-th row. Only the first
    ``m`` rows of every domain take part, ``m`` being the smallest count of
    a present domain, so that the pairing is one-to-one (DomainBed also
    cuts each pair to the shorter minibatch); a domain-balanced batch drops
    at most one row per domain. With a single domain present each row is
    paired with itself.

    Parameters
    ----------
    domains : Tensor of int64, shape (n,)
        Domain code of each row, ``0..n_domains-1``.
    n_domains : int
        Number of domain codes.

    Returns
    -------
    DomainPairs
        ``partner``, ``inverse`` and ``used`` index or mask the rows,
        ``next_domain`` and ``present`` the domains.
    """
    device = domains.device
    n = len(domains)
    counts = torch.bincount(domains, minlength=n_domains)
    present = counts > 0
    n_present = present.sum()
    # a random order of the present domains, then the absent ones (which hold no rows)
    cycle = torch.argsort(torch.rand(n_domains, device=device) + (~present).float())
    position = torch.empty_like(cycle)
    position[cycle] = torch.arange(n_domains, device=device)
    next_domain = cycle[(position + 1) % n_present]
    previous_domain = cycle[(position - 1) % n_present]
    # each row's rank within its domain, in batch order
    order = torch.argsort(domains, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(domains)
    rank[order] = torch.arange(n, device=device) - starts[domains[order]]
    m = torch.where(present, counts, n).min()
    used = rank < m
    rank = rank.clamp(max=m - 1)
    partner = order[starts[next_domain[domains]] + rank]
    inverse = order[starts[previous_domain[domains]] + rank]
    return DomainPairs(partner, inverse, used, next_domain, present)


def sample_mixing_weights(alpha, n, device=None):
    """``n`` draws of ``lam ~ Beta(alpha, alpha)`` that stay exact as ``alpha`` nears 0.

    Draws ``log G`` of two ``Gamma(alpha)`` variables as ``log Gamma(alpha
    + 1) + log(U) / alpha`` and returns ``sigmoid(log G1 - log G2)``: for a
    small ``alpha``, where ``G1 / (G1 + G2)`` is 0 / 0, the draws still go
    to 0 or 1 as they should (torch's ``Beta`` returns 0.5 there).
    ``alpha=0`` gives 1 (no mixing). Uses torch's global generator.
    """
    if alpha == 0:
        return torch.ones(n, device=device)
    shape = torch.full((2, n), alpha + 1.0, device=device)
    gammas = torch.distributions.Gamma(shape, torch.ones_like(shape)).sample()
    gammas = gammas.clamp(min=torch.finfo(shape.dtype).tiny)
    uniform = 1.0 - torch.rand(2, n, device=device)  # in (0, 1]: its log is finite
    log_gammas = torch.log(gammas) + torch.log(uniform) / alpha
    return torch.sigmoid(log_gammas[0] - log_gammas[1])


class Mixup(DomainAlgorithm):
    """Backbone and label head trained on mixtures of rows from two different domains.

    Each step pairs every domain of the batch with another
    (:func:`pair_across_domains`), draws one ``lam ~ Beta(alpha, alpha)``
    per pair of domains, and trains on the mixed inputs ``lam * x_i + (1 -
    lam) * x_j`` with the loss ``lam * CE(f(x), y_i) + (1 - lam) * CE(f(x),
    y_j)``, averaged over the pairs (DomainBed's Mixup). Each of the two
    cross-entropies is the label loss's weighted mean over the rows of its
    own domain, so a row's sample and class weights weigh the part of the
    loss that its label makes.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, alpha=0.2):
        super().__init__(featurizer, n_features, n_classes)
        self.alpha = alpha
        self.n_domains = n_domains

    def training_loss(self, X, y, domains, label_loss):
        pairs = pair_across_domains(domains, self.n_domains)
        lam = sample_mixing_weights(self.alpha, self.n_domains, X.device).to(X.dtype)
        row_lam = lam[domains].view(-1, *([1] * (X.dim() - 1)))
        logits = self(row_lam * X + (1 - row_lam) * X[pairs.partner])
        y = torch.where(pairs.used, y, -1)
        # per domain d: the mixtures of d's rows with their partners, scored on d's labels
        own = label_loss(logits, y, groups=domains, n_groups=self.n_domains)
        # per domain e: the mixtures that hold e's rows as partners, scored on e's labels
        partner = label_loss(logits[pairs.inverse], y, groups=domains, n_groups=self.n_domains)
        pair_losses = lam * own + (1 - lam) * partner[pairs.next_domain]
        present = pairs.present.to(lam.dtype)
        loss = (pair_losses * present).sum() / present.sum()
        mix_share = (torch.minimum(lam, 1 - lam) * present).sum() / present.sum()
        return loss, {"mix_share": mix_share}


@fill_doc
class MixupClassifier(DomainClassifier):
    """Classifier trained on mixtures of rows from different domains (inter-domain mixup).

    Every step mixes each training row with a row of another domain, ``x =
    lam * x_i + (1 - lam) * x_j``, and trains on the same mixture of their
    labels, ``lam * CE(f(x), y_i) + (1 - lam) * CE(f(x), y_j)`` (Yan et al.
    2020; Wang et al. 2020; DomainBed's Mixup for domain generalization).
    The model must then behave linearly between the domains rather than
    learn each domain's region on its own: between two sites it has not
    seen, its predictions move smoothly from one site's to the other's,
    and it is less confident where their classes meet.

    Inputs are mixed after ``input_scaling`` (tabular columns are
    standardized by default, so that they share a scale); images are
    mixed pixel by pixel. It
    needs at least 2 labeled domains: with one, every row would be mixed
    with itself. Unlabeled rows are dropped with a warning.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given).
    alpha : float or "auto", default=0.2
        Concentration (mixup's α) of the ``Beta(alpha, alpha)``
        distribution of the mixing weight ``lam`` (DomainBed's ``mixup_alpha``, 0.2): the
        adaptation strength. Small values keep most mixtures near one of
        their two rows; 1 draws ``lam`` uniformly; large values mix halfway.
        0 never mixes: plain ERM on balanced batches.
        {auto_strength}
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    ERMClassifier : The same network trained on the rows themselves (``alpha=0``).
    GroupDROClassifier : Another domain generalization method; minimises the
        worst domain's loss.

    Notes
    -----
    Each step puts the domains of the batch in a random cycle and pairs
    each domain with the next, row by row in batch order (DomainBed's
    ``random_pairs_of_minibatches``); one ``lam`` is drawn per pair, and the
    loss is the mean over the pairs. Every row is thus mixed once with a
    row of the next domain, and once is the partner of a row of the
    previous one. Where ``batch_size`` does not divide evenly across the
    domains, the extra row of a domain sits the step out.

    ``sample_weight`` and ``class_weight`` weigh each label's part of the
    loss: ``CE(f(x), y_i)`` is the weighted mean over domain ``i``'s rows
    with their weights, ``CE(f(x), y_j)`` over domain ``j``'s with theirs.
    Each domain of a pair therefore counts the same, whatever its rows'
    total weight, as in DomainBed's mean over pairs.

    ``net_.history`` records ``train_mix_share``: the mean of ``min(lam, 1
    - lam)`` over the pairs, the partner's share of a mixture (0 when
    nothing is mixed, 0.5 halfway; about 0.1 with ``alpha=0.2``).

    References
    ----------
    Yan, Wang, Zhang, Wang, Cui, Zhang and Wang. Improve Unsupervised
    Domain Adaptation with Mixup Training. arXiv:2001.00677, 2020.

    Wang, Li and Kot. Heterogeneous Domain Generalization via Domain
    Mixup. ICASSP 2020.

    Gulrajani and Lopez-Paz. In Search of Lost Domain Generalization. ICLR
    2021 (DomainBed, whose Mixup this follows).

    Examples
    --------
    >>> from skda import MixupClassifier
    >>> from skda.datasets import make_site_shift
    >>> X, y, sites = make_site_shift(n_sites=3, random_state=0)
    >>> clf = MixupClassifier(max_epochs=5, random_state=0).fit(X, y, domains=sites)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    >>> 0 < clf.net_.history[-1, "train_mix_share"] < 0.5
    True
    """

    _display_name = "Mixup"
    _settings = ("domain generalization",)

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints,
        "alpha": STRENGTH,
    }
    _strength_param = "alpha"
    #: DomainBed's search range, 10^[-1, 1], with its default 0.2
    _strength_grid = (0.1, 0.2, 1.0, 10.0)
    _strength_selection = "source"
    _min_domains = 2
    _uses_unlabeled = False
    _divergence_params = ("lr",)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        alpha=0.2,
        module=None,
        augment=None,
        max_epochs="auto",
        batch_size=128,
        lr=1e-3,
        optimizer=Adam,
        callbacks=None,
        device="auto",
        accelerator=None,
        random_state=None,
        verbose=0,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        input_scaling="standard",
        **kwargs,
    ):
        self._store_params(locals())

    def _build_algorithm(self, featurizer, n_features, n_classes, n_domains):
        return Mixup(featurizer, n_features, n_classes, n_domains, float(self.alpha))
