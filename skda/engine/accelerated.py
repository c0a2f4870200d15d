"""``AcceleratedDomainNet``: the engine under Hugging Face Accelerate (mixed precision, GPUs)."""

from skorch.hf import AccelerateMixin

from .algorithm import TrainingObjective
from .net import DomainNet


class AcceleratedDomainNet(AccelerateMixin, DomainNet):
    """:class:`DomainNet` trained through an ``accelerate.Accelerator`` (skorch's mixin).

    The accelerator places the module and data, wraps the module for
    data-parallel training when the script runs under ``accelerate launch``
    with several processes (one per GPU), and handles mixed precision. Each
    process draws its own domain-balanced batches (seeded by its rank), and
    an epoch is shared among the processes, so that one epoch still visits
    about ``n_rows`` rows. During training ``module_`` is the method's
    :class:`~skda.engine.algorithm.TrainingObjective` as the accelerator
    prepared it, so that the batch loss goes through the call where a
    data-parallel wrapper synchronises gradients. After training it is the
    method's plain module again: prediction and pickling are as without
    Accelerate.

    Parameters
    ----------
    module : DomainAlgorithm
        The method's network and loss.
    accelerator : accelerate.Accelerator
        The accelerator.
    **kwargs
        Passed to :class:`DomainNet` (``device`` must be None: the
        accelerator places everything).
    """

    def __init__(self, module, *, accelerator, **kwargs):
        if not kwargs.get("verbose", 1):
            # skorch prints through any sink other than the builtin print, whatever
            # `verbose` says; the builtin stays silent at verbose=0
            kwargs.setdefault("callbacks__print_log__sink", print)
        super().__init__(module, accelerator=accelerator, **kwargs)

    def _initialize_accelerator(self):
        if self._wrapped_with_accelerator:
            return self
        # The criterion has no parameters, and a data-parallel wrapper refuses
        # such a module: prepare everything else. The module prepared is the
        # method's training objective (see the class docstring).
        criteria, self._criteria = self._criteria, []
        self.module_ = TrainingObjective(self.module_)
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def _unwrap_accelerator(self):
        super()._unwrap_accelerator()
        if isinstance(self.module_, TrainingObjective):
            self.module_ = self.module_.algorithm

    def _replica(self):
        state = self.accelerator.state
        return state.process_index, state.num_processes

    def train_step_single(self, batch, **fit_params):
        self._ensure_training()
        X, y, domains = batch
        label_loss = self.label_loss(batch.weights)
        with self.accelerator.autocast():
            loss, terms = self.module_(X, y, domains, label_loss)
        self.accelerator.backward(loss)
        self._accumulate(terms)
        return {"loss": loss, "y_pred": None}

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        if not self._wrapped_with_accelerator:
            # unwrapped: unpickling and prediction use the device of the weights
            self.device = str(next(self.module_.parameters()).device)
