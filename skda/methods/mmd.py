"""Maximum mean discrepancy between the domains' features (DomainBed's MMD; DAN's MK-MMD).

The whole method: the Gaussian kernels (:func:`gaussian_kernels`), the
penalty over all pairs of domains (:func:`mmd_penalty`), the network that
adds it to the label loss (:class:`MMD`) and the estimator
(:class:`MMDClassifier`).
"""


import torch

from .._params import Options
from ..engine import Adam, DomainAlgorithm
from ..modules.alignment import domain_averaging, full_precision, mean_over_domain_pairs
from .base import STRENGTH, DomainClassifier, fill_doc
from .latent import LATENT_DOMAINS_CONSTRAINTS, LatentDomainsMixin

#: ``kernel="fixed"``: the factors ``g`` of the kernels ``exp(-g ||a - b||^2)`` (DomainBed's)
FIXED_GAMMAS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)

#: ``kernel="adaptive"``: bandwidths as multiples of the batch's mean squared distance (DAN's)
ADAPTIVE_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)


def gaussian_kernels(z, kernel="adaptive"):
    """Sum of Gaussian kernels between all rows of ``z``: a ``(batch, batch)`` matrix.

    Parameters
    ----------
    z : Tensor of shape (batch, d)
        Features.
    kernel : {"adaptive", "fixed"}, default="adaptive"
        ``"adaptive"``: ``sum_k exp(-||a - b||^2 / (s_k * w))`` with ``w``
        the mean squared distance between distinct rows of the batch
        (treated as a constant: no gradient flows through it) and ``s_k``
        in :data:`ADAPTIVE_SCALES`, ``2 ** -2 .. 2 ** 2`` (DAN's kernels).
        ``"fixed"``: ``sum_g exp(-g ||a - b||^2)`` over ``g`` in
        :data:`FIXED_GAMMAS`, ``1e-3 .. 1e3`` (DomainBed's).

    Returns
    -------
    Tensor of shape (batch, batch)
    """
    n = z.shape[0]
    # squared distances do not change with a common shift; centring first limits rounding
    z = z - z.mean(dim=0)
    norms = z.pow(2).sum(dim=1)
    squared = (norms[:, None] + norms[None, :] - 2 * z @ z.T).clamp(min=0)
    squared = squared * (1 - torch.eye(n, dtype=z.dtype, device=z.device))
    if kernel == "fixed":
        gammas = torch.tensor(FIXED_GAMMAS, dtype=z.dtype, device=z.device)
    else:
        width = squared.detach().sum() / max(n * (n - 1), 1)
        scales = torch.tensor(ADAPTIVE_SCALES, dtype=z.dtype, device=z.device)
        # identical rows everywhere give width 0: then every kernel value is 1
        gammas = 1.0 / (scales * width).clamp(min=torch.finfo(z.dtype).tiny)
    return torch.exp(-gammas[:, None, None] * squared).sum(dim=0)


def mmd_penalty(z, domains, n_domains, kernel="adaptive"):
    """Mean over the pairs of domains of the squared MMD between their features.

    For domains ``i`` and ``j``, with ``k`` the kernel of
    :func:`gaussian_kernels` computed once on the whole batch::

        MMD^2 = mean k(a, a') + mean k(b, b') - 2 mean k(a, b)

    over the rows ``a, a'`` of ``i`` and ``b, b'`` of ``j`` (the biased
    estimate, pairs of a row with itself included, as in DomainBed and
    DAN's code). The result averages it over the pairs ``i < j`` of domains
    with rows in the batch (0 when fewer than two have). Rows take part
    whatever their label.

    Parameters
    ----------
    z : Tensor of shape (batch, d)
        Features.
    domains : Tensor of int64 of shape (batch,)
        Domain codes ``0..n_domains-1``.
    n_domains : int
        Number of domains.
    kernel : {"adaptive", "fixed"}, default="adaptive"
        See :func:`gaussian_kernels`.

    Returns
    -------
    Tensor
        Scalar, computed in float32.
    """
    with full_precision(z.device):
        z = z.float()
        averaging, counts = domain_averaging(domains, n_domains)
        # mean kernel value between the rows of every two domains: (n_domains, n_domains)
        gram = averaging.T @ gaussian_kernels(z, kernel) @ averaging
        return mean_over_domain_pairs(gram, counts > 0)


class MMD(DomainAlgorithm):
    """Backbone and label head; the MMD between every two domains' features is minimised.

    Loss: the label loss on the labeled rows plus ``lambda_`` times
    :func:`mmd_penalty` over all the rows of the batch, unlabeled ones
    included.
    """

    def __init__(self, featurizer, n_features, n_classes, n_domains, lambda_=1.0,
                 kernel="adaptive"):
        super().__init__(featurizer, n_features, n_classes)
        self.n_domains = n_domains
        self.lambda_ = lambda_
        self.kernel = kernel

    def training_loss(self, X, y, domains, label_loss):
        z = self.featurizer(X)
        class_loss = label_loss(self.classifier(z), y)
        alignment = mmd_penalty(z, domains, self.n_domains, self.kernel)
        return class_loss + self.lambda_ * alignment, {
            "label_loss": class_loss, "alignment_loss": alignment}


@fill_doc
class MMDClassifier(LatentDomainsMixin, DomainClassifier):
    """Classifier whose features are distributed alike in every domain, by kernel MMD.

    Besides the label loss, the maximum mean discrepancy (MMD) between the
    features of every pair of domains is minimised, on the rows of each
    training batch. With Gaussian kernels the MMD is zero only when the two
    distributions are the same, so it matches every moment of the features,
    not only the first two that :class:`DeepCORALClassifier` matches.

    One estimator covers both settings:

    * **unsupervised domain adaptation**: target rows have ``y == -1``; their
      X joins only the penalty (DAN, Long et al., ICML 2015);
    * **multi-source domain generalization**: every training domain is
      labeled and all pairs are aligned (DomainBed's MMD, after Li et al.,
      CVPR 2018); the test domain is never seen.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). The MMD is that of the last hidden layer's
        output.
    lambda_ : float or "auto", default="auto"
        Weight of the penalty (DAN's λ): the loss is
        ``label loss + lambda_ * penalty``. ``0`` is plain ERM (the penalty is still recorded). 1.0
        is the default of DomainBed (``mmd_gamma``) and of DAN's code.
        {auto_strength}
    kernel : {{"adaptive", "fixed"}}, default="adaptive"
        The Gaussian kernels, summed, whose MMD is taken:

        * ``"adaptive"``: DAN's multi-kernel MMD, five kernels
          ``exp(-||a - b||^2 / (2 ** k * w))``, ``k = -2 .. 2``, whose
          bandwidths follow ``w``, the mean squared distance between the
          rows of each batch. The penalty is then the same whatever the
          scale of the features, so one ``lambda_`` suits any backbone, and
          the network cannot lower it by merely growing or shrinking its
          features.
        * ``"fixed"``: DomainBed's seven kernels ``exp(-g ||a - b||^2)``,
          ``g = 1e-3, 1e-2, ..., 1e3``, the same for every batch: it spans
          a wide range of scales, but which of them matter depends on the
          features' own scale.
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
    DeepCORALClassifier : Matches only the domains' feature means and covariances.
    DANNClassifier : Aligns the domains with an adversarial discriminator.
    ERMClassifier : The same network without the penalty (``lambda_=0``).

    Notes
    -----
    The penalty is the mean, over the pairs of domains, of the biased
    estimate of the squared MMD (the kernel values of a row with itself
    included, so that it is never negative, as in DomainBed), computed from
    one kernel matrix of the whole batch. With ``kernel="adaptive"`` the
    kernels are those of DAN's PyTorch code (thuml's Xlearn: bandwidths
    measured on the rows of all domains together and not differentiated);
    that code leaves the pairs of a row with itself out of the within-domain
    means (the unbiased estimate), which changes those means by a factor
    ``(n - 1) / n`` plus a constant. DAN as published aligns several layers
    and learns the kernels' weights; here the backbone's output is aligned
    and the kernels weigh the same, as in that code. The kernels are summed,
    not averaged, so the penalty lies in ``[0, 2 * n_kernels]``.

    Batches hold an equal share of every domain; a domain's kernel means are
    taken over its rows of the batch, whatever their number. The penalty is
    computed in float32, even under a mixed-precision ``accelerator``, and
    is not weighted by ``sample_weight`` or ``class_weight``, which act on
    the label loss only. ``net_.history`` records per epoch
    ``train_label_loss`` and ``train_alignment_loss`` (the penalty, before
    ``lambda_``).

    References
    ----------
    Gretton, Borgwardt, Rasch, Schölkopf and Smola. A Kernel Two-Sample
    Test. JMLR 13, 2012.

    Long, Cao, Wang and Jordan. Learning Transferable Features with Deep
    Adaptation Networks. ICML 2015 (DAN).

    Li, Pan, Wang and Kot. Domain Generalization with Adversarial Feature
    Learning. CVPR 2018 (MMD across several source domains).

    Gulrajani and Lopez-Paz. In Search of Lost Domain Generalization. ICLR
    2021 (DomainBed, whose MMD this follows for several domains).

    Examples
    --------
    >>> import numpy as np
    >>> from skda import MMDClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> y_train = np.where(domains == "target", -1, y)  # target labels unknown
    >>> clf = MMDClassifier(max_epochs=5, random_state=0)
    >>> clf.fit(X, y_train, domains=domains).domains_
    array(['source', 'target'], dtype='<U6')
    >>> "train_alignment_loss" in clf.net_.history[-1]
    True
    """

    _display_name = "MMD"
    _settings = ("unsupervised DA", "domain generalization")

    _parameter_constraints = {
        **DomainClassifier._parameter_constraints,
        "kernel": [Options("adaptive", "fixed")],
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
        kernel="adaptive",
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
        return MMD(featurizer, n_features, n_classes, n_domains, float(self.lambda_),
                   self.kernel)
