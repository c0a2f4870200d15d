"""``DomainNet``: a skorch ``NeuralNet`` that trains on domain-balanced device batches."""

import contextlib
import functools
import signal
import threading

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog

from ..modules import MaskedCrossEntropy
from .batching import BalancedBatches, DomainData, SequentialBatches, rows_in_order
from .callbacks import algorithm_of


class _HeldOut:
    """skorch's ``train_split``: the validation rows, set aside before the fit."""

    def __init__(self, valid):
        self.valid = valid

    def __call__(self, dataset, y=None, **fit_params):
        return dataset, self.valid


@contextlib.contextmanager
def _ctrl_c_propagates():
    """Re-raise a Ctrl-C that skorch's fit swallowed, once skorch has closed the fit.

    skorch ends a fit quietly on ``KeyboardInterrupt``, because its
    ``EarlyStopping`` stops training by raising one; a user's Ctrl-C must
    instead stop the caller (a half-trained model must never be scored as if
    it had finished). Only a real SIGINT is re-raised. Signals can be
    handled in the main thread only; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous == signal.SIG_IGN:  # the caller ignores Ctrl-C; so do we
        yield
        return
    hit = []

    def handler(signum, frame):
        hit.append(signum)
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if hit:
        raise KeyboardInterrupt("training was interrupted (Ctrl-C); the model is incomplete.")


class DomainNet(NeuralNet):
    """skorch net behind every skda estimator.

    It differs from a plain ``NeuralNet`` in these places only:

    * training data is a :class:`DomainData` of device tensors, served by
      :class:`BalancedBatches` (no Dataset, DataLoader or collate);
    * the loss of a batch is ``module_.training_loss(X, y, domains,
      criterion_)``, so a method is just its module (see
      :class:`~skda.engine.DomainAlgorithm`);
    * a module whose ``optimizer_groups()`` names parameter groups gets one
      optimizer per group (``optimizer_<group>_``, all of the class and
      settings given) and makes its own updates in ``training_step``
      (the three alternating updates of SagNet and DDAIG);
    * an optional ``augment`` callable transforms each training batch's X;
    * per-row weights (``DomainData.weights``) weight the label loss;
    * ``fit(data, valid=...)`` scores a held-out :class:`DomainData` after
      every epoch (``valid_loss``, the label loss of its rows), so that
      callbacks that read ``valid_loss`` work;
    * a Ctrl-C during ``fit`` stops the caller (skorch would return quietly);
    * the extra terms a module reports (a domain loss, a discriminator
      accuracy, ...) are averaged over the epoch and recorded in ``history``
      as ``train_<name>``, with one device synchronisation per epoch.

    Everything else (callbacks, history, device handling, pickling) is
    skorch's.

    Parameters
    ----------
    module : DomainAlgorithm
        The method's network and loss.
    seed : int, default=0
        Seed of the batch sampler.
    augment : callable or None, default=None
        ``augment(X_batch)`` returns a tensor of the same shape; applied to
        training batches only.
    schedule_epochs : int or None, default=None
        Epochs over which the method's schedules (warm-ups, learning-rate
        annealing) run to completion; ``None``: ``max_epochs``. Set it when
        training may stop early, where ``max_epochs`` is only a cap.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.

    Attributes
    ----------
    train_batches_ : BalancedBatches or None
        While the net trains (``fit``, ``partial_fit``), the sampler of the
        training batches: callbacks read its ``steps`` and give the rows new
        domains with its :meth:`~BalancedBatches.set_domains` (latent
        domains). None otherwise.
    train_steps_per_epoch_ : int
        Optimizer steps of one training epoch (set when training starts):
        the unit of :func:`~skda.engine.training_progress`.
    """

    train_batches_ = None  # a class default: None before and after training

    def __init__(self, module, *, seed=0, augment=None, schedule_epochs=None, **kwargs):
        kwargs.setdefault("criterion", MaskedCrossEntropy)
        kwargs.setdefault("torch_load_kwargs", {"weights_only": False})
        super().__init__(module, train_split=None, **kwargs)
        self.seed = seed
        self.augment = augment
        self.schedule_epochs = schedule_epochs

    def get_default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("print_log", PrintLog()),
        ]

    def notify(self, method_name, **cb_kwargs):
        # Same calls as skorch's notify, minus the callbacks that do not
        # override the hook: three hooks a step times every callback is a
        # measurable share of a small network's step.
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._listeners(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name):
        cache = self.__dict__.get("_listener_cache")
        if cache is None or cache[0] is not self.callbacks_:
            cache = (self.callbacks_, {})
            self.__dict__["_listener_cache"] = cache
        listeners = cache[1].get(method_name)
        if listeners is None:
            base = getattr(Callback, method_name)
            listeners = [cb for _, cb in self.callbacks_
                         if method_name in vars(cb) or getattr(type(cb), method_name) is not base]
            cache[1][method_name] = listeners
        return listeners

    def initialize_module(self):
        super().initialize_module()
        # skorch uses a module instance as it is, so `module` (the parameter) is `module_`:
        # pickled with the device-dependent attributes, it is stored once and loads with
        # their map_location (a CUDA-trained model then loads where CUDA is absent)
        if "module" not in self.cuda_dependent_attributes_:
            self.cuda_dependent_attributes_ = [*self.cuda_dependent_attributes_, "module"]
        return self

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_listener_cache", None)
        return state

    def get_dataset(self, X, y=None):
        if not isinstance(X, DomainData):
            raise TypeError(f"DomainNet trains on DomainData, got {type(X).__name__}.")
        return X

    def fit(self, X, y=None, *, valid=None, **fit_params):
        """Train on the :class:`DomainData` ``X``; score ``valid`` (one too) after each epoch."""
        self.train_split = None if valid is None else _HeldOut(valid)
        try:
            with _ctrl_c_propagates():
                super().fit(X, y, **fit_params)
        finally:
            self.train_split = None
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train on the :class:`DomainData` ``X`` from the current weights.

        The training batches are drawn by ``train_batches_``, a
        :class:`BalancedBatches` over ``X`` made here, before any callback
        runs, and dropped when training ends (the fitted net keeps none of
        the rows); ``train_steps_per_epoch_`` is its number of steps per epoch.
        """
        X = self.get_dataset(X)  # checked before the sampler is built on it
        rank, n_replicas = self._replica()
        self.train_batches_ = BalancedBatches(X, self.batch_size, self.seed + rank,
                                              n_replicas=n_replicas)
        self.train_steps_per_epoch_ = self.train_batches_.steps
        try:
            super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self.train_batches_ = None
        return self

    def get_iterator(self, dataset, training=False):
        if training:
            return self.train_batches_
        return SequentialBatches(dataset, self.batch_size)

    def label_loss(self, weights=None):
        """The criterion, weighting each row's loss by ``weights`` when given."""
        if weights is None:
            return self.criterion_
        return functools.partial(self.criterion_, weight=weights)

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        X, y, _ = batch
        with torch.no_grad():
            output = algorithm_of(self)(X)
            loss = self.label_loss(batch.weights)(output, y)
        return {"loss": loss, "y_pred": output}

    def _replica(self):
        """This process's rank and the number of data-parallel processes sharing an epoch."""
        return 0, 1

    def initialize_optimizer(self, triggered_directly=None):
        groups = self.module_.optimizer_groups()
        if groups is None:
            self.optimizer_groups_ = ()
            return super().initialize_optimizer()
        if "optimizer" not in self.prefixes_:
            # optimizer__* settings are valid: they apply to every group's optimizer
            self.prefixes_ = [*self.prefixes_, "optimizer"]
        for name, named_parameters in groups.items():
            args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
            # skorch registers every optimizer_*_ attribute (device moves, pickling)
            setattr(self, f"optimizer_{name}_", self.optimizer(*args, **kwargs))
        self.optimizer_groups_ = tuple(groups)
        return self

    def train_step(self, batch, **fit_params):
        if self.augment is not None:
            batch = self._augmented(batch)
        if not self.optimizer_groups_:
            return super().train_step(batch, **fit_params)
        self._ensure_training()
        optimizers = {name: getattr(self, f"optimizer_{name}_") for name in self.optimizer_groups_}
        loss, terms = self.module_.training_step(*batch, self.label_loss(batch.weights),
                                                 optimizers)
        self._accumulate(terms)
        return {"loss": loss, "y_pred": None}

    def train_step_single(self, batch, **fit_params):
        self._ensure_training()
        X, y, domains = batch
        loss, terms = self.module_.training_loss(X, y, domains, self.label_loss(batch.weights))
        loss.backward()
        self._accumulate(terms)
        return {"loss": loss, "y_pred": None}

    def _ensure_training(self):
        if not self.module_.training:  # walking every submodule each step is costly
            self._set_training(True)

    def _accumulate(self, terms):
        for name, value in terms.items():
            self._term_sums[name] = self._term_sums.get(name, 0.0) + value.detach()

    def _augmented(self, batch):
        X = batch[0]
        out = self.augment(X)
        if not isinstance(out, torch.Tensor) or out.shape != X.shape:
            shape = getattr(out, "shape", type(out).__name__)
            raise ValueError(
                f"augment must return a tensor of the batch's shape {tuple(X.shape)}, "
                f"got {shape}.")
        return batch.with_X(out)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's loop with the same hooks and history rows, written out so
        # that the per-step bookkeeping stays cheap (no generic length
        # probing, one history lookup per epoch) and the method's extra terms
        # are averaged once per epoch.
        if iterator is None:
            return
        self._term_sums = {}
        batches = self.history[-1]["batches"]
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            row = batches[-1]
            row[prefix + "_loss"] = step["loss"].item()
            row[prefix + "_batch_size"] = len(batch[0])
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)
        for name, total in self._term_sums.items():
            self.history.record(f"{prefix}_{name}", float(total) / batch_count)
        self._term_sums = {}

    def infer_numpy(self, X, method="forward"):
        """Apply ``module_`` (or its method ``method``) to the rows of X, batch by batch.

        ``X`` is an array (float32, or uint8 images converted per batch) or
        :class:`~skda.datasets.ImageRows`.

        Runs in evaluation mode without autograd and returns a numpy array.
        """
        self.check_is_fitted()
        self._set_training(False)
        fn = self.module_ if method == "forward" else getattr(self.module_, method)
        # where the weights are (under Accelerate the net's `device` is None)
        device = next(self.module_.parameters()).device
        outputs = []
        with torch.inference_mode():
            for chunk in rows_in_order(X, self.batch_size, device):
                outputs.append(fn(chunk).float().cpu())
        return torch.cat(outputs).numpy()
