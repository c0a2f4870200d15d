"""``DomainNet``: a skorch ``NeuralNet`` that trains on domain-balanced device batches."""

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog

from ..modules import MaskedCrossEntropy
from .batching import BalancedBatches, DomainData


class DomainNet(NeuralNet):
    """skorch net behind every skda estimator.

    It differs from a plain ``NeuralNet`` in three places only:

    * training data is a :class:`DomainData` of device tensors, served by
      :class:`BalancedBatches` (no Dataset, DataLoader or collate);
    * the loss of a batch is ``module_.training_loss(X, y, domains,
      criterion_)``, so a method is just its module (see
      :class:`skda.methods.base.DomainAlgorithm`);
    * the extra terms a module reports (a domain loss, a discriminator
      accuracy, ...) are averaged over the epoch and recorded in ``history``
      as ``train_<name>``, with one device synchronisation per epoch.

    Everything else (optimizers, callbacks, history, device handling,
    pickling) is skorch's.

    Parameters
    ----------
    module : DomainAlgorithm
        The method's network and loss.
    seed : int, default=0
        Seed of the batch sampler.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(self, module, *, seed=0, **kwargs):
        kwargs.setdefault("criterion", MaskedCrossEntropy)
        kwargs.setdefault("torch_load_kwargs", {"weights_only": False})
        super().__init__(module, train_split=None, **kwargs)
        self.seed = seed

    def get_default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("print_log", PrintLog()),
        ]

    def get_dataset(self, X, y=None):
        if not isinstance(X, DomainData):
            raise TypeError(f"DomainNet trains on DomainData, got {type(X).__name__}.")
        return X

    def get_iterator(self, dataset, training=False):
        if not training:
            raise NotImplementedError("DomainNet has no validation split; use infer_numpy.")
        batches = BalancedBatches(dataset, self.batch_size, self.seed)
        # read by schedule callbacks that need the training progress
        self.train_steps_per_epoch = batches.steps
        return batches

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        X, y, domains = batch
        loss, terms = self.module_.training_loss(X, y, domains, self.criterion_)
        loss.backward()
        for name, value in terms.items():
            self._term_sums[name] = self._term_sums.get(name, 0.0) + value.detach()
        return {"loss": loss, "y_pred": None}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        self._term_sums = {}
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        if iterator is not None:
            n_batches = self.history[-1, prefix + "_batch_count"]
            for name, total in self._term_sums.items():
                self.history.record(f"{prefix}_{name}", float(total) / n_batches)
        self._term_sums = {}

    def infer_numpy(self, X, method="forward"):
        """Apply ``module_`` (or its method ``method``) to a float32 array, batch by batch.

        Runs in evaluation mode without autograd and returns a numpy array.
        """
        self.check_is_fitted()
        self._set_training(False)
        fn = self.module_ if method == "forward" else getattr(self.module_, method)
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(X), self.batch_size):
                chunk = torch.tensor(X[start:start + self.batch_size], device=self.device)
                outputs.append(fn(chunk).float().cpu())
        return torch.cat(outputs).numpy()
