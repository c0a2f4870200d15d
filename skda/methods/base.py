"""What every skda estimator shares: the scikit-learn façade and the module contract."""

import copy
import inspect
import numbers
import warnings

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils import check_random_state, check_scalar
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y, validate_data
from torch import nn

from .._validation import check_hidden_sizes, encode_domains, encode_labels, resolve_device
from ..engine import BalancedBatches, DomainData, DomainNet, NonFiniteLossGuard
from ..modules import MLP, ConvNet

#: prefixes of the extra keyword parameters an estimator accepts
PARAM_PREFIXES = ("module__", "optimizer__")

#: optimizer steps of the default training length, ``max_epochs="auto"``
AUTO_STEPS = 2000

#: ``_validate_X`` without y (None is a y, and gets sklearn's "requires y" error)
_NO_Y = "no_validation"

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

    def forward(self, X, y=None, domains=None, label_loss=None):
        """Class logits of ``X``; given ``y``, the training loss of the batch instead.

        The second form is :meth:`training_loss` behind the module's call, as
        data-parallel wrappers (``DistributedDataParallel``) need.
        """
        if y is None:
            return self.classifier(self.featurizer(X))
        return self.training_loss(X, y, domains, label_loss)

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
    #: whether the method trains under an ``accelerator`` (one loss per step)
    _supports_accelerator = True
    #: parameters named in the advice when training diverges
    _divergence_params = ("lr",)
    #: warn when rows with ``y == -1`` are dropped (methods whose setting
    #: never has unlabeled rows, so that they are likely a mistake)
    _warn_unlabeled = False

    def __init__(self, *, module, augment, max_epochs, batch_size, lr, optimizer, callbacks,
                 device, accelerator, random_state, verbose, **kwargs):
        # The parameters every method shares, stored verbatim (a subclass lists
        # them in its own signature, as scikit-learn reads parameters from it).
        self.module = module
        self.augment = augment
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.callbacks = callbacks
        self.device = device
        self.accelerator = accelerator
        self.random_state = random_state
        self.verbose = verbose
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
        if not (isinstance(self.max_epochs, str) and self.max_epochs == "auto"):
            if isinstance(self.max_epochs, str):
                raise ValueError(f"max_epochs must be 'auto' or an int >= 1, got "
                                 f"{self.max_epochs!r}.")
            check_scalar(self.max_epochs, "max_epochs", numbers.Integral, min_val=1)
        check_scalar(self.batch_size, "batch_size", numbers.Integral, min_val=1)
        check_scalar(self.lr, "lr", numbers.Real, min_val=0, include_boundaries="neither")
        check_scalar(self.verbose, "verbose", numbers.Integral, min_val=0)
        if not callable(self.optimizer):
            raise TypeError(f"optimizer must be a torch optimizer class, got {self.optimizer!r}.")
        if self.augment is not None and not callable(self.augment):
            raise TypeError(f"augment must be None or a callable, got {self.augment!r}.")
        if self.accelerator is not None:
            if not all(hasattr(self.accelerator, a) for a in ("prepare", "backward", "device")):
                raise TypeError(
                    f"accelerator must be None or an accelerate.Accelerator, got "
                    f"{self.accelerator!r}.")
            if not self._supports_accelerator:
                raise ValueError(
                    f"{type(self).__name__} does not support accelerator: its training step "
                    "makes several updates of different parts. Use device= instead.")
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
        X, y = self._validate_X(X, y, reset=True)
        classes, y_codes = encode_labels(y)
        domain_names, domain_codes = encode_domains(domains, len(X))
        unlabeled = y_codes < 0
        if not self._uses_unlabeled and unlabeled.any():
            if self._warn_unlabeled:
                warnings.warn(
                    f"{type(self).__name__} ignores the {int(unlabeled.sum())} rows with "
                    "y == -1 (unlabeled); it learns from labeled rows only.", UserWarning,
                    stacklevel=2)
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
        if self.accelerator is not None:
            device = torch.device(self.accelerator.device)
        else:
            device = resolve_device(self.device)
        init_seed, batch_seed = check_random_state(self.random_state).randint(2**31 - 1, size=2)
        cuda_devices = [device] if device.type == "cuda" else []
        # Seed torch without touching the caller's global torch RNG state.
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(int(init_seed))
            featurizer, width = self._build_featurizer(X.shape[1:])
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
        optimizer_params = {
            k: v for k, v in self._prefixed_params().items() if k.startswith("optimizer__")}
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
            **optimizer_params,
        )

    def _build_featurizer(self, input_shape):
        """The backbone and the width of the features it returns."""
        hidden = check_hidden_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        kwargs = {k[len("module__"):]: v for k, v in self._prefixed_params().items()
                  if k.startswith("module__")}
        module = self.module
        images = len(input_shape) > 1
        if module is None:
            if kwargs:
                raise TypeError(
                    f"module__* parameters {sorted(kwargs)} need a `module` class (e.g. "
                    "module=skda.modules.ConvNet, module__channels=(16, 32)); the default "
                    "backbone takes no module__* parameters.")
            net = ConvNet(input_shape) if images else MLP(input_shape[0], hidden)
            return net, net.n_features_out
        if isinstance(module, nn.Module):
            if kwargs:
                raise TypeError(
                    f"module__* parameters {sorted(kwargs)} cannot be applied to a module "
                    "instance; pass the module class instead.")
            featurizer = copy.deepcopy(module)
        elif isinstance(module, type) and issubclass(module, nn.Module):
            accepted = inspect.signature(module).parameters
            if "n_features_in" in accepted and not images:
                kwargs.setdefault("n_features_in", input_shape[0])
            if "input_shape" in accepted:
                kwargs.setdefault("input_shape", tuple(input_shape))
            featurizer = module(**kwargs)
        else:
            raise TypeError(
                "module must be None, a torch.nn.Module subclass or a torch.nn.Module "
                f"instance, got {module!r}.")
        return featurizer, _output_width(featurizer, input_shape)

    def _validate_X(self, X, y=_NO_Y, reset=False):
        """Validated float32 X (and y): tabular through ``validate_data``, images by shape."""
        if _ndim(X) <= 2:
            if not reset and len(self.input_shape_) > 1:
                raise ValueError(
                    f"{type(self).__name__} was fitted on images of shape "
                    f"{self.input_shape_}; X must be an image array, got {_ndim(X)}-D X.")
            args = (X,) if y is _NO_Y else (X, y)
            out = validate_data(self, *args, dtype=np.float32, reset=reset)
            if reset:
                self.input_shape_ = (self.n_features_in_,)
            return out
        if y is _NO_Y:
            X = check_array(X, dtype=np.float32, allow_nd=True)
        else:
            X, y = check_X_y(X, y, dtype=np.float32, allow_nd=True)
        if X.ndim == 3:
            X = X[:, None]  # (n, height, width): one channel
        if X.ndim != 4:
            raise ValueError(
                "X must be 2-D (n_samples, n_features), or images of shape (n_samples, "
                f"channels, height, width) or (n_samples, height, width); got {X.ndim}-D X.")
        if reset:
            self.input_shape_ = X.shape[1:]
            self.n_features_in_ = int(np.prod(X.shape[1:]))
            self.__dict__.pop("feature_names_in_", None)
        elif len(self.input_shape_) == 1:
            raise ValueError(
                f"{type(self).__name__} was fitted on tabular X with {self.n_features_in_} "
                f"features; got images of shape {X.shape[1:]}.")
        elif X.shape[1:] != self.input_shape_:
            raise ValueError(
                f"X has images of shape {X.shape[1:]} but {type(self).__name__} was fitted "
                f"on {self.input_shape_} (channels, height, width).")
        return X if y is _NO_Y else (X, y)

    # -- predict ------------------------------------------------------------------------

    def _infer(self, X, method):
        check_is_fitted(self)
        X = self._validate_X(X)
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

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.
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
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.

        Returns
        -------
        features : ndarray of shape (n_samples, width)
            Backbone features, float32.
        """
        return self._infer(X, "features")


def _ndim(X):
    if hasattr(X, "ndim"):
        return X.ndim
    try:
        return np.ndim(X)
    except TypeError:  # array-likes that refuse numpy functions but convert
        return np.asarray(X).ndim


def probe_output(module, input_shape):
    """``module``'s output for a dummy batch of two inputs of ``input_shape`` (eval mode)."""
    was_training = module.training
    module.eval()
    shape = (2, *input_shape)
    try:
        with torch.no_grad():
            return module(torch.zeros(shape))
    except Exception as exc:
        raise ValueError(f"module failed on a batch of shape {shape}: {exc}") from exc
    finally:
        module.train(was_training)


def _output_width(featurizer, input_shape):
    """Width of the features ``featurizer`` returns, found with a dummy batch."""
    out = probe_output(featurizer, input_shape)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = getattr(out, "shape", type(out).__name__)
        raise ValueError(
            f"module must return a 2-D feature tensor (batch, width), got {shape}.")
    return out.shape[1]
