"""Learning to augment by optimal transport (L2A-OT; Zhou, Yang, Hospedales, Xiang, ECCV 2020).

The whole method: the conditional generators (:class:`ImageDomainGenerator`,
:class:`TabularDomainGenerator`), the novelty term (:func:`novelty_distances`), the
network and its two phases (:class:`L2AOT`, :class:`GeneratorStart`), and the
estimator (:class:`L2AOTClassifier`).
"""


import numbers

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback
from torch import nn

from .._params import Interval
from ..engine import Adam, algorithm_of, training_progress, update
from ..modules import MLP
from ..modules.transport import padded_groups, sinkhorn_distances
from ._backbone import check_input_shaped
from .base import fill_doc
from .ddaig import GeneratingClassifier, GeneratorAlgorithm, _conv3x3, _ResidualBlock
from .irm import mean_over


class ImageDomainGenerator(nn.Module):
    """L2A-OT's generator for images: ``x -> x + G([x, domain code])``, fully convolutional.

    The one-hot code of the domain to generate is tiled over the image and
    joined to its channels (StarGAN's conditioning, as the paper's
    generator); a 3x3 convolution, ``n_blocks`` residual blocks at full
    resolution with instance normalisation, and a 1x1 convolution give a
    change of the input's shape, added to the input. Its weights start at
    PyTorch's default initialisation, not near zero: the identity map is a
    minimum of the distance the generator maximises, and a generator started
    there stays there (see :class:`L2AOTClassifier`).

    Parameters
    ----------
    channels : int
        Channels of the images.
    n_codes : int
        Length of the domain code (source and novel domains).
    width : int, default=32
        Channels of the hidden feature maps.
    n_blocks : int, default=3
        Residual blocks.
    """

    def __init__(self, channels, n_codes, width=32, n_blocks=3):
        super().__init__()
        self.body = nn.Sequential(
            _conv3x3(channels + n_codes, width), nn.InstanceNorm2d(width), nn.ReLU(),
            *(_ResidualBlock(width) for _ in range(n_blocks)),
            nn.Conv2d(width, channels, 1))

    def forward(self, X, code):
        tiled = code[:, :, None, None].expand(-1, -1, *X.shape[2:])
        return X + self.body(torch.cat([X, tiled.to(X.dtype)], dim=1))


class TabularDomainGenerator(nn.Module):
    """L2A-OT's generator for tabular rows: ``x -> x + MLP([x, domain code])``.

    Parameters
    ----------
    n_features : int
        Columns of X.
    n_codes : int
        Length of the domain code (source and novel domains).
    hidden_layer_sizes : tuple of int, default=(100, 100)
        Widths of the MLP's hidden layers.
    """

    def __init__(self, n_features, n_codes, hidden_layer_sizes=(100, 100)):
        super().__init__()
        self.mlp = MLP(n_features + n_codes, hidden_layer_sizes, n_features)

    def forward(self, X, code):
        return X + self.mlp(torch.cat([X, code.to(X.dtype)], dim=1))


def novelty_distances(source, novel, domains, n_domains, epsilon):
    """The novelty of the novel domains: the mean Sinkhorn distance from a novel domain to
    its source domain, plus the mean distance between two novel domains.

    ``novel[i]`` is the image of ``source[i]`` in the novel domain paired with
    its source domain ``domains[i]``. Means, not sums, so that the term's
    scale against the generator's other losses does not grow with the
    number of domains; a domain without rows in the batch takes part in no
    pair (and with one domain the second mean is 0). All pairs are computed
    in one batched call.
    """
    src, src_mask = padded_groups(source, domains, n_domains)
    new, new_mask = padded_groups(novel, domains, n_domains)
    present = new_mask.any(dim=1)
    a, b = (t.to(domains.device) for t in torch.triu_indices(n_domains, n_domains, offset=1))
    from_source = sinkhorn_distances(new, new_mask, src, src_mask, epsilon)
    among = sinkhorn_distances(new[a], new_mask[a], new[b], new_mask[b], epsilon)
    return mean_over(from_source, present) + mean_over(among, present[a] & present[b])


class L2AOT(GeneratorAlgorithm):
    """A task classifier, two frozen scorers and a generator of novel domains.

    The generator ``G(x, c)`` maps an input and the one-hot code ``c`` of a
    domain to an input of that domain; codes ``0..K-1`` are the ``K``
    source domains, ``K..2K-1`` the novel ones, source domain ``k`` paired
    with novel domain ``K+k``. Training has two phases, switched by
    :meth:`start_generating`:

    * **pretraining**: the task classifier ``F`` learns the labels of the
      originals (ERM) and the domain classifier ``D`` their source domains;
    * **generating**: ``F`` is copied into the label scorer ``S``, and ``S``
      and ``D`` are frozen. Each step then makes two updates: the generator
      sends each row to the novel domain of its source domain, ``x_n = G(x,
      K+d)``, and back, ``x_c = G(x_n, d)``, minimising ``CE(S(x_n), y) +
      cycle_weight * |x_c - x|_1 - novelty_weight * (W(novel, source) +
      W(novel, novel))``, ``W`` the mean Sinkhorn distance between a novel
      and a source domain, and between two novel domains, in the features
      of ``D``'s backbone; then ``F`` learns from the originals and the
      novel-domain inputs, ``(1 - alpha) CE(F(x), y) + alpha CE(F(x_n), y)``.

    The generator is scored by networks it cannot change: trained with
    ``F`` itself and a ``D`` still learning, it learns to fool them instead
    of making new domains. Prediction uses ``F`` alone.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, make_featurizer,
                 make_generator, alpha=0.5, novelty_weight=1.0, cycle_weight=10.0,
                 epsilon=0.1):
        super().__init__(featurizer, n_features, n_classes, n_domains, make_featurizer,
                         lambda: make_generator(2 * n_domains))
        self.label_scorer = nn.Sequential(make_featurizer(), nn.Linear(n_features, n_classes))
        self.label_scorer.requires_grad_(False)  # a copy of F, never trained itself
        self.n_domains = n_domains
        self.alpha = alpha
        self.novelty_weight = novelty_weight
        self.cycle_weight = cycle_weight
        self.epsilon = epsilon
        self.generating = False

    def start_generating(self):
        """End the pretraining: copy the task classifier into the label scorer, freeze both
        scorers."""
        self.label_scorer[0].load_state_dict(self.featurizer.state_dict())
        self.label_scorer[1].load_state_dict(self.classifier.state_dict())
        self.domain_featurizer.requires_grad_(False)
        self.domain_head.requires_grad_(False)
        self.generating = True
        self.train(self.training)

    def train(self, mode=True):
        super().train(mode)
        if self.generating:  # frozen: BatchNorm statistics and dropout stay as scored
            self.label_scorer.eval()
            self.domain_featurizer.eval()
        return self

    def _code(self, codes):
        return F.one_hot(codes, 2 * self.n_domains).float()

    def generate(self, X, domains):
        """``X``, from the source domains ``domains``, sent to their novel domains."""
        return self.generator(X, self._code(domains + self.n_domains))

    def training_step(self, X, y, domains, label_loss, optimizers):
        if not self.generating:
            original_loss = label_loss(self(X), y)
            update(original_loss, optimizers, "classifier")
            domain_loss = F.cross_entropy(self.domain_logits(X), domains)
            update(domain_loss, optimizers, "domain")
            return original_loss.detach(), {
                "original_loss": original_loss, "domain_loss": domain_loss}

        generated = self.generate(X, domains)
        cycled = self.generator(generated, self._code(domains))
        kept_label = label_loss(self.label_scorer(generated), y)
        cycle = (cycled - X).abs().mean()
        with torch.no_grad():
            source = self.domain_featurizer(X)
            domain_loss = F.cross_entropy(self.domain_head(source), domains)
        novelty = novelty_distances(source, self.domain_featurizer(generated), domains,
                                    self.n_domains, self.epsilon)
        update(kept_label + self.cycle_weight * cycle - self.novelty_weight * novelty,
               optimizers, "generator")

        with torch.no_grad():
            generated = self.generate(X, domains)
        original_loss = label_loss(self(X), y)
        generated_loss = label_loss(self(generated), y)
        class_loss = (1 - self.alpha) * original_loss + self.alpha * generated_loss
        update(class_loss, optimizers, "classifier")

        return class_loss.detach(), {
            "original_loss": original_loss, "domain_loss": domain_loss,
            "generated_loss": generated_loss, "scorer_loss": kept_label,
            "novelty": novelty, "cycle_loss": cycle}


class GeneratorStart(Callback):
    """End L2A-OT's pretraining once ``fraction`` of the planned training steps are done.

    Parameters
    ----------
    fraction : float in (0, 1)
        Share of the planned steps (``schedule_epochs``, else ``max_epochs``)
        that pretrain the scorers before the generator starts.
    """

    def __init__(self, fraction):
        self.fraction = fraction

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            algorithm = algorithm_of(net)
            if not algorithm.generating and training_progress(net) >= self.fraction:
                algorithm.start_generating()


@fill_doc
class L2AOTClassifier(GeneratingClassifier):
    """Learning to augment by optimal transport (L2A-OT; Zhou et al., ECCV 2020), for DG.

    Domain generalization by synthesizing domains that are not in the
    training data: a conditional generator maps the images of each source
    domain to a novel domain of its own, trained to make the novel domains
    as far as possible, in optimal-transport (Sinkhorn) distance, from
    their source domains and from each other, while a classification loss and a
    cycle-consistency loss (mapping back to the source domain gives the
    image back) keep the content. The classifier trains on the source
    images and their novel-domain versions, seeing more domains than the
    data holds. Needs every training row labeled and at least two
    domains; unlabeled rows are dropped with a warning.

    Training has two phases. For the first ``pretrain_fraction`` of the
    steps the classifier learns from the originals alone (ERM) while a
    domain classifier learns the source domains; then both are frozen as
    the generator's judges (a copy of the classifier scores the kept
    labels, the domain classifier's features carry the distances), and the
    generator and the classifier train together for the rest.

    **Images** are what the method is for: the generator is a small fully
    convolutional network conditioned on the domain code. On **tabular**
    X the generator is an MLP over the (standardized) columns and the code.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored for images
        and when ``module`` is given).
    alpha : float in [0, 1], default=0.5
        Adaptation strength: the novel-domain inputs' share of the
        classifier's loss once the generator runs (the paper's source and
        generated terms weigh the same). 0 trains the classifier on the
        originals alone (a BatchNorm layer of the backbone still sees the
        generated inputs in its running statistics).
    novelty_weight : float >= 0, default=1.0
        Weight of the novelty term in the generator's loss, which the
        generator maximises: the mean Sinkhorn distance from a novel domain
        to its source domain plus the mean distance between two novel
        domains (each in [0, 2]).
    cycle_weight : float >= 0, default=10.0
        Weight of the cycle-consistency term, the mean absolute difference
        between an input and its image sent to a novel domain and back.
    pretrain_fraction : float in (0, 1), default=0.5
        Share of the training steps that train the classifier and the
        domain classifier before they are frozen as the generator's judges.
    epsilon : float > 0, default=0.1
        Entropic regularisation of the Sinkhorn distance, in units of its
        cosine cost (in [0, 2]).
    generator : None or torch.nn.Module, default=None
        A module called as ``generator(X, code)``, ``code`` a float one-hot
        tensor ``(batch, 2 * n_domains)`` (the source domains' codes, then
        the novel ones'), returning inputs of X's shape (copied for each
        fit). ``None``: for images
        :class:`~skda.methods.l2aot.ImageDomainGenerator` (32 channels, 3
        residual blocks), for tabular X
        :class:`~skda.methods.l2aot.TabularDomainGenerator` (two hidden
        layers of 100).
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    DDAIGClassifier : Learned perturbations that fool a domain classifier.
    ERMClassifier : The same classifier trained on the originals alone.

    Notes
    -----
    The official code was never released. Where this implementation makes
    a choice the paper's description leaves open, or departs from it:

    * the generator's classification loss comes from a label classifier,
      and its distances from the features of a domain classifier, both
      trained on the source domains and then frozen, as the public
      reimplementations do (here they are pretrained within the same fit,
      and the label scorer is a copy of the task classifier at the end of
      pretraining, which the task classifier then goes on from). A first
      version trained both together with the generator and fell well
      below ERM on held-out rotations: the generator learned to fool the
      networks that scored it;
    * the domain classifier is a second backbone built as the first (a
      copy of a ``module`` instance, pretrained weights included) with a
      linear head over the source domains;
    * the Sinkhorn distance is written in torch
      (:func:`skda.modules.transport.sinkhorn_distances`: log domain, 50
      iterations, ``epsilon`` above), with the cosine cost, so that the
      novelty term is bounded; the transport plan is not differentiated
      (the distance's gradient flows through the cost). It matches POT's
      ``ot.sinkhorn2`` on the same cost;
    * source domain ``k`` is sent to novel domain ``k`` (as many novel
      domains as source domains, as in the paper), and the novelty is the
      distance from each novel domain to its own source plus the distances
      among the novel domains, as in the public reimplementation
      (mousecpn/L2A-OT), averaged rather than summed so that its balance
      with the other terms does not change with the number of domains. A
      version that averaged the distances from every novel domain to every
      source domain rewarded leaving each novel domain on its own source,
      already far from the others: its generator did not move;
    * the generator adds its output to the input and is a small fully
      convolutional network rather than the paper's encoder-decoder. It
      starts at PyTorch's default initialisation: the identity map is a
      minimum of the distance it maximises (a matched pair's cosine cost
      has no gradient at zero), and a generator started near the identity
      (as DDAIG's is) stayed there;
    * every part trains with skda's Adam at ``lr`` (the paper uses SGD).

    The generator starts after ``pretrain_fraction`` of the planned steps
    (under ``early_stopping``, of ``max_epochs="auto"``'s length, capped by
    ``max_epochs``): a fit shorter than that, or early stopping that keeps
    an epoch of the pretraining (its validation rows come from the source
    domains), gives ERM's model. ``net_.module_.generating`` tells whether
    the generator ran.

    The design was settled on development problems that no reported table
    uses (``benchmarks/results/l2aot_development.md``, with the same
    generator without its novelty term); the reported figures, beside ERM
    and DDAIG, are in ``benchmarks/results/digits_lodo.md`` (rotations) and
    ``digits_lodo_style_cuda.md`` (styles).

    Each generating step runs the generator three times (two with
    gradients), the label scorer once, the domain classifier's backbone
    and the classifier twice each; a pretraining step costs two ERM steps.
    A fit costs five to seven ERM fits (the "s / fit" columns of the tables
    above). ``net_.optimizer_generator_``, ``net_.optimizer_classifier_``
    and ``net_.optimizer_domain_`` are the
    optimizers (class ``optimizer``, ``lr`` and the ``optimizer__*``
    settings).

    ``net_.history`` records per epoch ``train_loss`` (the classifier's),
    ``train_original_loss`` and ``train_domain_loss`` (the domain
    classifier's on the originals; chance is the log of the number of
    domains) and, from the epoch the generator starts (that epoch counting
    its pretraining steps as 0), ``train_generated_loss``,
    ``train_scorer_loss`` (the frozen label scorer's on the novel-domain
    inputs), ``train_novelty`` (the novelty term, which the
    generator pushes up) and ``train_cycle_loss``.

    References
    ----------
    Zhou, Yang, Hospedales and Xiang. Learning to Generate Novel Domains for
    Domain Generalization. ECCV 2020 (arXiv:2007.03304).

    Examples
    --------
    >>> from skda import L2AOTClassifier
    >>> from skda.datasets import make_shifted_digits
    >>> X, y, domains = make_shifted_digits("rotation", random_state=0)
    >>> train = domains != 75
    >>> clf = L2AOTClassifier(max_epochs=2, random_state=0, device="cpu")
    >>> clf.fit(X[train], y[train], domains=domains[train]).predict(X[~train]).shape
    (299,)
    """

    _display_name = "L2A-OT"

    _parameter_constraints = {
        **GeneratingClassifier._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, 1)],
        "novelty_weight": [Interval(numbers.Real, 0)],
        "cycle_weight": [Interval(numbers.Real, 0)],
        "pretrain_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "epsilon": [Interval(numbers.Real, 0, closed="neither")],
    }
    _image_generator, _tabular_generator = ImageDomainGenerator, TabularDomainGenerator
    _divergence_params = ("lr", "novelty_weight")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        alpha=0.5,
        novelty_weight=1.0,
        cycle_weight=10.0,
        pretrain_fraction=0.5,
        epsilon=0.1,
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
        algorithm = L2AOT(featurizer, n_features, n_classes, n_domains, self._new_featurizer,
                          self._make_generator, float(self.alpha), float(self.novelty_weight),
                          float(self.cycle_weight), float(self.epsilon))
        codes = F.one_hot(torch.arange(2) % (2 * n_domains), 2 * n_domains).float()
        check_input_shaped(algorithm.generator, self._network_input_shape(), codes,
                           name="generator", what="inputs")
        return algorithm

    def _method_callbacks(self):
        return [("generator_start", GeneratorStart(float(self.pretrain_fraction)))]
