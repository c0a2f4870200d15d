"""Group distributionally robust optimisation (GroupDRO; Sagawa et al., ICLR 2020)."""


import torch
from sklearn.utils.validation import check_is_fitted

from .._params import Options
from ..engine import Adam, DomainAlgorithm, algorithm_of
from .base import STRENGTH, DomainClassifier, fill_doc


class GroupDRO(DomainAlgorithm):
    """Backbone and label head trained on a mixture of group risks that leans to the worst.

    Keeps one weight per group (``group_weights``, summing to 1). Each step,
    every group present in the batch has its weight multiplied by
    ``exp(eta * its loss)`` before renormalising (exponentiated-gradient
    ascent on the mixture), and the network descends the weighted sum of
    the group losses: the groups it serves worst gain weight until their
    loss comes down.

    Groups are the domains (``by_class=False``, DomainBed's GroupDRO) or the
    domain x class cells (``by_class=True``, the paper's groups of a
    spurious attribute and the label).
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, eta=0.01, by_class=False):
        super().__init__(featurizer, n_features, n_classes)
        self.eta = eta
        self.by_class = by_class
        self.n_classes = n_classes
        self.n_groups = n_domains * n_classes if by_class else n_domains
        self.register_buffer("group_weights", torch.full((self.n_groups,), 1.0 / self.n_groups))

    def training_loss(self, X, y, domains, label_loss):
        logits = self(X)
        groups = domains * self.n_classes + y.clamp(min=0) if self.by_class else domains
        losses = label_loss(logits, y, groups=groups, n_groups=self.n_groups)
        with torch.no_grad():
            present = torch.zeros_like(losses).index_add_(0, groups, (y >= 0).to(losses.dtype))
            step = torch.where(present > 0, self.eta * losses, 0.0)
            weights = self.group_weights * torch.exp(step)
            self.group_weights.copy_(weights / weights.sum())
        loss = (self.group_weights * losses).sum()
        return loss, {"worst_group_loss": losses.detach().max()}


@fill_doc
class GroupDROClassifier(DomainClassifier):
    """Classifier that minimises the worst group's loss (GroupDRO; Sagawa et al., ICLR 2020).

    Instead of the average loss, it minimises a mixture of the groups'
    losses whose weights rise, step by step, on the groups with the highest
    loss: what it learns must hold on every group, not only on the large or
    easy ones.

    * ``group_by="domain"``: a group per training domain (DomainBed's
      GroupDRO for domain generalization).
    * ``group_by="domain_class"``: a group per domain x class cell, the
      paper's groups. When a site predicts the label (controls recorded at
      one site, patients at another), the rare cells (a site's few patients)
      are the ones a shortcut through the site gets wrong, and GroupDRO
      weighs them up.

    Unlabeled rows are dropped with a warning.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given).
    eta : float or "auto", default=0.01
        Step size of the group weights' update (the paper's
        η_q, 0.01 there and in DomainBed): the adaptation strength. 0 keeps the weights uniform, the
        average of the groups' losses.
        {auto_strength}
    group_by : {{"domain", "domain_class"}}, default="domain"
        The groups whose worst loss is minimised. With ``"domain_class"``
        every class counts the same from the start (the loss is a mixture of
        the groups' mean losses), so ``class_weight`` must stay None.
    {shared_parameters}

    Attributes
    ----------
    group_weights_ : ndarray of shape (n_domains,) or (n_domains, n_classes)
        The groups' final weights (rows follow ``domains_``, columns
        ``classes_``), summing to 1: where the model had most difficulty.
    {shared_attributes}

    See Also
    --------
    ERMClassifier : The average loss (``eta=0``).

    Notes
    -----
    Batches hold an equal share of every domain, and the weighted loss of a
    group is its mean over the group's rows in the batch; a group without
    rows in a batch keeps its weight unchanged in that step (before
    renormalisation). ``net_.history`` records ``train_worst_group_loss``.
    The paper pairs GroupDRO with strong weight decay; give it with
    ``optimizer__weight_decay``.

    References
    ----------
    Sagawa, Koh, Hashimoto and Liang. Distributionally Robust Neural
    Networks for Group Shifts: On the Importance of Regularization for
    Worst-Case Generalization. ICLR 2020.

    Examples
    --------
    >>> from skda import GroupDROClassifier
    >>> from skda.datasets import make_site_shift
    >>> X, y, sites = make_site_shift(n_sites=2, site_label_dependence=0.8, random_state=0)
    >>> clf = GroupDROClassifier(group_by="domain_class", max_epochs=5, random_state=0)
    >>> clf.fit(X, y, domains=sites).group_weights_.shape
    (2, 2)
    """

    _display_name = "GroupDRO"
    _settings = ("domain generalization",)

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints,
        "eta": STRENGTH,
        "group_by": [Options("domain", "domain_class")],
    }
    _strength_param = "eta"
    #: DomainBed's search range, 10^[-3, -1], around its default 0.01
    _strength_grid = (0.001, 0.01, 0.1)
    _strength_selection = "source"
    _divergence_params = ("lr", "eta")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        eta=0.01,
        group_by="domain",
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
        if self.group_by == "domain_class" and self.class_weight is not None:
            raise ValueError(
                "class_weight has no effect with group_by='domain_class': each group holds one "
                "class, and the group weights set how much each counts. Leave class_weight at "
                "None, or use group_by='domain'.")
        return GroupDRO(featurizer, n_features, n_classes, n_domains, float(self.eta),
                        by_class=self.group_by == "domain_class")

    @property
    def group_weights_(self):
        check_is_fitted(self)
        module = algorithm_of(self.net_)
        weights = module.group_weights.detach().cpu().numpy()
        return weights.reshape(-1, module.n_classes) if module.by_class else weights
