"""Deep domain-adversarial image generation (DDAIG; Zhou et al., AAAI 2020).

The whole method: the generators of perturbations (:class:`ImagePerturbation`,
:class:`TabularPerturbation`), the network and its three alternating updates
(:class:`DDAIG`), and the estimator (:class:`DDAIGClassifier`).
"""

import copy
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .._params import NONE, Interval, Satisfies
from ..engine import Adam, DomainAlgorithm, update
from ..modules import MLP
from ._backbone import check_input_shaped
from .base import DomainClassifier, fill_doc


def _small_normal_init(module):
    """Weights ~ N(0, 0.02), biases 0: the generator starts near the identity map."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class _ResidualBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.body = nn.Sequential(
            _conv3x3(width, width), nn.InstanceNorm2d(width), nn.ReLU(),
            _conv3x3(width, width), nn.InstanceNorm2d(width))

    def forward(self, x):
        return x + self.body(x)


def _conv3x3(n_in, n_out):
    # replicate padding (the official code reflects) is defined for images of any size
    return nn.Conv2d(n_in, n_out, 3, padding=1, padding_mode="replicate", bias=False)


class ImagePerturbation(nn.Module):
    """DDAIG's generator for images: a fully convolutional net, one output per pixel in [-1, 1].

    As the official ``fcn_3x32_gctx``: a 3x3 convolution, ``n_blocks``
    residual blocks at full resolution (instance normalisation, no affine
    weights), a global-context fusion (each position's features joined with
    their average over the image by a 1x1 convolution), and a 1x1
    convolution to the input's channels through ``tanh``. The padding
    replicates the border, where the official code reflects it:
    replication is defined for images of any size.

    Parameters
    ----------
    channels : int
        Channels of the images (and of the perturbation).
    width : int, default=32
        Channels of the hidden feature maps (the official code's 32 for
        digits, 64 for PACS and Office-Home).
    n_blocks : int, default=3
        Residual blocks.
    """

    def __init__(self, channels, width=32, n_blocks=3):
        super().__init__()
        self.body = nn.Sequential(
            _conv3x3(channels, width), nn.InstanceNorm2d(width), nn.ReLU(),
            *(_ResidualBlock(width) for _ in range(n_blocks)))
        self.context = nn.Sequential(
            nn.Conv2d(2 * width, width, 1, bias=False), nn.InstanceNorm2d(width), nn.ReLU())
        self.out = nn.Sequential(nn.Conv2d(width, channels, 1), nn.Tanh())
        _small_normal_init(self)

    def forward(self, X):
        h = self.body(X)
        h = self.context(torch.cat([h, h.mean(dim=(2, 3), keepdim=True).expand_as(h)], dim=1))
        return self.out(h)


class TabularPerturbation(nn.Module):
    """DDAIG's generator for tabular rows: an MLP, one output per feature in [-1, 1].

    Parameters
    ----------
    n_features : int
        Columns of X (and of the perturbation).
    hidden_layer_sizes : tuple of int, default=(100, 100)
        Widths of the MLP's hidden layers.
    """

    def __init__(self, n_features, hidden_layer_sizes=(100, 100)):
        super().__init__()
        self.mlp = MLP(n_features, hidden_layer_sizes, n_features)
        _small_normal_init(self)

    def forward(self, X):
        return torch.tanh(self.mlp(X))


class GeneratorAlgorithm(DomainAlgorithm):
    """What the methods that train on generated inputs share (DDAIG, L2A-OT).

    Besides the task classifier: a domain classifier, a network of its own
    (a second backbone, ``make_featurizer()``, and a linear head over the
    domains), and a generator, ``make_generator()``; each part has its own
    optimizer. Both are built after the classifier, so that it starts from
    the weights ERM's would have for the same seed.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, make_featurizer,
                 make_generator):
        super().__init__(featurizer, n_features, n_classes)
        self.domain_featurizer = make_featurizer()
        self.domain_head = nn.Linear(n_features, n_domains)
        self.generator = make_generator()

    def optimizer_groups(self):
        return self.groups_by_prefix({"generator": ("generator",),
                                      "classifier": ("featurizer", "classifier"),
                                      "domain": ("domain_featurizer", "domain_head")})

    def domain_logits(self, X):
        """The domain classifier's logits for ``X``."""
        return self.domain_head(self.domain_featurizer(X))


class DDAIG(GeneratorAlgorithm):
    """A classifier, a domain classifier and a generator of domain-fooling perturbations.

    The generator ``G`` maps an input to a perturbation ``p`` of its shape;
    the generated input is ``x + perturbation * p``. Each training step,
    each part with its own optimizer (as in the official code):

    1. generator: makes generated inputs that the classifier still labels
       right and the domain classifier gets wrong, minimising
       ``CE(F(x_g), y) - CE(D(x_g), d)``;
    2. classifier: learns from the originals and the newly generated inputs,
       ``(1 - alpha) CE(F(x), y) + alpha CE(F(x_g), y)``;
    3. domain classifier: learns the domains of the originals,
       ``CE(D(x), d)``.

    The domain classifier is a network of its own, as in the official code
    (:class:`GeneratorAlgorithm`). Prediction uses the classifier alone.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, make_featurizer,
                 make_generator, perturbation=0.3, alpha=0.5):
        super().__init__(featurizer, n_features, n_classes, n_domains, make_featurizer,
                         make_generator)
        self.perturbation = perturbation
        self.alpha = alpha

    def generate(self, X):
        """Generated inputs ``X + perturbation * G(X)``."""
        return X + self.perturbation * self.generator(X)

    def training_step(self, X, y, domains, label_loss, optimizers):
        generated = self.generate(X)
        kept_label = label_loss(self(generated), y)
        fooled = F.cross_entropy(self.domain_logits(generated), domains)
        update(kept_label - fooled, optimizers, "generator")

        with torch.no_grad():
            generated = self.generate(X)
        original_loss = label_loss(self(X), y)
        generated_loss = label_loss(self(generated), y)
        class_loss = (1 - self.alpha) * original_loss + self.alpha * generated_loss
        update(class_loss, optimizers, "classifier")

        domain_loss = F.cross_entropy(self.domain_logits(X), domains)
        update(domain_loss, optimizers, "domain")

        return class_loss.detach(), {
            "original_loss": original_loss, "generated_loss": generated_loss,
            "generator_domain_loss": fooled, "domain_loss": domain_loss}


class GeneratingClassifier(DomainClassifier):
    """What the estimators of :class:`GeneratorAlgorithm` methods share: the
    ``generator`` parameter and its defaults, two domains at least, no
    Accelerate (several optimizers)."""

    _settings = ("domain generalization",)
    _parameter_constraints = {
        **DomainClassifier._parameter_constraints,
        "generator": [NONE, Satisfies(lambda v: isinstance(v, nn.Module),
                                      "a torch.nn.Module instance")],
    }
    _min_domains = 2
    _supports_accelerator = False
    #: the default generators, built as ``cls(channels or n_features, *args)``
    _image_generator = _tabular_generator = None

    def _make_generator(self, *args):
        """A copy of ``generator``, else the default one for X's kind, given ``args``."""
        if self.generator is not None:
            return copy.deepcopy(self.generator)
        shape = self._network_input_shape()
        default = self._image_generator if len(shape) == 3 else self._tabular_generator
        return default(shape[0], *args)


@fill_doc
class DDAIGClassifier(GeneratingClassifier):
    """Deep domain-adversarial image generation (DDAIG; Zhou et al., AAAI 2020), for DG.

    Domain generalization by augmentation that is learned: a generator
    network learns to perturb each training image so that a domain
    classifier can no longer tell which domain it came from, while the
    label classifier still recognises it. The classifier then trains on
    the original and the generated images, seeing versions of every domain
    pushed towards "no domain in particular", which is meant to carry over
    to domains it never saw. Needs every training row labeled and at least
    two domains; unlabeled rows are dropped with a warning.

    **Images** are what the method is for: the generator is a small fully
    convolutional network, and perturbations are in pixel units, ``perturbation
    = 0.3`` being the paper's setting for images in [0, 1] (those of
    :func:`~skda.datasets.make_shifted_digits` and
    :func:`~skda.datasets.fetch_mnist_usps`). On **tabular** X the
    generator is an MLP and the perturbation is in the units of the
    standardized columns (``input_scaling``, on by default).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored for images
        and when ``module`` is given).
    alpha : float in [0, 1], default=0.5
        Adaptation strength: the generated images' share of the
        classifier's loss (the official code's ``ALPHA``). 0 trains the
        classifier on the originals alone (ERM, with a generator and a
        domain classifier trained beside it for nothing; a BatchNorm layer
        of the backbone still sees the generated images in its running
        statistics).
    perturbation : float >= 0, default=0.3
        Scale of the perturbation: a generated input is ``x + perturbation
        * G(x)`` with ``G(x)`` in [-1, 1] (the official ``LMDA``).
    generator : None or torch.nn.Module, default=None
        Network mapping a batch of inputs to a batch of perturbations of
        the same shape (copied for each fit); its output should be bounded,
        e.g. by ``tanh``, for the generator's loss is not. ``None``: for images, the
        official ``fcn_3x32_gctx`` (:class:`~skda.methods.ddaig.ImagePerturbation`:
        32 channels, 3 residual blocks, global context); for tabular X, an
        MLP of two hidden layers of 100 (:class:`~skda.methods.ddaig.TabularPerturbation`),
        both ending in ``tanh``.
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    ERMClassifier : The same classifier trained on the originals alone.
    MixupClassifier : Augmentation by mixing rows of two domains, not learned.
    SagNetClassifier : Augmentation of the feature maps' style, for images.

    Notes
    -----
    Each step makes three updates, each part having its own optimizer:
    ``net_.optimizer_generator_``, ``net_.optimizer_classifier_`` and
    ``net_.optimizer_domain_``, all of class ``optimizer`` with ``lr`` and
    the ``optimizer__*`` settings. (skorch learning-rate schedulers act on
    ``net_.optimizer_``, and callbacks on ``on_grad_computed`` expect one
    backward pass per step: neither applies here.) A step runs the
    generator twice, the classifier three times and the domain classifier
    twice; the generator, at full resolution, costs more than the
    classifier, and a fit of the 8x8 digits takes about eight times ERM's
    (``benchmarks/results/digits_lodo.md``).

    The domain classifier is a second backbone built as the first (a new
    random one for ``module=None`` or a class; a copy of a ``module``
    instance, pretrained weights included, as the official code builds it
    from the same configuration) with a linear head over the domains.

    As in the official code, the generator's loss is ``CE(F(x_g), y) -
    CE(D(x_g), d)``: the domain term is unbounded below, and it is the
    ``tanh`` of the generator's output that keeps the perturbation within
    ``perturbation``. The official code can also clamp generated images and
    skip the generated images for the first epochs (``WARMUP``, 0 in its
    digits configuration, 3 for PACS): neither is offered here. For PACS
    and Office-Home it uses a generator of width 64,
    ``generator=ImagePerturbation(3, width=64)`` here. Its digits
    configuration trains with SGD (lr 0.05, decayed at epoch 20 of 50);
    here each part gets skda's default Adam. Its generator pads by
    reflection; here by replication, which is defined for images of any
    size.

    ``net_.history`` records per epoch ``train_loss`` (the classifier's
    loss), ``train_original_loss`` and ``train_generated_loss`` (its
    cross-entropy on each), ``train_domain_loss`` (the domain classifier's
    on the originals; chance is the log of the number of domains) and
    ``train_generator_domain_loss`` (the domain classifier's cross-entropy
    on the generated images, which the generator pushes up).

    References
    ----------
    Zhou, Yang, Hospedales and Xiang. Deep Domain-Adversarial Image
    Generation for Domain Generalisation. AAAI 2020. Official code:
    KaiyangZhou/Dassl.pytorch, ``dassl/engine/dg/ddaig.py``.

    Examples
    --------
    >>> from skda import DDAIGClassifier
    >>> from skda.datasets import make_shifted_digits
    >>> X, y, domains = make_shifted_digits("rotation", random_state=0)
    >>> train = domains != 75
    >>> clf = DDAIGClassifier(max_epochs=2, random_state=0, device="cpu")
    >>> clf.fit(X[train], y[train], domains=domains[train]).predict(X[~train]).shape
    (299,)
    """

    _display_name = "DDAIG"

    _parameter_constraints = {
        **GeneratingClassifier._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, 1)],
        "perturbation": [Interval(numbers.Real, 0)],
    }
    _image_generator, _tabular_generator = ImagePerturbation, TabularPerturbation
    _divergence_params = ("lr", "perturbation")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        alpha=0.5,
        perturbation=0.3,
        generator=None,
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
        algorithm = DDAIG(featurizer, n_features, n_classes, n_domains, self._new_featurizer,
                          self._make_generator, float(self.perturbation), float(self.alpha))
        check_input_shaped(algorithm.generator, self._network_input_shape(), name="generator",
                           what="a perturbation")
        return algorithm
