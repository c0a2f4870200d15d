"""Correlation-aware adversarial DA and DG (CAADA; Rahman et al., Pattern Recognition 2020)."""

import numbers

from .._params import Interval
from ..engine import Adam
from .base import STRENGTH, DomainClassifier, fill_doc
from .coral import coral_penalty
from .dann import DANN, AdversarialEstimator
from .latent import LATENT_DOMAINS_CONSTRAINTS, LatentDomainsMixin


class CAADA(DANN):
    """DANN plus the CORAL penalty: adversarial and correlation alignment together.

    The discriminator behind gradient reversal aligns what it can tell
    apart; the penalty of :func:`~skda.methods.coral.coral_penalty` also
    matches the domains' feature means and covariances directly, which the
    adversarial game reaches only at its equilibrium.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, *,
                 discriminator_hidden_layer_sizes=(100,), reversal_coeff=1.0, coral_weight=1.0):
        super().__init__(featurizer, n_features, n_classes, n_domains,
                         discriminator_hidden_layer_sizes=discriminator_hidden_layer_sizes,
                         reversal_coeff=reversal_coeff)
        self.coral_weight = coral_weight
        self.n_domains = n_domains

    def training_loss(self, X, y, domains, label_loss):
        z = self.featurizer(X)
        loss, terms = self._adversarial_loss(z, y, domains, label_loss)
        correlation = coral_penalty(z, domains, self.n_domains)
        return loss + self.coral_weight * correlation, {**terms, "coral_loss": correlation}


@fill_doc
class CAADAClassifier(LatentDomainsMixin, AdversarialEstimator, DomainClassifier):
    """Correlation-aware adversarial classifier (CAADA; Rahman et al., Pattern Recognition 2020).

    :class:`DANNClassifier`'s domain-adversarial loss plus
    :class:`DeepCORALClassifier`'s correlation alignment: the features are
    pushed to fool a domain discriminator and to have the same mean and
    covariance in every domain. For unsupervised adaptation (target rows
    ``y == -1``, in both alignments) and for multi-source domain
    generalization (every pair of training domains aligned), as the paper
    proposes.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given).
    lambda_ : float or "auto", default="auto"
        Strength of the adversarial alignment: the gradient reversal
        coefficient.
        {auto_strength}
    coral_weight : float, default=1.0
        Weight of the correlation-alignment penalty (DomainBed's scaling,
        see :func:`~skda.methods.coral.coral_penalty`). ``0`` is DANN.
    lambda_warmup : bool, default=True
        Ramp the reversal coefficient from 0 to ``lambda_`` (DANN's
        schedule); the penalty applies in full from the start.
    lr_annealing : bool, default=True
        Anneal the learning rate as ``lr / (1 + 10 p) ** 0.75``.
    discriminator_hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the domain discriminator.
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
    DANNClassifier : The adversarial alignment alone.
    DeepCORALClassifier : The correlation alignment alone.

    Notes
    -----
    The paper weighs its classification, adversarial and CORAL losses with
    two trade-offs; here they are ``lambda_`` (through gradient reversal, as
    in DANN) and ``coral_weight``. No official code was published to check
    the details against. ``net_.history`` records ``train_label_loss``,
    ``train_domain_loss``, ``train_domain_acc`` and ``train_coral_loss``.

    References
    ----------
    Rahman, Fookes, Baktashmotlagh and Sridharan. Correlation-aware
    Adversarial Domain Adaptation and Generalization. Pattern Recognition
    100, 2020 (arXiv:1911.12983).

    Examples
    --------
    >>> import numpy as np
    >>> from skda import CAADAClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> y_train = np.where(domains == "target", -1, y)  # target labels unknown
    >>> clf = CAADAClassifier(max_epochs=5, random_state=0).fit(X, y_train, domains=domains)
    >>> "train_coral_loss" in clf.net_.history[-1]
    True
    """

    _display_name = "CAADA"
    _settings = ("unsupervised DA", "domain generalization")

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints, **AdversarialEstimator._adversarial_constraints,
        **LATENT_DOMAINS_CONSTRAINTS,
        "coral_weight": [Interval(numbers.Real, 0)],
        "lambda_": STRENGTH}
    _strength_param = "lambda_"
    _algorithm_class = CAADA
    _divergence_params = ("lr", "lambda_", "coral_weight")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        lambda_="auto",
        coral_weight=1.0,
        lambda_warmup=True,
        lr_annealing=True,
        discriminator_hidden_layer_sizes=(100,),
        latent_domains=None,
        module=None,
        augment=None,
        max_epochs="auto",
        batch_size=128,
        lr=1e-2,
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

    def _variant_params(self):
        return {"coral_weight": float(self.coral_weight)}
