"""The default optimizer of every skda estimator."""

import torch


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` with a first-moment decay ``beta1 = 0.5`` by default.

    The adversarial methods are a min-max game: the features chase a
    discriminator (DANN) or a style head (SagNet) that moves every step.
    With torch's ``beta1 = 0.9`` the momentum carries each player past the
    other's last move and the game oscillates instead of settling; GAN
    training and DomainBed's adversarial algorithms use 0.5 (DomainBed
    searches ``beta1`` in ``{0, 0.5}``). It does ERM no harm, so every skda
    estimator trains with it and the baseline is optimised exactly as the
    methods are. Anything else is torch's Adam; give ``betas=`` (through
    ``optimizer__betas``) to change it.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups, as for any torch optimizer.
    lr : float, default=1e-3
        Learning rate.
    betas : tuple of float, default=(0.5, 0.999)
        Decay rates of the first and second moment estimates.
    weight_decay : float, default=0
        L2 penalty, as in ``torch.optim.Adam`` (the estimators give 3e-3 on
        tabular X unless told otherwise).
    **kwargs
        Other arguments of ``torch.optim.Adam`` (``eps``, ``amsgrad``, ...).
    """

    def __init__(self, params, lr=1e-3, betas=(0.5, 0.999), weight_decay=0, **kwargs):
        super().__init__(params, lr=lr, betas=betas, weight_decay=weight_decay, **kwargs)
