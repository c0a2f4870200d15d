"""What every skda estimator shares: the scikit-learn façade and the module contract."""

import copy
import inspect
import numbers

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from .._validation import check_hidden_sizes, encode_domains, encode_labels, resolve_device
from ..engine import DomainData, DomainNet, NonFiniteLossGuard
from ..modules import MLP

#: prefixes of the extra keyword parameters an estimator accepts
PARAM_PREFIXES = ("module__", "optimizer__")

#: what fit sets (told apart from misspelt parameters such as ``lamda_``)
FITTED_ATTRIBUTES = ("classes_", "domains_", "n_features_in_", "feature_names_in_", "net_")

SHARED_PARAMETERS_DOC = """\
module : None, torch.nn.Module subclass or instance, default=None
        Backbone (feature extractor). ``None`` builds an MLP from
        ``hidden_layer_sizes``. A class is instantiated with the ``module__*``
        parameters (and with ``n_features_in``, the number of columns of X,
        if its constructor takes that argument and it is not given). An
        instance is deep-copied at each fit and trained from its current
        weights. The backbone must map a float32 tensor of shape
        ``(batch, n_features)`` to a feature tensor of shape
        ``(batch, width)``; the method's heads are built on top of it.
    max_epochs : int, default=20
        Number of epochs; an epoch is ``ceil(n_rows / batch_size)`` steps.
    batch_size : int, default=128
        Rows per step, split evenly across the training domains (every
        batch holds rows of every domain). Also the chunk size of
        ``predict`` and ``transform``.
    lr : float, default=1e-3
        Learning rate.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Extra arguments go in ``optimizer__*`` parameters, e.g.
        ``optimizer__weight_decay=1e-4``.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the estimator's own callbacks (epoch timer, loss logging,
        divergence check, method schedules). Deep-copied at each fit.
    device : str or torch.device, default="auto"
        Where to train and predict. ``"auto"`` picks CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation and batch sampling. With an int, fits
        on the CPU are repeatable.
    verbose : int, default=0
        ``1`` prints a table row per epoch (losses, duration).
    **kwargs
        ``module__*`` parameters for a ``module`` class and ``optimizer__*``
        parameters for the optimizer."""

SHARED_ATTRIBUTES_DOC = """\
classes_ : ndarray of shape (n_classes,)
        Class labels (the unlabeled marker ``-1`` is never a class).
    domains_ : ndarray of shape (n_domains,)
        Labels of the domains the model was trained on.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X had string column names.
    net_ : skda.engine.DomainNet
        The trained skorch net; ``net_.history`` holds the per-epoch losses
        and ``net_.module_`` the torch module."""


def fill_doc(cls):
    """Insert the parameter and attribute text every estimator shares into ``cls.__doc__``."""
    cls.__doc__ = cls.__doc__.format(
        shared_parameters=SHARED_PARAMETERS_DOC, shared_attributes=SHARED_ATTRIBUTES_DOC)
    return cls


class DomainAlgorithm(nn.Module):
    """A method's network and loss: a backbone (``featurizer``) and a label head.

    Subclasses add their own heads in ``__init__`` and their loss in
    :meth:`training_loss`; the engine does the rest.

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
        """Learned representation, the output of :meth:`~DomainClassifier.transform`."""
        return self.featurizer(X)

    def forward(self, X):
        """Class logits, used for prediction."""
        return self.classifier(self.featurizer(X))

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
            ``label_loss(logits, y)``: mean cross-entropy over labeled rows.

        Returns
        -------
        loss : Tensor
            Scalar to minimise.
        terms : dict of str to Tensor
            Scalar parts worth logging (recorded as ``train_<name>``).
        """
        raise NotImplementedError


class DomainClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Base of the skda classifiers: validation, training set-up and prediction.

    A subclass provides ``_build_algorithm`` (its :class:`DomainAlgorithm`)
    and may override the class attributes below and ``_method_callbacks``.
    """

    #: fewest training domains the method can learn from
    _min_domains = 1
    #: whether rows with ``y == -1`` take part in training
    _uses_unlabeled = False
    #: parameters named in the advice when training diverges
    _divergence_params = ("lr",)

    def __init__(self, **kwargs):
        # Keyword parameters (module__*, optimizer__*) are stored verbatim like
        # the named ones; fit validates them.
        for key, value in kwargs.items():
            setattr(self, key, value)

    # -- parameters -----------------------------------------------------------------

    def _prefixed_params(self):
        return {k: v for k, v in vars(self).items() if k.startswith(PARAM_PREFIXES)}

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._prefixed_params())
        return params

    def set_params(self, **params):
        # Like __init__, store extra keyword parameters verbatim; fit checks them.
        named = set(self._get_param_names())
        for key in [k for k in params
                    if k.startswith(PARAM_PREFIXES) or ("__" not in k and k not in named)]:
            setattr(self, key, params.pop(key))
        return super().set_params(**params)

    def _check_params(self):
        named = set(self._get_param_names())
        unknown = sorted(
            k for k in vars(self)
            if k not in named and k not in FITTED_ATTRIBUTES
            and not k.startswith(("_", *PARAM_PREFIXES))
        )
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {unknown}; extra "
                f"parameters must start with one of {list(PARAM_PREFIXES)}."
            )
        check_hidden_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        check_scalar(self.max_epochs, "max_epochs", numbers.Integral, min_val=1)
        check_scalar(self.batch_size, "batch_size", numbers.Integral, min_val=1)
        check_scalar(self.lr, "lr", numbers.Real, min_val=0, include_boundaries="neither")
        check_scalar(self.verbose, "verbose", numbers.Integral, min_val=0)
        if not callable(self.optimizer):
            raise TypeError(f"optimizer must be a torch optimizer class, got {self.optimizer!r}.")
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            raise TypeError(
                f"callbacks must be None or a list of skorch callbacks, got {self.callbacks!r}.")

    def __sklearn_is_fitted__(self):
        # explicit, since a parameter such as DANN's `lambda_` also ends in "_"
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # the networks compute in float32, whatever the input dtype
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # -- what a method provides ---------------------------------------------------------

    def _build_algorithm(self, featurizer, n_features, n_classes, n_domains):
        raise NotImplementedError

    def _method_callbacks(self):
        """Callbacks the method needs (schedules); ``(name, callback)`` tuples."""
        return []

    # -- fit ------------------------------------------------------------------------------

    def fit(self, X, y, domains=None):
        """Train on ``X, y`` whose rows come from the domains ``domains``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (numpy array or pandas DataFrame). Never modified.
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled row.
        domains : array-like of shape (n_samples,), default=None
            Domain label (int or str) of each row. ``None`` puts all rows in
            one domain.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float32)
        classes, y_codes = encode_labels(y)
        domain_names, domain_codes = encode_domains(domains, len(X))
        if not self._uses_unlabeled and (y_codes < 0).any():
            labeled = y_codes >= 0
            X, y_codes, domain_codes = X[labeled], y_codes[labeled], domain_codes[labeled]
            used, domain_codes = np.unique(domain_codes, return_inverse=True)
            domain_names = domain_names[used]
        if len(domain_names) < self._min_domains:
            raise ValueError(
                f"{type(self).__name__} needs rows from at least {self._min_domains} "
                f"domains, got {len(domain_names)}. Pass domains=..., one domain label "
                "per row of X (e.g. the site or the source/target split)."
            )
        device = resolve_device(self.device)
        init_seed, batch_seed = check_random_state(self.random_state).randint(2**31 - 1, size=2)
        cuda_devices = [device] if device.type == "cuda" else []
        # Seed torch without touching the caller's global torch RNG state.
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(int(init_seed))
            featurizer, width = self._build_featurizer(X.shape[1])
            algorithm = self._build_algorithm(featurizer, width, len(classes), len(domain_names))
            net = self._make_net(algorithm, device, int(batch_seed))
            data = DomainData(
                torch.tensor(X, device=device),
                torch.tensor(y_codes, device=device),
                torch.tensor(domain_codes, device=device),
            )
            net.fit(data)
        self.classes_ = classes
        self.domains_ = domain_names
        self.net_ = net
        return self

    def _make_net(self, algorithm, device, seed):
        hint = "Try a lower " + " or ".join(
            f"`{name}` (now {getattr(self, name)!r})" for name in self._divergence_params) + "."
        callbacks = [
            ("non_finite_loss_guard", NonFiniteLossGuard(hint)),
            *self._method_callbacks(),
            *copy.deepcopy(list(self.callbacks or [])),
        ]
        optimizer_params = {
            k: v for k, v in self._prefixed_params().items() if k.startswith("optimizer__")}
        return DomainNet(
            algorithm,
            seed=seed,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            verbose=self.verbose,
            device=device,
            **optimizer_params,
        )

    def _build_featurizer(self, n_features):
        """The backbone and the width of the features it returns."""
        hidden = check_hidden_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        kwargs = {k[len("module__"):]: v for k, v in self._prefixed_params().items()
                  if k.startswith("module__")}
        module = self.module
        if module is None:
            if kwargs:
                raise TypeError(
                    f"module__* parameters {sorted(kwargs)} need a `module` class; the "
                    "default MLP is shaped by hidden_layer_sizes.")
            mlp = MLP(n_features, hidden)
            return mlp, mlp.n_features_out
        if isinstance(module, nn.Module):
            if kwargs:
                raise TypeError(
                    f"module__* parameters {sorted(kwargs)} cannot be applied to a module "
                    "instance; pass the module class instead.")
            featurizer = copy.deepcopy(module)
        elif isinstance(module, type) and issubclass(module, nn.Module):
            if "n_features_in" in inspect.signature(module).parameters:
                kwargs.setdefault("n_features_in", n_features)
            featurizer = module(**kwargs)
        else:
            raise TypeError(
                "module must be None, a torch.nn.Module subclass or a torch.nn.Module "
                f"instance, got {module!r}.")
        return featurizer, _output_width(featurizer, n_features)

    # -- predict ------------------------------------------------------------------------

    def _infer(self, X, method):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self.net_.infer_numpy(X, method)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``.
        """
        return softmax(self._infer(X, "forward").astype(np.float64), axis=1)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._infer(X, "forward")
        return self.classes_[np.argmax(logits, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,)
            True labels (all labeled).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            Accuracy.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def transform(self, X):
        """Learned features (the backbone's output), e.g. to check domain alignment.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        features : ndarray of shape (n_samples, width)
            Backbone features, float32.
        """
        return self._infer(X, "features")


def _output_width(featurizer, n_features):
    """Width of the features ``featurizer`` returns, found with a dummy batch."""
    was_training = featurizer.training
    featurizer.eval()
    try:
        with torch.no_grad():
            out = featurizer(torch.zeros(2, n_features))
    except Exception as exc:
        raise ValueError(
            f"module failed on a batch of shape (2, {n_features}): {exc}") from exc
    finally:
        featurizer.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(
            f"module must return a 2-D feature tensor (batch, width), got {shape}.")
    return out.shape[1]
