"""Conditional domain-adversarial networks (CDANN; Li et al., ECCV 2018, as in DomainBed)."""

import torch
import torch.nn.functional as F

from ..engine import Adam
from .base import STRENGTH, DomainClassifier, fill_doc
from .dann import DANN, AdversarialEstimator, grad_reverse, with_domain_loss
from .latent import LATENT_DOMAINS_CONSTRAINTS, LatentDomainsMixin


class CDANN(DANN):
    """DANN whose discriminator also knows the class, and weighs every class the same.

    The discriminator reads the reversed features together with the row's
    class (one-hot), so it can tell the domains apart only by what the
    features say *beyond the class*: the backbone is pushed to make each
    class look the same in every domain, ``p(z | y, domain) = p(z | y)``,
    and not to mix the classes when the domains hold them in different
    shares. Its loss weighs each row by the inverse count of its class in
    the batch. Unlabeled rows enter with the model's own (detached) class
    probabilities in place of a label.
    """

    @staticmethod
    def discriminator_width(n_features, n_classes):
        # the class is an input of its own: a learned per-class offset of the first layer
        return n_features + n_classes

    def training_loss(self, X, y, domains, label_loss):
        z = self.featurizer(X)
        logits = self.classifier(z)
        class_loss = label_loss(logits, y)
        labeled = (y >= 0).unsqueeze(1)
        classes = torch.where(labeled, F.one_hot(y.clamp(min=0), logits.shape[1]).to(z.dtype),
                              logits.detach().softmax(dim=1))
        domain_logits = self.discriminator(
            torch.cat([grad_reverse(z, self.reversal_coeff), classes], dim=1))
        # every class present weighs the same in the domain loss
        per_class = classes.sum(dim=0)
        row_weight = (classes / per_class.clamp(min=1e-6)).sum(dim=1)
        return with_domain_loss(class_loss, domain_logits, domains, row_weight)


@fill_doc
class CDANNClassifier(LatentDomainsMixin, AdversarialEstimator, DomainClassifier):
    """Class-conditional domain-adversarial classifier (CDANN; Li et al., ECCV 2018).

    :class:`DANNClassifier` with a discriminator that is told each row's
    class: the features are made indistinguishable across domains *within
    each class*, rather than as a whole. Use it when the domains hold the
    classes in different shares (label shift, or a site that mostly records
    one class): there DANN's marginal alignment pulls one domain's patients
    onto another's controls and erases class signal, while CDANN aligns
    patients with patients and controls with controls, and takes from the
    features what reveals the site within a class (the site shortcut).

    For multi-source domain generalization (DomainBed's CDANN) every
    training domain is labeled; for unsupervised adaptation, target rows
    (``y == -1``) enter the domain loss with the model's predicted class
    probabilities standing for their class.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given).
    lambda_ : float or "auto", default="auto"
        Adaptation strength: the gradient reversal coefficient (the
        paper's λ).
        {auto_strength}
    lambda_warmup : bool, default=True
        Ramp the coefficient from 0 to ``lambda_`` (DANN's schedule).
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
    DANNClassifier : Aligns the domains' features as a whole.
    GroupDROClassifier : Minimises the worst domain x class group's loss.

    Notes
    -----
    DomainBed adds a learned class embedding to the features before its
    discriminator, and trains the discriminator and the rest in alternating
    steps with a gradient penalty and weight decay. Here, as in
    :class:`DANNClassifier`, one step through a gradient reversal layer
    updates both, and the class enters the discriminator as a one-hot input
    beside the features: its first layer then adds a learned offset per
    class, the same family of functions. Without DomainBed's weight decay
    the added embedding grew large (on the heart-disease hospitals the two
    classes' embeddings ended farther apart than the features spread) and
    the held-out hospital was scored near chance, where the class as an
    input kept it well above. ``net_.history``
    records ``train_label_loss``, ``train_domain_loss`` and
    ``train_domain_acc``.

    References
    ----------
    Li, Tian, Gong, Liu, Liu, Zhang and Tao. Deep Domain Generalization via
    Conditional Invariant Adversarial Networks. ECCV 2018.

    Gulrajani and Lopez-Paz. In Search of Lost Domain Generalization. ICLR
    2021 (DomainBed, whose CDANN this follows).

    Examples
    --------
    >>> from skda import CDANNClassifier
    >>> from skda.datasets import make_site_shift
    >>> X, y, sites = make_site_shift(n_sites=3, site_label_dependence=0.6, random_state=0)
    >>> clf = CDANNClassifier(max_epochs=5, random_state=0).fit(X, y, domains=sites)
    >>> clf.domains_.tolist()
    ['site0', 'site1', 'site2']
    """

    _display_name = "CDANN"
    _settings = ("unsupervised DA", "domain generalization")

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints, **AdversarialEstimator._adversarial_constraints,
        **LATENT_DOMAINS_CONSTRAINTS,
        "lambda_": STRENGTH}
    _strength_param = "lambda_"
    _algorithm_class = CDANN

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        lambda_="auto",
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
