"""Domain-adversarial neural networks (Ganin et al., JMLR 2016)."""

import torch.nn.functional as F

from .._validation import check_hidden_sizes, check_real
from ..engine import Adam, LearningRateAnnealing, ReversalWarmup
from ..modules import MLP, grad_reverse
from .base import DomainAlgorithm, DomainClassifier, fill_doc


class DANN(DomainAlgorithm):
    """Backbone, label head and a domain discriminator behind gradient reversal.

    The discriminator learns to tell the ``n_domains`` domains apart from the
    features; the reversed gradient drives the backbone to make them
    indistinguishable. Unlabeled rows enter only the domain loss.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains,
                 discriminator_hidden_layer_sizes=(100,), reversal_coeff=1.0):
        super().__init__(featurizer, n_features, n_classes)
        self.discriminator = MLP(n_features, discriminator_hidden_layer_sizes, n_domains)
        self.reversal_coeff = reversal_coeff

    def training_loss(self, X, y, domains, label_loss):
        z = self.featurizer(X)
        class_loss = label_loss(self.classifier(z), y)
        domain_logits = self.discriminator(grad_reverse(z, self.reversal_coeff))
        domain_loss = F.cross_entropy(domain_logits, domains)
        domain_acc = (domain_logits.argmax(dim=1) == domains).float().mean()
        return class_loss + domain_loss, {
            "label_loss": class_loss, "domain_loss": domain_loss, "domain_acc": domain_acc}


@fill_doc
class DANNClassifier(DomainClassifier):
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
    lambda_ : float, default=1.0
        Adaptation strength: the gradient reversal coefficient. ``0`` trains
        the discriminator without letting it shape the features.
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
    {shared_parameters}

    Attributes
    ----------
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

    _min_domains = 2
    _uses_unlabeled = True
    _divergence_params = ("lr", "lambda_")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
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
        **kwargs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.lambda_ = lambda_
        self.lambda_warmup = lambda_warmup
        self.lr_annealing = lr_annealing
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes
        super().__init__(
            module=module, augment=augment, max_epochs=max_epochs, batch_size=batch_size, lr=lr,
            optimizer=optimizer, callbacks=callbacks, device=device, accelerator=accelerator,
            random_state=random_state, verbose=verbose, **kwargs)

    def _check_params(self):
        super()._check_params()
        check_real(self.lambda_, "lambda_")
        for name in ("lambda_warmup", "lr_annealing"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}.")
        check_hidden_sizes(
            self.discriminator_hidden_layer_sizes, "discriminator_hidden_layer_sizes")

    def _build_algorithm(self, featurizer, n_features, n_classes, n_domains):
        return DANN(
            featurizer, n_features, n_classes, n_domains,
            check_hidden_sizes(self.discriminator_hidden_layer_sizes,
                               "discriminator_hidden_layer_sizes"),
            reversal_coeff=0.0 if self.lambda_warmup else float(self.lambda_),
        )

    def _method_callbacks(self):
        callbacks = []
        if self.lambda_warmup:
            callbacks.append(("reversal_warmup", ReversalWarmup(float(self.lambda_))))
        if self.lr_annealing:
            callbacks.append(("lr_annealing", LearningRateAnnealing()))
        return callbacks

