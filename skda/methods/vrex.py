"""Risk extrapolation (V-REx; Krueger et al., ICML 2021).

The network and loss (:class:`VREx`) and the estimator
(:class:`VRExClassifier`); the schedule of the penalty weight and its
optimizer reset are IRM's (:class:`~skda.methods.irm.PenaltyAnneal`).
"""

from ..engine import Adam, DomainAlgorithm
from .base import DomainClassifier, fill_doc
from .irm import PenaltyEstimator, labeled_counts, mean_over


def risk_variance(risks, present):
    """Variance of the ``present`` domains' risks (over the domains, ``ddof=0``), and their mean.

    Returns ``(variance, mean)``; both 0 when no domain is present.
    """
    mean = mean_over(risks, present)
    return mean_over((risks - mean) ** 2, present), mean


class VREx(DomainAlgorithm):
    """Backbone and label head trained on the domains' mean risk plus their variance.

    The loss is ``mean_e R_e + penalty_weight * var_e R_e`` over the
    domains ``e`` with labeled rows in the batch, ``R_e`` being the label
    loss of domain ``e``'s rows. Equal risks everywhere is what a predictor
    whose errors do not depend on the domain achieves; the variance pulls
    towards it. ``penalty_weight`` is set before each step by
    :class:`~skda.methods.irm.PenaltyAnneal`.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, *, penalty_weight=1.0):
        super().__init__(featurizer, n_features, n_classes)
        self.n_domains = n_domains
        self.penalty_weight = penalty_weight

    def training_loss(self, X, y, domains, label_loss):
        risks = label_loss(self(X), y, groups=domains, n_groups=self.n_domains)
        penalty, risk = risk_variance(risks, labeled_counts(y, domains, self.n_domains) > 0)
        return risk + self.penalty_weight * penalty, {
            "risk": risk.detach(), "penalty": penalty.detach()}


@fill_doc
class VRExClassifier(PenaltyEstimator, DomainClassifier):
    """Variance risk extrapolation (V-REx; Krueger et al., ICML 2021), as in DomainBed.

    Minimises the mean of the training domains' risks plus their variance:
    a model whose loss is the same in every training domain. The paper's
    argument: robustness to the shifts seen between training domains, and
    to larger ones in the same directions (extrapolated), asks for risks
    that do not move with the domain, and the variance of the risks
    measures how much they do. Unlike GroupDRO, which only lowers the worst
    domain's risk, the variance also raises the easy domains' risks towards
    the others' when that is what makes them equal.

    Unlabeled rows are dropped with a warning; it needs labeled rows from
    at least 2 domains.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). Features are the last hidden layer's output.
    penalty_weight : float or "auto", default=10.0
        Adaptation strength: the weight of the variance after the anneal
        (the paper's β, DomainBed's ``vrex_lambda``, 10 by default, searched over
        ``[0.1, 1e5]``). ``0`` (with ``penalty_anneal_iters=0``) is ERM on
        the mean of the domains' risks.
        {auto_strength}
    penalty_anneal_iters : int, default=200
        Optimizer steps trained with penalty weight 1 before
        ``penalty_weight`` applies (DomainBed's ``vrex_penalty_anneal_iters``).
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
    IRMClassifier : Penalises the gradient of each domain's risk instead.
    GroupDROClassifier : Minimises the worst domain's risk.
    ERMClassifier : The mean risk alone.

    Notes
    -----
    Each step, the loss is ``mean_e R_e + w * var_e R_e`` over the training
    domains ``e`` with labeled rows in the batch (every batch holds an
    equal share of each domain): ``R_e`` is the label loss of domain
    ``e``'s rows, the variance is over domains (divided by their number).
    ``w`` is 1 for the first ``penalty_anneal_iters`` steps, then
    ``penalty_weight``; at the switch the optimizer's state is cleared (a
    fresh Adam, as DomainBed re-creates it) because the gradients jump in
    size. As in DomainBed, the loss is not divided by ``w``.
    ``net_.history`` records per epoch ``train_risk`` (the mean of the
    domains' risks) and ``train_penalty`` (their variance).

    References
    ----------
    Krueger, Caballero, Jacobsen, Zhang, Binas, Zhang, Le Priol and
    Courville. Out-of-Distribution Generalization via Risk Extrapolation
    (REx). ICML 2021.

    Examples
    --------
    >>> from skda import VRExClassifier
    >>> from skda.datasets import make_site_shift
    >>> X, y, sites = make_site_shift(n_sites=3, random_state=0)
    >>> clf = VRExClassifier(penalty_anneal_iters=10, max_epochs=5, random_state=0)
    >>> clf.fit(X, y, domains=sites).predict(X[:3]).shape
    (3,)
    >>> clf.net_.history[-1]["train_penalty"] >= 0
    True
    """

    _display_name = "V-REx"
    _settings = ("domain generalization",)

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints, **PenaltyEstimator._penalty_constraints}
    _algorithm_class = VREx

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        penalty_weight=10.0,
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
