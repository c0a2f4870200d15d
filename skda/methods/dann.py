"""Domain-adversarial neural networks (Ganin et al., JMLR 2016).

The whole method: a gradient reversal layer, a discriminator behind it
(:class:`DANN`), the warm-up of the reversal coefficient
(:class:`ReversalWarmup`) and the estimators (:class:`DANNClassifier`,
:class:`DANNRegressor`).
"""

import math
import numbers

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback

from .._params import BOOLEAN, HIDDEN_SIZES, Interval, hidden_sizes
from ..engine import Adam, DomainAlgorithm, LearningRateAnnealing, algorithm_of, training_progress
from ..modules import MLP
from .base import STRENGTH, DomainClassifier, DomainRegressor, fill_doc
from .latent import LATENT_DOMAINS_CONSTRAINTS, LatentDomainsMixin


class _ReverseGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coeff):
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        return -ctx.coeff * grad_output, None


def grad_reverse(x, coeff=1.0):
    """Return ``x`` unchanged; in the backward pass multiply its gradient by ``-coeff``.

    Gradient reversal (Ganin & Lempitsky, 2015): layers after this point (a
    domain discriminator) are trained to *minimise* their loss as usual,
    while layers before it (the feature extractor) receive the reversed
    gradient and so learn to *maximise* it.
    """
    return _ReverseGrad.apply(x, float(coeff))


def ganin_schedule(progress, gamma=10.0):
    """Ganin et al.'s ramp ``2 / (1 + exp(-gamma * p)) - 1``, from 0 at p=0 towards 1."""
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


class DANN(DomainAlgorithm):
    """Backbone, label head and a domain discriminator behind gradient reversal.

    The discriminator learns to tell the ``n_domains`` domains apart from the
    features; the reversed gradient drives the backbone to make them
    indistinguishable. Unlabeled rows enter only the domain loss.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, *,
                 discriminator_hidden_layer_sizes=(100,), reversal_coeff=1.0):
        super().__init__(featurizer, n_features, n_classes)
        self.discriminator = MLP(self.discriminator_width(n_features, n_classes),
                                 discriminator_hidden_layer_sizes, n_domains)
        self.reversal_coeff = reversal_coeff

    @staticmethod
    def discriminator_width(n_features, n_classes):
        """Width of the discriminator's input: the features (a variant may add to them)."""
        return n_features

    def training_loss(self, X, y, domains, label_loss):
        return self._adversarial_loss(self.featurizer(X), y, domains, label_loss)

    def _adversarial_loss(self, z, y, domains, label_loss):
        """Label loss plus the domain loss of the features ``z``, and the terms to log."""
        class_loss = label_loss(self.classifier(z), y)
        domain_logits = self.discriminator(grad_reverse(z, self.reversal_coeff))
        return with_domain_loss(class_loss, domain_logits, domains)


def with_domain_loss(class_loss, domain_logits, domains, row_weight=None):
    """The loss of an adversarial method (label loss plus domain loss) and its terms to log.

    The domain loss is the discriminator's cross-entropy, its mean over the
    batch or, with ``row_weight``, the mean weighted by it (CDANN's class
    balance, CDAN+E's confidence). The terms are ``label_loss``,
    ``domain_loss`` and ``domain_acc``, the discriminator's accuracy.
    """
    if row_weight is None:
        domain_loss = F.cross_entropy(domain_logits, domains)
    else:
        per_row = F.cross_entropy(domain_logits, domains, reduction="none")
        domain_loss = (row_weight * per_row).sum() / row_weight.sum()
    domain_acc = (domain_logits.argmax(dim=1) == domains).float().mean()
    return class_loss + domain_loss, {
        "label_loss": class_loss, "domain_loss": domain_loss, "domain_acc": domain_acc}


class ReversalWarmup(Callback):
    """Ramp DANN's gradient-reversal coefficient from 0 to ``lambda_`` over training.

    Before each training batch, sets the module's ``reversal_coeff`` to
    ``lambda_ * (2 / (1 + exp(-gamma * p)) - 1)``, with ``p`` the fraction of
    training done (Ganin et al., JMLR 2016, section 5.2.2). Early on, when the
    features are still noise, the discriminator's signal is damped.

    Parameters
    ----------
    lambda_ : float
        Final coefficient.
    gamma : float, default=10.0
        Steepness of the ramp.
    """

    def __init__(self, lambda_, gamma=10.0):
        self.lambda_ = lambda_
        self.gamma = gamma

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            algorithm_of(net).reversal_coeff = self.lambda_ * ganin_schedule(
                training_progress(net), self.gamma)


class AdversarialEstimator:
    """The adversarial family's estimator base: DANN, CDANN, CDAN and CAADA.

    What the family shares: a discriminator behind gradient reversal
    (:func:`grad_reverse`) whose loss the network adds to the label loss
    (:func:`with_domain_loss`); the reversal coefficient ``lambda_`` (the
    papers' lambda), ramped up from 0 by :class:`ReversalWarmup` when
    ``lambda_warmup``; the learning-rate annealing of Ganin et al. when
    ``lr_annealing``; and the discriminator's ``discriminator_hidden_layer_sizes``.

    A member subclasses it and :class:`~skda.methods.DomainClassifier` (or
    :class:`~skda.methods.DomainRegressor`), after
    :class:`~skda.methods.latent.LatentDomainsMixin` where it takes
    ``latent_domains`` (the classifiers do, the regressor does not), merges
    ``_adversarial_constraints`` into its constraint table, and names its
    network in ``_algorithm_class``: a :class:`DANN` subclass, or any
    :class:`~skda.engine.DomainAlgorithm` built from the same arguments and
    holding ``reversal_coeff``. ``_variant_params`` returns the network's own
    keyword arguments beyond those.
    """

    _aligns_domains = True

    _adversarial_constraints = {
        "lambda_": [Interval(numbers.Real, 0)],
        "lambda_warmup": [BOOLEAN],
        "lr_annealing": [BOOLEAN],
        "discriminator_hidden_layer_sizes": [HIDDEN_SIZES],
    }
    _min_domains = 2
    _uses_unlabeled = True
    _divergence_params = ("lr", "lambda_")

    #: the network: DANN, or a variant built from the same parameters (CDANN, CDAN)
    _algorithm_class = DANN

    def _variant_params(self):
        """A variant's own arguments of its network, beyond DANN's."""
        return {}

    def _build_algorithm(self, featurizer, n_features, n_outputs, n_domains):
        return self._algorithm_class(
            featurizer, n_features, n_outputs, n_domains,
            discriminator_hidden_layer_sizes=hidden_sizes(self.discriminator_hidden_layer_sizes),
            reversal_coeff=0.0 if self.lambda_warmup else float(self.lambda_),
            **self._variant_params(),
        )

    def _method_callbacks(self):
        callbacks = list(super()._method_callbacks())
        if self.lambda_warmup:
            callbacks.append(("reversal_warmup", ReversalWarmup(float(self.lambda_))))
        if self.lr_annealing:
            callbacks.append(("lr_annealing", LearningRateAnnealing()))
        return callbacks


@fill_doc
class DANNClassifier(LatentDomainsMixin, AdversarialEstimator, DomainClassifier):
    """Domain-adversarial classifier (DANN; Ganin et al., JMLR 2016).

    A domain discriminator learns to tell the training domains apart from the
    learned features, while a gradient reversal layer trains the feature
    extractor to make them indistinguishable, at strength ``lambda_``.

    One estimator covers both settings:

    * **unsupervised domain adaptation**: target rows have ``y == -1``;
      their X joins only the domain loss (the paper's setting);
    * **multi-source domain generalization**: all training domains are
      labeled and the discriminator separates all of them (DomainBed's
      DANN); the test domain is never seen.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). Features are the last hidden layer's output.
    lambda_ : float or "auto", default="auto"
        Adaptation strength: the gradient reversal coefficient (the paper's
        λ). ``0`` trains the discriminator without letting it shape the features.
        {auto_strength}
    lambda_warmup : bool, default=True
        Ramp the coefficient from 0 to ``lambda_`` with the paper's schedule
        ``2 / (1 + exp(-10 p)) - 1`` (``p``: fraction of training done).
        ``False`` keeps it at ``lambda_`` throughout.
    lr_annealing : bool, default=True
        Anneal the learning rate as ``lr / (1 + 10 p) ** 0.75``, the paper's
        schedule (:class:`~skda.engine.LearningRateAnnealing`): from ``lr``
        down to a sixth of it. ``False`` keeps ``lr`` throughout.
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
    ERMClassifier : The same network without the domain loss.

    Notes
    -----
    ``net_.history`` records per epoch ``train_label_loss``,
    ``train_domain_loss`` and ``train_domain_acc`` (the discriminator's
    accuracy on training batches, which hold an equal share of each domain,
    so chance is ``1 / n_domains``).

    References
    ----------
    Ganin, Ustinova, Ajakan, Germain, Larochelle, Laviolette, Marchand and
    Lempitsky. Domain-Adversarial Training of Neural Networks. JMLR 17(59),
    2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skda import DANNClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> y_train = np.where(domains == "target", -1, y)  # target labels unknown
    >>> clf = DANNClassifier(max_epochs=5, random_state=0).fit(X, y_train, domains=domains)
    >>> clf.domains_
    array(['source', 'target'], dtype='<U6')
    """

    _display_name = "DANN"
    _settings = ("unsupervised DA", "domain generalization")

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints, **AdversarialEstimator._adversarial_constraints,
        **LATENT_DOMAINS_CONSTRAINTS,
        "lambda_": STRENGTH}
    _strength_param = "lambda_"

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


@fill_doc
class DANNRegressor(AdversarialEstimator, DomainRegressor):
    """Domain-adversarial regressor (DANN; Ganin et al., JMLR 2016) for a continuous target.

    :class:`DANNClassifier`'s network with a one-output head trained on the
    squared error: the discriminator behind gradient reversal aligns the
    domains' features while the head fits the labeled rows. Unlabeled rows
    (``y`` is ``NaN``, e.g. the target domain's) join only the domain loss;
    with every domain labeled it is multi-source domain generalization.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone.
    lambda_ : float, default=1.0
        Adaptation strength: the gradient reversal coefficient.
    lambda_warmup : bool, default=True
        Ramp the coefficient from 0 to ``lambda_`` (the paper's schedule).
    lr_annealing : bool, default=True
        Anneal the learning rate as ``lr / (1 + 10 p) ** 0.75``.
    discriminator_hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the domain discriminator.
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    DANNClassifier : The same method for classes (parameters explained there).
    ERMRegressor : The same network without the domain loss.

    Examples
    --------
    >>> import numpy as np
    >>> from skda import DANNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> domains = np.repeat(["source", "target"], 100)
    >>> X[domains == "target"] += 1.0
    >>> y = np.where(domains == "source", X[:, 0] + 5.0, np.nan)  # target unlabeled
    >>> reg = DANNRegressor(max_epochs=10, random_state=0).fit(X, y, domains=domains)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _display_name = "DANN"
    _settings = ("unsupervised DA", "domain generalization")

    _parameter_constraints = {
        **DomainRegressor._parameter_constraints, **AdversarialEstimator._adversarial_constraints}

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        lambda_=1.0,
        lambda_warmup=True,
        lr_annealing=True,
        discriminator_hidden_layer_sizes=(100,),
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
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        input_scaling="standard",
        **kwargs,
    ):
        self._store_params(locals())
