"""Deep CORAL: align the domains' feature means and covariances (Sun & Saenko, 2016).

The whole method: the penalty over all pairs of domains
(:func:`coral_penalty`), the network that adds it to the label loss
(:class:`DeepCORAL`) and the estimator (:class:`DeepCORALClassifier`).
"""


from ..engine import Adam, DomainAlgorithm
from ..modules.alignment import domain_averaging, full_precision, mean_over_domain_pairs
from .base import STRENGTH, DomainClassifier, fill_doc
from .latent import LATENT_DOMAINS_CONSTRAINTS, LatentDomainsMixin


def _centered_gram(points, present):
    """Inner products of the rows of ``points`` after removing the present rows' mean.

    Squared distances do not change with a common shift, and removing the
    mean first keeps rounding small when the domains are already close.
    """
    weight = present.to(points.dtype)
    centre = (weight @ points) / weight.sum().clamp(min=1)
    offsets = points - centre
    return offsets @ offsets.T


def coral_penalty(z, domains, n_domains):
    """Mean over the pairs of domains of the gaps between their feature means and covariances.

    For domains ``i`` and ``j`` with feature means ``m`` and (unbiased)
    covariance matrices ``C`` over their rows of the batch, the gap is::

        mean((m_i - m_j) ** 2) + mean((C_i - C_j) ** 2)

    the first mean over the ``d`` features, the second over the ``d * d``
    entries (DomainBed's CORAL). The result averages it over the pairs
    ``i < j``. A domain needs one row in the batch for the mean term and two
    for the covariance term; pairs without them are left out (0 when no
    pair is left). Rows take part whatever their label.

    Parameters
    ----------
    z : Tensor of shape (batch, d)
        Features.
    domains : Tensor of int64 of shape (batch,)
        Domain codes ``0..n_domains-1``.
    n_domains : int
        Number of domains.

    Returns
    -------
    Tensor
        Scalar, computed in float32.
    """
    with full_precision(z.device):
        z = z.float()
        n_features = z.shape[1]
        averaging, counts = domain_averaging(domains, n_domains)
        means = averaging.T @ z
        centered = z - means[domains]
        # each domain's rows weigh 1 / (count - 1): the unbiased covariance
        weights = averaging * (counts / (counts - 1).clamp(min=1))
        # <C_i, C_j> is the sum over rows a of i and b of j of (z_a . z_b)^2, weighted: one
        # (batch x batch) product, cheaper than the domains' (d x d) covariances for d of
        # the batch's order or wider (a step's cost grows as batch^2 d, not domains batch d^2)
        covariance_gram = weights.T @ (centered @ centered.T).pow(2) @ weights
        mean_gap = mean_over_domain_pairs(_centered_gram(means, counts >= 1), counts >= 1)
        covariance_gap = mean_over_domain_pairs(covariance_gram, counts >= 2)
        return mean_gap / n_features + covariance_gap / n_features**2


class DeepCORAL(DomainAlgorithm):
    """Backbone and label head; the domains' feature means and covariances are matched.

    Loss: the label loss on the labeled rows plus ``lambda_`` times
    :func:`coral_penalty` over all the rows of the batch, unlabeled ones
    included.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, lambda_=1.0):
        super().__init__(featurizer, n_features, n_classes)
        self.n_domains = n_domains
        self.lambda_ = lambda_

    def training_loss(self, X, y, domains, label_loss):
        z = self.featurizer(X)
        class_loss = label_loss(self.classifier(z), y)
        alignment = coral_penalty(z, domains, self.n_domains)
        return class_loss + self.lambda_ * alignment, {
            "label_loss": class_loss, "alignment_loss": alignment}


@fill_doc
class DeepCORALClassifier(LatentDomainsMixin, DomainClassifier):
    """Classifier whose features have the same mean and covariance in every domain (Deep CORAL).

    Besides the label loss, a penalty measures how far apart the domains'
    features are in their first two moments: for every pair of domains, the
    squared gap between their feature means and between their feature
    covariance matrices, on the rows of each training batch. At zero, every
    linear projection of the features, such as the label head's logits, has
    the same mean and variance in every domain.

    One estimator covers both settings:

    * **unsupervised domain adaptation**: target rows have ``y == -1``; their
      X joins only the penalty (Sun & Saenko's setting, source to target);
    * **multi-source domain generalization**: every training domain is
      labeled and all pairs are aligned (DomainBed's CORAL); the test
      domain is never seen.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). The moments are those of the last hidden
        layer's output.
    lambda_ : float or "auto", default="auto"
        Weight of the penalty (the paper's λ): the loss is
        ``label loss + lambda_ * penalty``. ``0`` is plain ERM (the penalty is still recorded).
        1.0 is DomainBed's default (``mmd_gamma``), for the same penalty.
        {auto_strength}
    latent_domains : None or int >= 2, default=None
        Train on this many pseudo-domains inferred by clustering when
        ``fit`` gets ``domains=None`` (MMLD; see
        :class:`~skda.methods.latent.LatentDomainClustering`), re-inferred
        every epoch; the assignment is in ``latent_domain_labels_``.
        ``None``: use ``domains``.
    {shared_parameters}

    Attributes
    ----------
    latent_domain_labels_ : ndarray of shape (n_samples,)
        Only with ``latent_domains``: each training row's latent domain
        (``0..latent_domains-1``), from the last epoch's clustering (none when
        ``lambda_="auto"`` keeps ERM, which infers no domains).
    {shared_attributes}

    See Also
    --------
    MMDClassifier : Matches the whole feature distributions through kernels.
    DANNClassifier : Aligns the domains with an adversarial discriminator.
    ERMClassifier : The same network without the penalty (``lambda_=0``).

    Notes
    -----
    **Scaling.** The penalty of a pair of domains is the squared difference
    of their feature means averaged over the ``d`` features, plus the
    squared difference of their covariance matrices (divided by ``n - 1``)
    averaged over the ``d ** 2`` entries, and pairs are averaged: DomainBed's
    CORAL, chosen so that ``lambda_`` means what DomainBed's ``mmd_gamma``
    means and the penalty does not grow with the width ``d`` or the number
    of domains. The paper's loss, for two domains, is the covariance term
    only, divided by ``4 d ** 2``: this covariance term is 4 times it, so
    ``lambda_=0.25`` weighs the covariances as the paper's ``lambda=1``
    does. The mean term, absent from the paper (which centres the
    features), is what aligns a shift of the domains: two domains that
    differ by a translation have the same covariance.

    Batches hold an equal share of every domain; a domain's moments are
    computed on its rows of the batch, whatever their number. The penalty is
    computed in float32, even under a mixed-precision ``accelerator``, and
    is not weighted by ``sample_weight`` or ``class_weight``, which act on
    the label loss only. ``net_.history`` records per epoch
    ``train_label_loss`` and ``train_alignment_loss`` (the penalty, before
    ``lambda_``).

    References
    ----------
    Sun and Saenko. Deep CORAL: Correlation Alignment for Deep Domain
    Adaptation. ECCV 2016 Workshops (TASK-CV).

    Gulrajani and Lopez-Paz. In Search of Lost Domain Generalization. ICLR
    2021 (DomainBed, whose CORAL for several domains this follows).

    Examples
    --------
    >>> import numpy as np
    >>> from skda import DeepCORALClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> y_train = np.where(domains == "target", -1, y)  # target labels unknown
    >>> clf = DeepCORALClassifier(max_epochs=5, random_state=0)
    >>> clf.fit(X, y_train, domains=domains).domains_
    array(['source', 'target'], dtype='<U6')
    >>> "train_alignment_loss" in clf.net_.history[-1]
    True
    """

    _display_name = "Deep CORAL"
    _settings = ("unsupervised DA", "domain generalization")

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints,
        **LATENT_DOMAINS_CONSTRAINTS,
        "lambda_": STRENGTH}
    _strength_param = "lambda_"
    _aligns_domains = True
    _min_domains = 2
    _uses_unlabeled = True
    _divergence_params = ("lr", "lambda_")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        lambda_="auto",
        latent_domains=None,
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
        return DeepCORAL(featurizer, n_features, n_classes, n_domains, float(self.lambda_))

