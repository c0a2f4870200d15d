"""Style-agnostic networks (Nam et al., CVPR 2021).

The whole method: the adversarial loss (:func:`uniform_cross_entropy`), the
network and its three alternating updates (:class:`SagNet`), where the
backbone is cut (:func:`split_backbone`) and the estimator
(:class:`SagNetClassifier`). The style operations are AdaIN's, in
:mod:`skda.modules.style`.
"""

import copy
import numbers

import torch
from torch import nn

from .._params import NONE, Interval, Satisfies
from ..engine import Adam, DomainAlgorithm, update
from ..modules import GlobalAvgPool, ImageStandardization, randomize_content, randomize_style
from ._backbone import probe_output
from .base import STRENGTH, DomainClassifier, fill_doc


def uniform_cross_entropy(logits):
    """Mean cross-entropy between the predicted distribution and the uniform one.

    ``-mean_k log softmax(logits)_k``, averaged over rows; smallest (``log K``)
    when every class gets probability ``1/K``. SagNet's adversarial loss.
    """
    return -torch.log_softmax(logits, dim=1).mean()


class SagNet(DomainAlgorithm):
    """Shared extractor, content-biased and style-biased heads, trained in three steps.

    ``featurizer`` is the shared part of the backbone and ``tail`` the rest;
    each head is its own copy of ``tail`` plus a linear layer. Each training
    step, with its own optimizer per part (as in the official code and
    DomainBed):

    1. content: extractor and content head learn the labels from features
       whose style is randomized (:func:`~skda.modules.randomize_style`);
    2. style: the style head learns the labels from features whose content
       is randomized (:func:`~skda.modules.randomize_content`);
    3. adversary: the extractor alone is updated to make the style head's
       prediction uniform, weighted by ``adv_weight``.

    Prediction and ``transform`` use the content path without randomization.
    """

    def __init__(self, featurizer, tail, n_features, n_classes, adv_weight=0.1, alpha=1.0):
        super().__init__(featurizer, n_features, n_classes)
        self.content = nn.Sequential(tail, GlobalAvgPool())
        self.style = nn.Sequential(
            copy.deepcopy(tail), GlobalAvgPool(), nn.Linear(n_features, n_classes))
        self.adv_weight = adv_weight
        self.alpha = alpha

    def features(self, X):
        return self.content(self.featurizer(X))

    def optimizer_groups(self):
        return self.groups_by_prefix({"featurizer": ("featurizer",),
                                      "content": ("content", "classifier"),
                                      "style": ("style",)})

    def training_step(self, X, y, domains, label_loss, optimizers):
        content_logits = self.classifier(self.content(randomize_style(
            self.featurizer(X), self.alpha)))
        content_loss = label_loss(content_logits, y)
        update(content_loss, optimizers, "featurizer", "content")

        # one pass of the updated extractor serves the style and adversarial steps
        shared = self.featurizer(X)
        style_loss = label_loss(self.style(randomize_content(shared.detach())), y)
        update(style_loss, optimizers, "style")
        adv_loss = uniform_cross_entropy(self.style(randomize_content(shared)))
        update(self.adv_weight * adv_loss, optimizers, "featurizer")

        loss = content_loss + style_loss + self.adv_weight * adv_loss
        return loss.detach(), {
            "content_loss": content_loss, "style_loss": style_loss, "adv_loss": adv_loss}


@fill_doc
class SagNetClassifier(DomainClassifier):
    """Style-agnostic network (SagNet; Nam et al., CVPR 2021) for domain generalization.

    Domain shift in images is often a shift of *style* (colour, texture,
    contrast), which CNNs rely on heavily. SagNet reduces that bias: a
    content-biased head learns from features whose style (per-channel mean
    and standard deviation of a feature map) is interpolated with another
    image's, a style-biased head learns from another image's content
    wearing this image's style, and an adversarial loss makes the feature
    extractor starve the style head. Predictions come from the content head.

    The method needs no domain labels (styles are mixed across the rows of
    each batch, which hold an equal share of every domain when ``domains``
    is given). Every row must be labeled: rows with ``y == -1`` are dropped
    with a warning.

    **Images** are where it helps. On **tabular** X it runs, but "style"
    then has a thin meaning: with the default MLP the feature vector is
    randomized as a single channel, i.e. the style of a row is the mean and
    standard deviation of its hidden units (DomainBed's treatment of
    non-image features). To group hidden units into channels, give a
    backbone whose features at the randomization point are
    ``(batch, channels, length)``. Expect no gain over ERM on tabular data
    unless the shift really is a per-row scale and offset of the features.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored for images
        and when ``module`` is given).
    adv_weight : float or "auto", default=0.1
        Weight of the adversarial (style-uncertainty) loss (the official
        code's ``w_adv``); 0.1 in the official code and in DomainBed.
        ``"auto"`` compares with plain ERM, not with SagNet at weight 0,
        which still randomizes styles.
        {auto_strength}
    randomization_stage : int or None, default=None
        Where the backbone is cut: for an ``nn.Sequential`` backbone, the
        first ``randomization_stage`` children are the shared extractor,
        randomization is applied to their output, and the remaining
        children are copied into each head (negative values count from the
        end). ``None``: right after a leading
        :class:`~skda.modules.ImageStandardization` (the default
        :class:`~skda.modules.ConvNet`'s first child), so that the style
        mixed is the images' per-channel statistics, their colour balance;
        else before the last block of a backbone that ends in
        :class:`~skda.modules.GlobalAvgPool` (as the official code cuts a
        ResNet before its last stage); else after the whole backbone
        (DomainBed's choice; the only one for a backbone that is not an
        ``nn.Sequential``). With the default cut the shared part has no
        weights, so the adversarial step has nothing to update and grey
        images have no style to mix: on them SagNet trains as ERM does.
        Cutting the ConvNet deeper, after its first block
        (``randomization_stage=2``), lost to ERM on MNIST/USPS (sweep S8 in
        ``benchmarks/results/defaults.md``).
    alpha : float, default=1.0
        Style mixing: each row's style becomes ``w * own + (1 - w) *
        other's`` with ``w ~ Beta(alpha, alpha)``. 1 (uniform) is the
        paper's; smaller values keep styles closer to one of the two.
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    ERMClassifier : The same backbone and content head without randomization.

    Notes
    -----
    The three parts (shared extractor, content head, style head) each have
    their own optimizer, ``net_.optimizer_featurizer_``,
    ``net_.optimizer_content_`` and ``net_.optimizer_style_``, all of class
    ``optimizer`` with ``lr`` and the ``optimizer__*`` settings. (skorch
    learning-rate schedulers act on ``net_.optimizer_``, and callbacks on
    ``on_grad_computed`` such as gradient clipping expect one backward pass
    per step: neither applies here.)
    Each step makes three updates; on the default ConvNet an epoch costs
    about four times an ERM epoch (``benchmarks/results/speed_images_cpu.md``),
    although the style and adversarial updates share one backbone pass.
    ``net_.history`` records per epoch ``train_content_loss``,
    ``train_style_loss`` and ``train_adv_loss`` (the style head's
    cross-entropy against the uniform distribution, at least ``log K``).
    Unlike the official code, the adversarial gradient is not clipped.

    References
    ----------
    Nam, Lee, Park, Yoon and Yoo. Reducing Domain Gap by Reducing Style
    Bias. CVPR 2021.

    Examples
    --------
    >>> from skda import SagNetClassifier
    >>> from skda.datasets import make_shifted_digits
    >>> X, y, domains = make_shifted_digits("style", random_state=0)
    >>> X.shape
    (1797, 3, 8, 8)
    >>> train = domains != "inverted"
    >>> clf = SagNetClassifier(max_epochs=2, random_state=0, device="cpu")
    >>> clf.fit(X[train], y[train], domains=domains[train]).predict(X[~train]).shape
    (299,)
    """

    _display_name = "SagNet"
    _settings = ("domain generalization",)

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints,
        "adv_weight": STRENGTH,
        "randomization_stage": [NONE, Satisfies(
            lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool), "an int")],
        "alpha": [Interval(numbers.Real, 0, closed="neither")],
    }
    _supports_accelerator = False
    _divergence_params = ("lr", "adv_weight")
    _strength_param = "adv_weight"
    #: DomainBed's search range, 10^[-2, 1], around its default 0.1
    _strength_grid = (0.01, 0.1, 1.0, 10.0)
    _strength_selection = "source"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        adv_weight=0.1,
        randomization_stage=None,
        alpha=1.0,
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
        shared, tail = split_backbone(featurizer, self.randomization_stage)
        cut = probe_output(shared, self._network_input_shape())
        if cut.ndim > 2 and not any(p.requires_grad for p in tail.parameters()):
            raise ValueError(
                "SagNet's randomization would be applied to a feature map directly before "
                "global pooling, which leaves the heads nothing but the style statistics. "
                "Use an nn.Sequential backbone and a randomization_stage before its last "
                f"learnable block (features at the cut have shape {tuple(cut.shape[1:])}).")
        return SagNet(shared, tail, n_features, n_classes, float(self.adv_weight),
                      float(self.alpha))


def split_backbone(backbone, stage):
    """``(shared, tail)`` of a backbone cut after ``stage`` children (see the docstring)."""
    if not isinstance(backbone, nn.Sequential):
        if stage is not None:
            raise ValueError(
                "randomization_stage needs an nn.Sequential backbone to cut; "
                f"{type(backbone).__name__} is not one. Leave it None to randomize the "
                "backbone's output.")
        return backbone, nn.Sequential()
    children = list(backbone)
    if stage is None:
        stage = _default_stage(children)
    elif not -len(children) <= stage <= len(children):
        raise ValueError(
            f"randomization_stage must be between {-len(children)} and {len(children)} "
            f"for this backbone of {len(children)} children, got {stage}.")
    return nn.Sequential(*children[:stage]), nn.Sequential(*children[stage:])


def _default_stage(children):
    """Where ``randomization_stage=None`` cuts an ``nn.Sequential`` backbone."""
    if children and isinstance(children[0], ImageStandardization):
        return 1  # what differs between standardized images' channels is their colour
    if len(children) >= 2 and isinstance(children[-1], GlobalAvgPool):
        return len(children) - 2  # a map right before pooling would leave only its style
    return len(children)
