"""What every skda estimator shares: the scikit-learn façade over the engine."""

import copy
import inspect
import numbers
import warnings

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._params import (
    CALLABLE,
    HIDDEN_SIZES,
    LIST,
    MODULE,
    NONE,
    RANDOM_STATE,
    Interval,
    Options,
    Satisfies,
    has_methods,
    validate_params,
)
from .._validation import encode_domains, encode_labels, resolve_device, validate_X
from ..engine import BalancedBatches, DomainData, DomainNet, NonFiniteLossGuard
from ._backbone import build_featurizer

#: prefixes of the extra keyword parameters an estimator accepts
PARAM_PREFIXES = ("module__", "optimizer__")

#: optimizer steps of the default training length, ``max_epochs="auto"``
AUTO_STEPS = 2000

#: what fit sets (told apart from misspelt parameters such as ``lamda_``)
FITTED_ATTRIBUTES = (
    "classes_", "domains_", "n_features_in_", "feature_names_in_", "input_shape_", "net_")

SHARED_PARAMETERS_DOC = """\
module : None, torch.nn.Module subclass or instance, default=None
        Backbone (feature extractor). ``None`` builds an MLP from
        ``hidden_layer_sizes`` for tabular X and a
        :class:`~skda.modules.ConvNet` for images. A class is instantiated
        with the ``module__*`` parameters, plus ``n_features_in`` (columns of
        tabular X) or ``input_shape`` (``(channels, height, width)`` of one
        image) when its constructor takes that argument and it is not given.
        An instance is deep-copied at each fit and trained from its current
        weights. The backbone must map a float32 batch of X's rows,
        ``(batch, n_features)`` or ``(batch, channels, height, width)``, to
        a feature tensor of shape ``(batch, width)``; the method's heads are
        built on top of it.
    augment : callable or None, default=None
        Train-time augmentation: ``augment(X_batch)`` takes a float32 tensor
        of training rows (on the training device) and returns a tensor of
        the same shape, e.g. random shifts of images. Applied to every
        training batch; never at prediction. ``None`` (default): no
        augmentation.
    max_epochs : int or "auto", default="auto"
        Training length. An int: that many epochs, an epoch being
        ``ceil(n_rows / batch_size)`` optimizer steps over the rows the
        method trains on (unlabeled rows count for the methods that use
        them). ``"auto"``: as many epochs as make about
        :data:`~skda.methods.base.AUTO_STEPS` (2000) steps, whatever the
        data size, so that a small table is not under-trained, a large one
        not over-trained, and every method gets the same number of updates
        (DomainBed also counts its budget in steps).
    batch_size : int, default=128
        Rows per step, split evenly across the training domains (every
        batch holds rows of every domain). Also the chunk size of
        ``predict`` and ``transform``.
    lr : float, default={lr}
        Learning rate (the initial one, where a schedule anneals it).
    optimizer : torch optimizer class, default=skda.engine.Adam
        Extra arguments go in ``optimizer__*`` parameters, e.g.
        ``optimizer__weight_decay=1e-4``. The default is torch's Adam with
        ``betas=(0.5, 0.999)`` (:class:`skda.engine.Adam`: adversarial
        training settles better with less momentum), for every method.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the estimator's own callbacks (epoch timer, loss logging,
        divergence check, method schedules). Deep-copied at each fit.
    device : str or torch.device, default="auto"
        Where to train and predict. ``"auto"`` picks CUDA when available,
        where the estimator is fitted (on a cluster worker: the worker's).
    accelerator : None or accelerate.Accelerator, default=None
        Train through Hugging Face Accelerate (the ``[accelerate]`` extra):
        mixed precision, e.g. ``Accelerator(mixed_precision="bf16")``, and
        data-parallel training on several GPUs when the script runs under
        ``accelerate launch``. The accelerator places the model and data;
        ``device`` is then not used. Not available for SagNetClassifier.
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
        Labels of the domains the model was trained on, in the order of
        their first row in ``domains`` (so that renaming the domains leaves
        a seeded fit unchanged).
    n_features_in_ : int
        Number of features seen during fit (for images, values per image).
    input_shape_ : tuple of int
        Shape of one row of X: ``(n_features,)`` for tabular X,
        ``(channels, height, width)`` for images (3-D X gains one channel).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X had string column names.
    net_ : skda.engine.DomainNet
        The trained skorch net; ``net_.history`` holds the per-epoch losses
        and ``net_.module_`` the torch module."""


def fill_doc(cls):
    """Insert the parameter and attribute text every estimator shares into ``cls.__doc__``.

    The shared text gets the defaults that differ between methods from
    ``cls.__init__``'s signature.
    """
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    shared = SHARED_PARAMETERS_DOC.format(lr=f"{defaults['lr']:g}")
    cls.__doc__ = cls.__doc__.format(
        shared_parameters=shared, shared_attributes=SHARED_ATTRIBUTES_DOC)
    return cls


class DomainClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Base of the skda classifiers: parameters, training set-up and prediction.

    A subclass lists its parameters in ``__init__`` (keyword-only after the
    first, stored with :meth:`_store_params`), adds its own to
    ``_parameter_constraints``, provides ``_build_algorithm`` (its
    :class:`~skda.engine.DomainAlgorithm`), and may override the class
    attributes below and ``_method_callbacks``. See ``docs/contributing.rst``.
    """

    #: valid values of the parameters every method shares (checked in fit)
    _parameter_constraints = {
        "hidden_layer_sizes": [HIDDEN_SIZES],
        "module": [NONE, MODULE],
        "augment": [NONE, CALLABLE],
        "max_epochs": [Interval(numbers.Integral, 1), Options("auto")],
        "batch_size": [Interval(numbers.Integral, 1)],
        "lr": [Interval(numbers.Real, 0, closed="neither")],
        "optimizer": [Satisfies(callable, "a torch optimizer class")],
        "callbacks": [NONE, LIST],
        "accelerator": [NONE, has_methods(
            "prepare", "backward", "device", description="an accelerate.Accelerator")],
        "random_state": [NONE, RANDOM_STATE],
        "verbose": [Interval(numbers.Integral, 0)],
        # `device` is checked where it is resolved, which knows whether CUDA is here
    }

    #: fewest training domains the method can learn from
    _min_domains = 1
    #: whether rows with ``y == -1`` take part in training
    _uses_unlabeled = False
    #: whether the method trains under an ``accelerator`` (one loss per step)
    _supports_accelerator = True
    #: parameters named in the advice when training diverges
    _divergence_params = ("lr",)
    #: warn when rows with ``y == -1`` are dropped (methods whose setting
    #: never has unlabeled rows, so that they are likely a mistake)
    _warn_unlabeled = False

    def _store_params(self, params):
        """Store ``__init__``'s arguments (``locals()``) verbatim, as scikit-learn requires.

        Keyword parameters (``module__*``, ``optimizer__*``) are stored like
        the named ones; fit validates them all.
        """
        params = dict(params)
        params.pop("self")
        extra = params.pop("kwargs")
        for key, value in {**params, **extra}.items():
            setattr(self, key, value)

    # -- parameters -----------------------------------------------------------------

    def _prefixed_params(self, prefix=PARAM_PREFIXES):
        return {k: v for k, v in vars(self).items() if k.startswith(prefix)}

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
        validate_params(self)
        if self.accelerator is not None and not self._supports_accelerator:
            raise ValueError(
                f"{type(self).__name__} does not support accelerator: its training step "
                "makes several updates of different parts. Use device= instead.")

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
        X : array-like of shape (n_samples, n_features) or image array
            Tabular inputs (numpy array or pandas DataFrame), or images of
            shape ``(n_samples, channels, height, width)`` (a 3-D array
            ``(n_samples, height, width)`` is read as one channel). Never
            modified.
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
        X, y = validate_X(self, X, y, reset=True)
        classes, y_codes = encode_labels(y)
        X, y_codes, domain_names, domain_codes = self._training_rows(X, y_codes, domains)
        if self.accelerator is not None:
            device = torch.device(self.accelerator.device)
        else:
            device = resolve_device(self.device)
        init_seed, batch_seed = check_random_state(self.random_state).randint(2**31 - 1, size=2)
        cuda_devices = [device] if device.type == "cuda" else []
        # Seed torch without touching the caller's global torch RNG state.
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(int(init_seed))
            featurizer, width = build_featurizer(
                self.module, self._module_params(), X.shape[1:], self.hidden_layer_sizes)
            algorithm = self._build_algorithm(featurizer, width, len(classes), len(domain_names))
            epochs = self._epochs(len(X), len(domain_names))
            net = self._make_net(algorithm, device, int(batch_seed), epochs)
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

    def _training_rows(self, X, y_codes, domains):
        """The rows the method trains on, with the domains' names and codes."""
        domain_names, domain_codes = encode_domains(domains, len(X))
        unlabeled = y_codes < 0
        if not self._uses_unlabeled and unlabeled.any():
            if self._warn_unlabeled:
                warnings.warn(
                    f"{type(self).__name__} ignores the {int(unlabeled.sum())} rows with "
                    "y == -1 (unlabeled); it learns from labeled rows only.", UserWarning,
                    stacklevel=3)
            X, y_codes, domain_codes = X[~unlabeled], y_codes[~unlabeled], domain_codes[~unlabeled]
            used, domain_codes = np.unique(domain_codes, return_inverse=True)
            domain_names = domain_names[used]
        if len(domain_names) < self._min_domains:
            which = "rows" if self._uses_unlabeled else "labeled rows"
            raise ValueError(
                f"{type(self).__name__} needs {which} from at least {self._min_domains} "
                f"domains, got {len(domain_names)}. Pass domains=..., one domain label "
                "per row of X (e.g. the site or the source/target split)."
            )
        return X, y_codes, domain_names, domain_codes

    def _module_params(self):
        return {k[len("module__"):]: v for k, v in self._prefixed_params("module__").items()}

    def _epochs(self, n_rows, n_domains):
        """``max_epochs``, with ``"auto"`` turned into the epochs of about ``AUTO_STEPS`` steps."""
        if self.max_epochs != "auto":
            return self.max_epochs
        steps = BalancedBatches.steps_per_epoch(n_rows, n_domains, self.batch_size)
        return max(1, round(AUTO_STEPS / steps))

    def _make_net(self, algorithm, device, seed, epochs):
        hint = "Try a lower " + " or ".join(
            f"`{name}` (now {getattr(self, name)!r})" for name in self._divergence_params) + "."
        callbacks = [
            ("non_finite_loss_guard", NonFiniteLossGuard(hint)),
            *self._method_callbacks(),
            *copy.deepcopy(list(self.callbacks or [])),
        ]
        net_class, placement = DomainNet, {"device": device}
        if self.accelerator is not None:
            from ..engine.accelerated import AcceleratedDomainNet

            net_class, placement = AcceleratedDomainNet, {
                "accelerator": self.accelerator, "device": None}
        return net_class(
            algorithm,
            seed=seed,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            verbose=self.verbose,
            augment=self.augment,
            **placement,
            **self._prefixed_params("optimizer__"),
        )

    # -- predict ------------------------------------------------------------------------

    def _infer(self, X, method):
        check_is_fitted(self)
        X = validate_X(self, X)
        return self.net_.infer_numpy(X, method)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.

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
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._infer(X, "forward")
        return self.classes_[np.argmax(logits, axis=1)]

    def transform(self, X):
        """Learned features (the backbone's output), e.g. to check domain alignment.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.

        Returns
        -------
        features : ndarray of shape (n_samples, width)
            Backbone features, float32.
        """
        return self._infer(X, "features")
