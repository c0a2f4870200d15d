"""Invariant risk minimisation (IRMv1; Arjovsky, Bottou, Gulrajani and Lopez-Paz, 2019).

The whole method: the penalty (:func:`irm_penalties`), the network and loss
(:class:`IRM`), the schedule of the penalty weight with its optimizer reset
(:class:`PenaltyAnneal`, which V-REx shares) and the estimator
(:class:`IRMClassifier`).
"""

import numbers
import warnings

import torch
from skorch.callbacks import Callback

from .._params import Interval
from ..engine import Adam, DomainAlgorithm, algorithm_of, training_steps_done
from .base import STRENGTH, DomainClassifier, fill_doc


def _labeled(y):
    """Mask of the labeled rows: class code ``>= 0``, or a target that is not NaN."""
    return ~torch.isnan(y) if torch.is_floating_point(y) else y >= 0


def labeled_counts(y, domains, n_domains):
    """Labeled rows of each domain in the batch: a float tensor of length ``n_domains``."""
    return torch.zeros(n_domains, device=y.device).index_add_(
        0, domains, _labeled(y).to(torch.float32))


def irm_penalties(logits, y, domains, n_domains, label_loss):
    """IRMv1 penalty of each domain, and which domains have one.

    For a domain ``e``, IRMv1 penalises ``||grad_w R_e(w * logits)||^2`` at
    the dummy scale ``w = 1``: how much the domain's risk would still fall
    by rescaling the logits, which is 0 when the classifier on top of the
    features is optimal for that domain. Its square is estimated without
    bias (DomainBed's estimator) as the product of the gradients on two
    disjoint halves of the domain's labeled rows in the batch: the rows in
    even and in odd position among them (batch order).

    Every domain gets a scale of its own, so one call of ``label_loss`` over
    the ``2 * n_domains`` halves and one gradient give all the penalties.
    A domain with fewer than 2 labeled rows in the batch has no estimate:
    its penalty is 0 and ``estimable`` is False there.

    Parameters
    ----------
    logits : Tensor of shape (batch, n_outputs)
        The network's output.
    y : Tensor of shape (batch,)
        Targets, unlabeled rows marked as ``label_loss`` expects.
    domains : Tensor of int64 of shape (batch,)
        Domain codes ``0..n_domains-1``.
    n_domains : int
        Number of domains.
    label_loss : callable
        The engine's label loss (see :class:`~skda.engine.DomainAlgorithm`).

    Returns
    -------
    penalties : Tensor of shape (n_domains,)
        Differentiable with respect to ``logits``.
    estimable : Tensor of bool of shape (n_domains,)
        Domains with labeled rows in both halves.
    """
    labeled = _labeled(y)
    # position of each labeled row among its domain's labeled rows, in batch order
    member = torch.nn.functional.one_hot(domains, n_domains) * labeled.unsqueeze(1)
    rank = member.cumsum(0).gather(1, domains.unsqueeze(1)).squeeze(1) - 1
    halves = domains + n_domains * (rank % 2)  # half 0 of domain e is e, half 1 is e + n
    scale = torch.ones(2 * n_domains, device=logits.device, requires_grad=True)
    scaled = logits * scale[halves].view(-1, *([1] * (logits.dim() - 1)))
    risks = label_loss(scaled, y, groups=halves, n_groups=2 * n_domains)
    (grads,) = torch.autograd.grad(risks.sum(), scale, create_graph=True)
    counts = torch.zeros(2 * n_domains, device=y.device).index_add_(
        0, halves, labeled.to(torch.float32))
    return grads[:n_domains] * grads[n_domains:], (counts[:n_domains] > 0) & (
        counts[n_domains:] > 0)


def mean_over(values, mask):
    """Mean of ``values`` where ``mask`` holds (0 where it holds nowhere)."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1)


class IRM(DomainAlgorithm):
    """Backbone and label head trained on the domains' mean risk plus the IRMv1 penalty.

    The loss is ``mean_e R_e + penalty_weight * mean_e P_e`` over the
    domains of the batch, with ``R_e`` the label loss of domain ``e``'s
    rows and ``P_e`` its penalty (:func:`irm_penalties`). The penalty is
    small when one classifier on top of the features is optimal for every
    domain at once: the features whose relation to the label is the same
    in every domain. ``penalty_weight`` is set before each step by
    :class:`PenaltyAnneal`.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, *, penalty_weight=1.0):
        super().__init__(featurizer, n_features, n_classes)
        self.n_domains = n_domains
        self.penalty_weight = penalty_weight

    def training_loss(self, X, y, domains, label_loss):
        logits = self(X)
        risks = label_loss(logits, y, groups=domains, n_groups=self.n_domains)
        risk = mean_over(risks, labeled_counts(y, domains, self.n_domains) > 0)
        penalties, estimable = irm_penalties(logits, y, domains, self.n_domains, label_loss)
        penalty = mean_over(penalties, estimable)
        return risk + self.penalty_weight * penalty, {
            "risk": risk.detach(), "penalty": penalty.detach()}


def reset_optimizer_state(net):
    """Forget the moment estimates (and step counts) of every optimizer of ``net``.

    What a fresh optimizer would start from, while keeping the optimizer
    objects, their parameter groups and current learning rates: a
    learning-rate scheduler or an accelerator that holds the optimizer keeps
    working.
    """
    groups = getattr(net, "optimizer_groups_", ())
    optimizers = ([getattr(net, f"optimizer_{name}_") for name in groups] if groups
                  else [net.optimizer_])
    for optimizer in optimizers:
        optimizer.state.clear()


class PenaltyAnneal(Callback):
    """Penalty weight 1 for the first ``anneal_iters`` steps, then ``penalty_weight``.

    DomainBed's schedule for IRM and V-REx: the network first learns the
    label (the penalty at weight 1 barely acts), then the penalty takes over.
    Before each training step it sets the method's ``penalty_weight``; at
    the step where the weight switches it clears the optimizer's state,
    because the loss, and with it the gradients, jump by up to a factor
    ``penalty_weight``: Adam's moment estimates, tuned to the small
    gradients of the first phase, would make the first steps of the second
    one far too large. DomainBed re-creates its Adam at that step; clearing
    the state of the same optimizer is the same for Adam (moments and step
    count start afresh) and leaves the learning rate, and whatever holds the
    optimizer (a learning-rate scheduler, an accelerator), as they are.

    Steps are counted over the whole fit (epochs of
    ``net.train_steps_per_epoch_`` steps), from the history, so the callback
    keeps no state of its own.

    Parameters
    ----------
    penalty_weight : float
        Weight of the penalty once the anneal is over.
    anneal_iters : int
        Steps at weight 1. ``0``: ``penalty_weight`` from the first step, and
        no reset.
    """

    def __init__(self, penalty_weight, anneal_iters):
        self.penalty_weight = penalty_weight
        self.anneal_iters = anneal_iters

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) != 1 or self.penalty_weight == 1.0:
            return
        planned = net.max_epochs * net.train_steps_per_epoch_
        if self.anneal_iters >= planned:
            warnings.warn(
                f"penalty_anneal_iters={self.anneal_iters} is not below the {planned} "
                f"training steps: the penalty weight stays 1.0 (not penalty_weight="
                f"{self.penalty_weight:g}) for all of training. Lower penalty_anneal_iters "
                "or train for more epochs.", UserWarning, stacklevel=2)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        step = training_steps_done(net)
        annealed = step >= self.anneal_iters
        algorithm_of(net).penalty_weight = self.penalty_weight if annealed else 1.0
        if step == self.anneal_iters and step > 0:
            reset_optimizer_state(net)


class PenaltyEstimator:
    """The penalty family's estimator base: IRM and V-REx.

    What the family shares: a penalty on the training domains' risks, of
    weight ``penalty_weight`` (the papers' lambda) once
    ``penalty_anneal_iters`` steps at weight 1 are done, the optimizer's
    state cleared at the switch (:class:`PenaltyAnneal`); the strength
    ``"auto"`` searched by training-domain validation; at least 2 labeled
    domains.

    A member subclasses it and :class:`~skda.methods.DomainClassifier`,
    merges ``_penalty_constraints`` into its constraint table, and names its
    network in ``_algorithm_class``: a
    :class:`~skda.engine.DomainAlgorithm` built as
    ``(featurizer, n_features, n_classes, n_domains, *, penalty_weight)`` and
    holding ``penalty_weight``.
    """

    _penalty_constraints = {
        "penalty_weight": STRENGTH,
        "penalty_anneal_iters": [Interval(numbers.Integral, 0)],
    }
    _strength_param = "penalty_weight"
    #: DomainBed's search range, 10^[-1, 5], around its defaults (IRM 100, V-REx 10)
    _strength_grid = (1.0, 10.0, 100.0, 1000.0)
    _strength_selection = "source"
    # the penalties compare domains: one domain has nothing to be invariant across
    _min_domains = 2
    _divergence_params = ("lr", "penalty_weight")

    #: the network: IRM, or a method with the same parameters (VREx)
    _algorithm_class = IRM

    def _build_algorithm(self, featurizer, n_features, n_classes, n_domains):
        weight = 1.0 if self.penalty_anneal_iters > 0 else float(self.penalty_weight)
        return self._algorithm_class(featurizer, n_features, n_classes, n_domains,
                                     penalty_weight=weight)

    def _method_callbacks(self):
        return [("penalty_anneal", PenaltyAnneal(
            float(self.penalty_weight), int(self.penalty_anneal_iters)))]


@fill_doc
class IRMClassifier(PenaltyEstimator, DomainClassifier):
    """Invariant risk minimisation (IRMv1; Arjovsky et al., 2019), as DomainBed implements it.

    Learns features on which one classifier is optimal in every training
    domain at once: besides the domains' mean risk it penalises, per
    domain, the squared gradient of the domain's risk with respect to a
    dummy scale of the logits. A relation between features and label that
    holds in only some domains (a site's shortcut) leaves a gradient in the
    others and is penalised; the invariant relations are kept.

    Unlabeled rows are dropped with a warning; it needs labeled rows from
    at least 2 domains.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). Features are the last hidden layer's output.
    penalty_weight : float or "auto", default=100.0
        Adaptation strength: the weight of the penalty after the anneal
        (the paper's λ, DomainBed's ``irm_lambda``, 100 by default, searched over
        ``[0.1, 1e5]``). ``0`` (with ``penalty_anneal_iters=0``) is ERM on
        the mean of the domains' risks.
        {auto_strength}
    penalty_anneal_iters : int, default=200
        Optimizer steps trained with penalty weight 1 before
        ``penalty_weight`` applies (DomainBed's ``irm_penalty_anneal_iters``).
        DomainBed anneals 500 of its 5000 steps, a tenth of training; the
        default is a tenth of the about 2000 steps of ``max_epochs="auto"``.
        It counts steps, not a share of training: with fewer steps in all
        the penalty never reaches its weight (a warning says so), so lower
        it with a short ``max_epochs``. ``0``: no anneal.
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    VRExClassifier : Penalises the variance of the domains' risks instead.
    GroupDROClassifier : Minimises the worst domain's risk.
    ERMClassifier : The mean risk alone.

    Notes
    -----
    Each step, the loss is ``mean_e R_e + w * mean_e P_e`` over the
    training domains ``e`` (every batch holds an equal share of each):
    ``R_e`` is the label loss of domain ``e``'s rows, and ``P_e`` the
    product of the gradients, with respect to a scale ``s = 1`` multiplying
    the logits, of the label loss on two halves of those rows (the rows in
    even and odd position), an unbiased estimate of the squared gradient.
    A domain with fewer than 2 labeled rows in a batch has no estimate and
    is left out of the penalty's mean. ``w`` is 1 for the first
    ``penalty_anneal_iters`` steps, then ``penalty_weight``; at the switch
    the optimizer's state is cleared (a fresh Adam, as DomainBed re-creates
    it) because the gradients jump in size. As in DomainBed, and unlike the
    original code's Colored MNIST, the loss is not divided by ``w``.
    ``net_.history`` records per epoch ``train_risk`` (the mean of the
    domains' risks) and ``train_penalty`` (the mean penalty, before the
    weight).

    References
    ----------
    Arjovsky, Bottou, Gulrajani and Lopez-Paz. Invariant Risk Minimization.
    arXiv:1907.02893, 2019.

    Gulrajani and Lopez-Paz. In Search of Lost Domain Generalization. ICLR
    2021 (DomainBed).

    Examples
    --------
    >>> from skda import IRMClassifier
    >>> from skda.datasets import make_site_shift
    >>> X, y, sites = make_site_shift(n_sites=3, random_state=0)
    >>> clf = IRMClassifier(penalty_anneal_iters=10, max_epochs=5, random_state=0)
    >>> clf.fit(X, y, domains=sites).predict(X[:3]).shape
    (3,)
    >>> sorted(k for k in clf.net_.history[-1] if k in ("train_risk", "train_penalty"))
    ['train_penalty', 'train_risk']
    """

    _display_name = "IRM"
    _settings = ("domain generalization",)

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints, **PenaltyEstimator._penalty_constraints}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        penalty_weight=100.0,
        penalty_anneal_iters=200,
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
