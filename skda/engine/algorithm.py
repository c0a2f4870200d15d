"""The contract between a method and the engine: :class:`DomainAlgorithm`."""

from torch import nn


class DomainAlgorithm(nn.Module):
    """A method's network and loss: a backbone (``featurizer``), a label head, and more.

    The engine (:class:`~skda.engine.DomainNet`) calls one of two things per
    training batch, and nothing else of the method:

    * :meth:`training_loss`, whose result it back-propagates and steps with
      one optimizer over all parameters (DANN, CCSA, ERM); or
    * :meth:`training_step`, for a method that names its own parameter
      groups in :meth:`optimizer_groups` and makes several updates per batch
      (the alternating updates of SagNet and DDAIG).

    Prediction and ``transform`` call :meth:`forward` and :meth:`features`.
    A subclass adds its heads in ``__init__``; what the method needs on the
    way (a schedule of its own, such as DANN's warm-up) is a skorch callback
    in the method's file.

    Parameters
    ----------
    featurizer : torch.nn.Module
        Backbone mapping inputs to features of width ``n_features``.
    n_features : int
        Width of the backbone's output.
    n_classes : int
        Number of classes.
    """

    def __init__(self, featurizer, n_features, n_classes):
        super().__init__()
        self.featurizer = featurizer
        self.classifier = nn.Linear(n_features, n_classes)

    def features(self, X):
        """Learned representation, the output of ``transform``."""
        return self.featurizer(X)

    def forward(self, X):
        """Class logits of ``X``."""
        return self.classifier(self.features(X))

    def training_loss(self, X, y, domains, label_loss):
        """Loss of one training batch.

        Parameters
        ----------
        X : Tensor
            Batch inputs.
        y : Tensor of int64
            Class codes, ``-1`` for unlabeled rows.
        domains : Tensor of int64
            Domain codes ``0..n_domains-1``.
        label_loss : callable
            ``label_loss(logits, y)``: mean cross-entropy over labeled rows
            (weighted by the rows' sample and class weights);
            ``label_loss(logits, y, groups=codes, n_groups=n)``: one such
            mean per group, e.g. per domain (the risks of GroupDRO).

        Returns
        -------
        loss : Tensor
            Scalar to minimise.
        terms : dict of str to Tensor
            Scalar parts worth logging (recorded as ``train_<name>``).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement training_loss (or optimizer_groups "
            "and training_step).")

    def optimizer_groups(self):
        """Parameter groups that each get their own optimizer, or None (the default).

        ``None``: one optimizer over all parameters, stepped on the loss of
        :meth:`training_loss`. A method that alternates updates of different
        parts returns a dict ``{name: named_parameters}`` instead and
        implements :meth:`training_step`.
        """
        return None

    def training_step(self, X, y, domains, label_loss, optimizers):
        """One training step of a method with its own ``optimizer_groups``.

        Zeroes gradients, back-propagates and steps ``optimizers`` (a dict
        named as the groups) itself. Arguments as in :meth:`training_loss`;
        returns the loss to log (detached) and the terms.
        """
        raise NotImplementedError(
            f"{type(self).__name__} names optimizer_groups, so it must implement "
            "training_step.")

    def groups_by_prefix(self, parts):
        """``optimizer_groups`` from ``{group: (top-level submodule name, ...)}``.

        Only parameters that require gradients when the optimizers are built
        are grouped (a frozen part needs no optimizer; a parameter unfrozen
        later is not trained). A group whose submodules hold no such parameters
        is left out (it would get an optimizer with nothing to step). A
        trainable parameter of a submodule that no group names would never be
        trained: that raises a ``ValueError``.
        """
        named = [(p_name, p) for p_name, p in self.named_parameters() if p.requires_grad]
        named_parts = {prefix for prefixes in parts.values() for prefix in prefixes}
        orphans = [p_name for p_name, _ in named if p_name.split(".")[0] not in named_parts]
        if orphans:
            raise ValueError(
                f"{type(self).__name__}.optimizer_groups leaves parameters without an "
                f"optimizer: {orphans[:5]}. Name their submodule in a group.")
        groups = {name: [(p_name, p) for p_name, p in named if p_name.split(".")[0] in prefixes]
                  for name, prefixes in parts.items()}
        return {name: params for name, params in groups.items() if params}


def update(loss, optimizers, *names):
    """Back-propagate ``loss`` and step only the optimizers ``names`` (alternating updates).

    Every optimizer's gradients are cleared first, so that the optimizers
    stepped see this loss's gradient only, nothing left from an earlier
    update (the parts not stepped hold this loss's gradient until the next
    ``update`` clears it); a name with no optimizer (a group without
    parameters) is skipped.
    """
    for optimizer in optimizers.values():
        optimizer.zero_grad(set_to_none=True)
    loss.backward()
    for name in names:
        if name in optimizers:
            optimizers[name].step()


class TrainingObjective(nn.Module):
    """``algorithm.training_loss`` as a module call, for data-parallel wrappers.

    ``DistributedDataParallel`` synchronises gradients only for work done
    inside its wrapped module's ``forward``; the accelerated engine wraps
    this objective, which shares every parameter with ``algorithm``, so
    that the method's ``forward`` stays the prediction.
    """

    def __init__(self, algorithm):
        super().__init__()
        self.algorithm = algorithm

    def forward(self, X, y, domains, label_loss):
        return self.algorithm.training_loss(X, y, domains, label_loss)
