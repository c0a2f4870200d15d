"""What every skda estimator shares: the scikit-learn façade over the engine."""

import copy
import inspect
import numbers
import warnings
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
    is_regressor,
)
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from .._params import (
    BOOLEAN,
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
from .._validation import (
    NO_Y,
    UnlabeledRowsWarning,
    encode_domains,
    encode_labels,
    holdout_labeled,
    resolve_device,
    unlabeled_mask,
    validate_X,
)
from ..engine import BalancedBatches, DomainData, DomainNet, EarlyStopping, NonFiniteLossGuard
from ..engine.batching import place_rows
from ..metrics import ConfoundingWarning
from ..modules import MaskedCrossEntropy, MaskedSquaredError
from ..preprocessing import SCALING_METHODS, TabularScaler
from ._backbone import build_featurizer

#: prefixes of the extra keyword parameters an estimator accepts
PARAM_PREFIXES = ("module__", "optimizer__")

#: optimizer steps of the default training length, ``max_epochs="auto"``
AUTO_STEPS = 2000

#: share of every domain's labeled rows that the ``"auto"`` searches (strength, weight
#: decay) hold out to compare their candidates
AUTO_VALIDATION_FRACTION = 0.2

#: what fit sets on every estimator; a class adds its own in ``_fitted_attributes``
FITTED_ATTRIBUTES = (
    "classes_", "target_mean_", "target_scale_", "domains_", "n_features_in_",
    "feature_names_in_", "input_shape_", "input_scaler_", "n_iter_", "net_", "strength_",
    "strength_search_", "weight_decay_", "weight_decay_search_")

#: valid values of a method's adaptation strength: a number, or chosen by fit
STRENGTH = [Interval(numbers.Real, 0), Options("auto")]

#: the largest learning rate a float32 optimizer state can hold
_LR_MAX = float(np.finfo(np.float32).max)

SHARED_PARAMETERS_DOC = """\
module : None, str, torch.nn.Module subclass or instance, default=None
        Backbone (feature extractor). ``None`` builds an MLP from
        ``hidden_layer_sizes`` for tabular X and a
        :class:`~skda.modules.ConvNet` for images. ``"resnet18"``,
        ``"resnet34"`` or ``"resnet50"`` builds a
        :class:`~skda.modules.ResNet` (torchvision's, ``module__weights=
        "IMAGENET1K_V1"`` for its ImageNet weights). A class is instantiated
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
        On tabular X, ``optimizer__weight_decay`` defaults to ``"auto"``
        (when the optimizer takes that argument): an L2 penalty chosen at
        each fit, ERM being trained at each of 3e-3, 1e-2, 3e-2 and 1e-1 on
        all but a held-out fifth of every domain's labeled rows and the
        strongest penalty whose held-out loss is within one standard error
        of the best kept (``weight_decay_``; four extra fits, see
        ``skda/model_selection/_weight_decay.py``). A few hundred rows per
        site of a near-linear table want a strong penalty, a low-dimensional
        nonlinear problem a weak one, and no single value served both on
        the development problems (``benchmarks/results/tabular_defaults.md``).
        With a ``"auto"`` strength the weight decay is chosen once, before
        the strength, and every candidate trains at it. A number trains
        once at that value; ``optimizer__weight_decay=0`` trains without.
        Images keep the optimizer's own default (none); ``"auto"`` works on
        them too when given.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the estimator's own callbacks (epoch timer, loss logging,
        divergence check, method schedules). Deep-copied at each fit. The
        ``"auto"`` searches (the weight decay, a strength) run them in
        their candidates' fits too, plain ERM's included: a callback that
        reads a method's own modules (a discriminator, a penalty weight)
        needs the weight decay and the strength given.
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
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the labeled rows of every
        training domain (stratified by {stratified}), score them after each
        epoch (``valid_loss`` in ``net_.history``: the label loss on those
        rows), stop when it has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and keep the weights of the best epoch
        (scikit-learn's ``MLPClassifier`` rule). Unlabeled rows all stay in
        training. skorch callbacks that read ``valid_loss`` need it.
        ``max_epochs`` is then a cap; the method's schedules (warm-ups,
        learning-rate annealing) run over the smaller of ``max_epochs`` and
        the ``"auto"`` length, so that a large cap does not stretch them.
    validation_fraction : float, default=0.1
        Share of each domain's labeled rows held out when
        ``early_stopping``, in (0, 1).
    n_iter_no_change : int, default=10
        Epochs without improvement before ``early_stopping`` stops training.
    tol : float, default=1e-4
        Least decrease of the validation loss that counts as improvement.
    input_scaling : {{"standard", "robust"}} or None, default="standard"
        How tabular X is scaled before it enters the network, learnt on the
        rows the model trains on (unlabeled rows included for the methods
        that use them) and applied again at prediction, as a fitted
        :class:`~skda.preprocessing.TabularScaler` (``input_scaler_``):
        raw columns of any scale then train as well as standardized ones,
        so no scaler is needed in front. ``"standard"``: mean and standard
        deviation, then a smooth clip to about ±3; ``"robust"``: median and
        interquartile range, same clip (RealMLP's preprocessing; the two
        tied on held-out sites, ``benchmarks/results/tabular_defaults.md``).
        Missing values (NaN) become the column's center, and each column
        that had any in training gets an indicator input. ``None``: X goes
        in as it is, and NaN is refused. Images are always passed as they
        are (the image backbone standardizes them itself).
    **kwargs
        ``module__*`` parameters for a ``module`` class and ``optimizer__*``
        parameters for the optimizer."""

CLASS_WEIGHT_DOC = """\
class_weight : None, "balanced", "balanced_per_domain" or dict, default=None
        Weights of the classes in the label loss, as in scikit-learn:
        ``"balanced"`` weighs each class by ``n_labeled / (n_classes *
        count)`` over the labeled training rows of all domains; a dict maps
        class labels to weights (missing classes weigh 1).
        ``"balanced_per_domain"`` balances the classes within each domain
        (``n_domain / (n_classes_in_domain * count_in_domain)``), so that
        every domain x class group weighs the same: the site no longer
        predicts the label in the weighted training data, which removes the
        shortcut of site-label confounding (see "Site bias and shortcuts"
        in the docs). A domain holding a single class cannot be balanced:
        its rows keep weight 1 and a
        :class:`~skda.metrics.ConfoundingWarning` names it. Multiplies
        ``sample_weight``.
    """

SHARED_ATTRIBUTES_DOC = """\
{target_attributes}
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
    input_scaler_ : skda.preprocessing.TabularScaler or None
        The scaling of tabular X learnt in fit (``input_scaling``), applied
        before the network at prediction; None for images or
        ``input_scaling=None``.
    n_iter_ : int
        Epochs trained (fewer than planned when ``early_stopping`` stopped).
    weight_decay_ : float or None
        The optimizer's weight decay the model trained at (chosen by fit
        when ``optimizer__weight_decay`` is ``"auto"``, the tabular
        default); None when the optimizer kept its own default (images).
    weight_decay_search_ : dict of ndarray or None
        When the weight decay was chosen by fit: per value of the grid,
        ``weight_decay``, ``validation_loss`` (ERM's mean log loss, or
        squared error for a regressor, on the held-out rows; NaN if its
        training diverged), ``validation_loss_se``, ``fit_time`` and
        ``selected``. None when it was given, and when too few rows could
        be held out (1e-2 is then used).
    net_ : skda.engine.DomainNet
        The trained skorch net; ``net_.history`` holds the per-epoch losses
        and ``net_.module_`` the torch module."""

CLASSIFIER_ATTRIBUTES_DOC = """\
classes_ : ndarray of shape (n_classes,)
        Class labels (the unlabeled marker ``-1`` is never a class)."""

SCORE_DOC = """{metric} on the labeled rows of ``X, y``.

        Rows marked unlabeled ({marker}) are left out, as in ``fit``: they
        have no true target to compare with. With no labeled row the score
        is NaN, with a warning (a search fold holding only target rows).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            {metric} over the labeled rows (NaN when there are none).
        """

#: what ``"auto"`` does, after the method's own words on its strength (``fill_doc`` fills it)
AUTO_STRENGTH_DOC = """\
``"auto"``{default}: chosen without target labels by
        :class:`~skda.model_selection.StrengthSearch` among 0 (plain ERM,
        with ERM's settings) and {grid}: {fits} fits in all, 2 when
        the labeled domains' class mixes differ (then ERM is kept without
        trying alignment). A number fixes the strength and trains once.
        How often each loses to ERM on problems kept out of its design:
        ``benchmarks/results/auto_strength_report.md``."""

#: the same for a method that learns from labeled rows only (domain generalization)
AUTO_STRENGTH_DG_DOC = """\
``"auto"``{default}: chosen by
        :class:`~skda.model_selection.StrengthSearch` among 0 (plain ERM,
        with ERM's settings) and {grid}, by accuracy on a held-out fifth of
        every domain's labeled rows (DomainBed's training-domain validation),
        then refitted: {fits} fits in all. Measured on held-out domains in
        ``benchmarks/results/auto_strength_dg.md``."""

STRENGTH_ATTRIBUTES_DOC = """
    strength_ : float
        Only with ``{param}="auto"``: the strength kept (0: plain ERM, whose
        network ``net_`` then is).
    strength_search_ : dict of ndarray
        Only with ``{param}="auto"``: the search's per-candidate results
        (:attr:`skda.model_selection.StrengthSearch.cv_results_`); ERM
        alone when the labeled domains' class mixes differ too much for
        alignment to be tried (:attr:`~skda.model_selection.StrengthSearch.guarded_`)."""

REGRESSOR_ATTRIBUTES_DOC = """\
target_mean_, target_scale_ : float
        Mean and standard deviation of the labeled targets: the network
        learns the standardized target, and ``predict`` returns it on the
        original scale."""


def balanced_per_domain_weights(codes, labeled, domain_codes):
    """Row weights giving every domain x class group of labeled rows the same total weight.

    Within a domain of ``n`` labeled rows holding ``c`` classes, a row of a
    class counted ``m`` times weighs ``n / (c * m)``: each domain keeps its
    total weight (batches already give every domain the same share), and its
    classes share it equally. Unlabeled rows weigh 1 (the loss skips them).
    """
    weights = np.ones(len(codes))
    for domain in np.unique(domain_codes[labeled]):
        rows = labeled & (domain_codes == domain)
        classes, inverse, counts = np.unique(
            codes[rows], return_inverse=True, return_counts=True)
        weights[rows] = rows.sum() / (len(classes) * counts[inverse])
    return weights


def _warn_single_class_domains(codes, labeled, names, domain_codes):
    """Warn that ``class_weight="balanced_per_domain"`` cannot balance single-class domains."""
    single = [names[k].item() if hasattr(names[k], "item") else names[k]
              for k in np.unique(domain_codes[labeled])
              if len(np.unique(codes[labeled & (domain_codes == k)])) == 1]
    if single:
        warnings.warn(
            f"class_weight='balanced_per_domain' cannot balance domain(s) {single}: each "
            "holds a single class among its labeled rows, so its rows keep weight 1 and the "
            "domain still tells the label. No weighting removes that shortcut; see "
            "skda.metrics.confounding_report, or collect rows of the other classes there.",
            ConfoundingWarning, stacklevel=5)


#: how many times an average row's rate a domain's rows may be drawn before fit warns
OVERSAMPLING_WARNING = 10


class _TrainingRows(NamedTuple):
    """The rows ``fit`` trains on, encoded: inputs, targets, domains, weights."""

    X: np.ndarray
    targets: np.ndarray  # y as the network learns it: class codes, or standardized floats
    labeled: np.ndarray  # bool, per row
    domain_names: np.ndarray
    domain_codes: np.ndarray
    weights: np.ndarray | None  # float32 per row, None when uniform


def _only_labeled(rows):
    """``rows`` restricted to the labeled ones, the domains renumbered over those left."""
    keep = rows.labeled
    used, domain_codes = np.unique(rows.domain_codes[keep], return_inverse=True)
    return _TrainingRows(rows.X[keep], rows.targets[keep], keep[keep],
                         rows.domain_names[used], domain_codes,
                         None if rows.weights is None else rows.weights[keep])


def _warn_tiny_domains(names, codes):
    """Warn when equal batch shares make a small domain's rows dominate training.

    Every batch holds the same number of rows of each domain, so a domain
    of ``n_k`` rows among ``n`` rows in ``K`` domains has each of its rows
    drawn ``n / (K n_k)`` times as often as an average row. A 2-row
    admission source beside 30,000-row ones then counts as much as they do.
    """
    counts = np.bincount(codes, minlength=len(names))
    factor = len(codes) / (len(names) * counts)
    tiny = np.flatnonzero(factor > OVERSAMPLING_WARNING)
    if len(tiny):
        listed = ", ".join(f"'{names[k]}' ({counts[k]} rows)" for k in tiny[:5])
        more = f" and {len(tiny) - 5} more" if len(tiny) > 5 else ""
        warnings.warn(
            f"Every batch gives each of the {len(names)} domains the same share, so the rows "
            f"of the smallest ones, {listed}{more}, are drawn up to {factor.max():.0f} times as "
            "often as an average row and weigh as much as whole large domains. Merge domains "
            "this small (e.g. into one 'other' domain) or leave them out.",
            UserWarning, stacklevel=3)


def fill_doc(cls):
    """Insert the parameter and attribute text every estimator shares into ``cls.__doc__``.

    The shared text gets the defaults that differ between methods from
    ``cls.__init__``'s signature.
    """
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    classifier = issubclass(cls, ClassifierMixin)
    shared = SHARED_PARAMETERS_DOC.format(
        lr=f"{defaults['lr']:g}", stratified="class" if classifier else "nothing but the domain")
    if classifier:
        shared = CLASS_WEIGHT_DOC + shared
    attributes = SHARED_ATTRIBUTES_DOC.format(
        target_attributes=CLASSIFIER_ATTRIBUTES_DOC if classifier else REGRESSOR_ATTRIBUTES_DOC)
    auto = ""
    if cls._strength_param:
        attributes += STRENGTH_ATTRIBUTES_DOC.format(param=cls._strength_param)
        grid = [f"{g:g}" for g in cls._strength_grid]
        # the UDA methods' text, or the one of a method that learns from labeled rows only
        auto = (AUTO_STRENGTH_DOC if cls._uses_unlabeled else AUTO_STRENGTH_DG_DOC).format(
            default=" (the default)" if defaults[cls._strength_param] == "auto" else "",
            grid=", ".join(grid[:-1]) + " and " + grid[-1], fits=len(grid) + 2)
    cls.__doc__ = cls.__doc__.format(shared_parameters=shared, shared_attributes=attributes,
                                     auto_strength=auto)
    return cls


class DomainEstimator(TransformerMixin, BaseEstimator):
    """Base of the skda estimators: parameters, training set-up, prediction.

    :class:`DomainClassifier` and :class:`DomainRegressor` add what is
    particular to their targets. A method subclasses one of them: it lists
    its parameters in ``__init__`` (keyword-only after the first, stored
    with :meth:`_store_params`), adds its own to ``_parameter_constraints``,
    provides ``_build_algorithm`` (its :class:`~skda.engine.DomainAlgorithm`),
    and may override the class attributes below and ``_method_callbacks``.
    See ``docs/contributing.rst``.
    """

    #: valid values of the parameters every method shares (checked in fit)
    _parameter_constraints = {
        "hidden_layer_sizes": [HIDDEN_SIZES],
        "module": [NONE, MODULE],
        "augment": [NONE, CALLABLE],
        "max_epochs": [Interval(numbers.Integral, 1), Options("auto")],
        "batch_size": [Interval(numbers.Integral, 1)],
        "lr": [Interval(numbers.Real, 0, _LR_MAX, closed="neither")],
        "optimizer": [Satisfies(callable, "a torch optimizer class")],
        "callbacks": [NONE, LIST],
        "accelerator": [NONE, has_methods(
            "prepare", "backward", "device", description="an accelerate.Accelerator")],
        "random_state": [NONE, RANDOM_STATE],
        "verbose": [Interval(numbers.Integral, 0)],
        "early_stopping": [BOOLEAN],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1)],
        "tol": [Interval(numbers.Real, 0)],
        "input_scaling": [NONE, Options(*SCALING_METHODS)],
        # `device` is checked where it is resolved, which knows whether CUDA is here
    }

    #: what fit sets: cleared before a refit, told apart from misspelt parameters (such as
    #: ``lamda_``), and taken on from the model an ``"auto"`` strength keeps
    _fitted_attributes = FITTED_ATTRIBUTES
    #: fewest training domains the method can learn from
    _min_domains = 1
    #: whether unlabeled rows take part in training
    _uses_unlabeled = False
    #: whether the method trains under an ``accelerator`` (one loss per step)
    _supports_accelerator = True
    #: parameters named in the advice when training diverges
    _divergence_params = ("lr",)
    #: the method's name in tables (see :func:`skda.utils.estimator_info`)
    _display_name = None
    #: the settings it serves, from :data:`skda.utils.SETTINGS`
    _settings = ()
    #: the parameter that takes ``"auto"``: the adaptation strength (None: no such)
    _strength_param = None
    #: the strengths ``"auto"`` tries besides 0 (ERM)
    _strength_grid = (0.1, 0.3, 1.0, 3.0)
    #: the rule ``"auto"`` keeps a strength by in unsupervised DA (StrengthSearch's selection)
    _strength_selection = "entropy"
    #: whether the extra loss aligns the domains' features (StrengthSearch then checks the
    #: labeled domains' class mix in domain generalization too)
    _aligns_domains = False

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
            if k not in named and k not in self._fitted_attributes
            and not k.startswith(("_", *PARAM_PREFIXES))
        )
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {unknown}; extra "
                f"parameters must start with one of {list(PARAM_PREFIXES)}."
            )
        validate_params(self)
        decay = self._prefixed_params("optimizer__").get("optimizer__weight_decay", 0.0)
        if isinstance(decay, str) and decay != "auto":
            raise ValueError(
                f"optimizer__weight_decay must be a non-negative number or 'auto', got "
                f"{decay!r}.")
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
        # tabular X: missing values are the scaler's to fill (input_scaling)
        tags.input_tags.allow_nan = self.input_scaling is not None
        return tags

    # -- what a method provides ---------------------------------------------------------

    def _build_algorithm(self, featurizer, n_features, n_outputs, n_domains):
        raise NotImplementedError

    def _method_callbacks(self):
        """Callbacks the method needs (schedules); ``(name, callback)`` tuples."""
        return []

    def _encode_domains(self, X, domains):
        """``(names, codes)``: the training domains and each row's code (``encode_domains``).

        A method that infers the domains itself (latent domains) overrides it
        and returns placeholder codes, which a callback replaces in training.
        """
        return encode_domains(domains, len(X))

    # -- what a kind of target provides (DomainClassifier, DomainRegressor) ---------------

    #: the label loss
    _criterion = None

    def _validate_inputs(self, X, y):
        """Validated X (float32; sets ``n_features_in_`` and ``input_shape_``) and y."""
        raise NotImplementedError

    def _encode_targets(self, y):
        """``(fitted, targets)``: attributes to set after fit, and y as the network learns it
        (class codes, -1 unlabeled; or standardized floats, NaN unlabeled)."""
        raise NotImplementedError

    def _labeled(self, targets):
        raise NotImplementedError

    def _n_outputs(self, fitted):
        raise NotImplementedError

    def _class_weights(self, targets, labeled, domains, fitted):
        """Per-row weights of the target values (classifiers' ``class_weight``), or None."""
        return None

    # -- fit ------------------------------------------------------------------------------

    def fit(self, X, y, domains=None, sample_weight=None):
        """Train on ``X, y`` whose rows come from the domains ``domains``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), image array or image files
            Tabular inputs (numpy array or pandas DataFrame), or images of
            shape ``(n_samples, channels, height, width)`` (a 3-D array
            ``(n_samples, height, width)`` is read as one channel; uint8
            stays uint8 and is converted per batch), or image files: a list
            or 1-D array of paths, a torch ``Dataset`` of images or
            :class:`~skda.datasets.ImageRows`, decoded batch by batch. Never
            modified.
        y : array-like of shape (n_samples,)
            Targets; an unlabeled row is ``-1`` for a classifier (the
            ``sklearn.semi_supervised`` convention), ``NaN`` for a regressor.
        domains : array-like of shape (n_samples,), default=None
            Domain label (int or str) of each row. ``None`` puts all rows in
            one domain; with ``latent_domains=k`` (the estimators that have
            it), in ``k`` domains inferred by clustering.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in the label loss. The weights
            (times the class weights) are rescaled to average 1 over the
            labeled rows, and each batch's label loss is the sum of weight x
            loss over its labeled rows divided by their number: a row of
            weight 2 counts as two rows at any batch size, and uniform
            weights change nothing. Batches still hold an equal share of
            every domain, so a row's influence is its weight times its
            domain's share of the batch divided by the domain's size: weights
            act within the domain balance, not against it. Methods whose
            loss is a risk per group (GroupDRO, IRM, V-REx, Mixup) weigh the
            rows within each group and the groups by their own rule.
            Alignment terms (DANN's domain loss, CCSA's pairs) are not
            weighted.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        for name in self._fitted_attributes:  # a refit keeps nothing of an earlier fit
            self.__dict__.pop(name, None)
        self._check_params()
        given = X
        X, y = self._validate_inputs(X, y)
        fitted, rows = self._training_rows(X, y, domains, sample_weight)
        learnable = self._learnable(rows)
        # validated as for one fit (domains, weights, the number of domains); a search
        # takes every row, each candidate dropping what it cannot use: arrays and frames
        # as given (their dtype and column names intact), else validated
        searched = given if isinstance(given, np.ndarray) or hasattr(given, "iloc") else X
        if self._strength_param and getattr(self, self._strength_param) == "auto":
            return self._fit_auto_strength(searched, y, domains, sample_weight)
        self.weight_decay_ = self._weight_decay_setting(tabular=X.ndim == 2)
        self.weight_decay_search_ = None
        if self.weight_decay_ == "auto":
            self.weight_decay_, self.weight_decay_search_ = self._choose_weight_decay(
                searched, y, domains, sample_weight)
        _warn_tiny_domains(learnable.domain_names, learnable.domain_codes)
        scaled = learnable._replace(X=self._fit_input_scaler(learnable.X))
        net, held_out = self._train_network(scaled, fitted)
        fitted.update(self._fitted_from_training(net, held_out))
        for name, value in fitted.items():
            setattr(self, name, value)
        self.domains_ = learnable.domain_names
        self.n_iter_ = len(net.history)
        self.net_ = net
        return self

    def _fitted_from_training(self, net, held_out):
        """A method's own fitted attributes read off the trained ``net``, as a dict.

        ``held_out`` masks the rows of the training data held out for early
        stopping (None without). The base sets none.
        """
        return {}

    def _training_rows(self, X, y, domains, sample_weight):
        """``(fitted, rows)``: the target's fitted attributes, and every row encoded.

        Checks ``domains``, ``sample_weight`` and ``class_weight``.
        """
        fitted, targets = self._encode_targets(y)
        labeled = self._labeled(targets)
        domain_names, domain_codes = self._encode_domains(X, domains)
        weights = self._row_weights(
            X, targets, labeled, (domain_names, domain_codes), fitted, sample_weight)
        return fitted, _TrainingRows(X, targets, labeled, domain_names, domain_codes, weights)

    def _learnable(self, rows):
        """The rows the method learns from, from enough domains.

        A method that cannot use unlabeled rows drops them, and says so.
        """
        if not self._uses_unlabeled and not rows.labeled.all():
            # one rule for every estimator: the marker always means unlabeled, and an
            # estimator that cannot learn from such rows says that it drops them
            warnings.warn(
                f"{type(self).__name__} ignores the {int((~rows.labeled).sum())} rows with "
                f"{self._unlabeled_marker} (unlabeled); it learns from labeled rows only. "
                f"{self._marker_advice}", UnlabeledRowsWarning, stacklevel=3)
            rows = _only_labeled(rows)
        if len(rows.domain_names) < self._min_domains:
            which = "rows" if self._uses_unlabeled else "labeled rows"
            raise ValueError(
                f"{type(self).__name__} needs {which} from at least {self._min_domains} "
                f"domains, got {len(rows.domain_names)}. Pass domains=..., one domain "
                "label per row of X (e.g. the site or the source/target split)."
            )
        return rows

    def _train_network(self, rows, fitted):
        """``(net, held_out)``: the network trained on ``rows``, less the held-out mask's.

        ``held_out`` masks the rows held out for early stopping (None without).
        """
        X, targets, labeled, domain_names, domain_codes, weights = rows
        rng = check_random_state(self.random_state)
        init_seed, batch_seed = rng.randint(2**31 - 1, size=2)
        valid = None
        if self.early_stopping:  # drawn after the seeds, which it leaves unchanged
            valid = self._validation_rows(targets, labeled, domain_codes, rng)
        device = (torch.device(self.accelerator.device) if self.accelerator is not None
                  else resolve_device(self.device))

        def tensors(subset):
            X_rows = X[subset]
            if isinstance(X_rows, np.ndarray):  # ImageRows are read batch by batch
                X_rows = place_rows(X_rows, device)
            return DomainData(
                X_rows,
                torch.tensor(targets[subset], device=device),
                torch.tensor(domain_codes[subset], device=device),
                None if weights is None else torch.tensor(weights[subset], device=device))

        train = slice(None) if valid is None else ~valid
        cuda_devices = [device] if device.type == "cuda" else []
        # Seed torch without touching the caller's global torch RNG state.
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(int(init_seed))
            featurizer, width = build_featurizer(
                self.module, self._module_params(), X.shape[1:], self.hidden_layer_sizes)
            algorithm = self._build_algorithm(
                featurizer, width, self._n_outputs(fitted), len(domain_names))
            n_train = len(X) if valid is None else int((~valid).sum())
            epochs = self._epochs(n_train, len(domain_names))
            # under early stopping max_epochs is a cap: schedules span the planned length
            schedule = (min(epochs, self._epochs(n_train, len(domain_names), "auto"))
                        if self.early_stopping else None)
            net = self._make_net(algorithm, device, int(batch_seed), epochs, schedule)
            net.fit(tensors(train), valid=None if valid is None else tensors(valid))
        return net, valid

    def _fit_input_scaler(self, X):
        """X as the network takes it; fits ``input_scaler_`` on tabular X (None otherwise)."""
        self.input_scaler_ = None
        if X.ndim == 2 and self.input_scaling is not None:
            self.input_scaler_ = TabularScaler(self.input_scaling).fit(X)
            X = self.input_scaler_.transform(X)
        return X

    def _network_input_shape(self):
        """Shape of one row as the network sees it (the scaler may add indicator columns)."""
        if self.input_scaler_ is None:
            return tuple(self.input_shape_)
        return (self.input_shape_[0] + len(self.input_scaler_.missing_columns_),)

    def _choose_weight_decay(self, X, y, domains, sample_weight):
        """``(weight decay, per-value results)``: ERM's held-out loss chooses (see
        :mod:`skda.model_selection._weight_decay`)."""
        from ..model_selection._weight_decay import (
            FALLBACK_WEIGHT_DECAY,
            choose_weight_decay,
            held_out_rows,
        )

        valid = held_out_rows(y, np.zeros(len(y)) if domains is None else domains,
                              AUTO_VALIDATION_FRACTION, self.random_state,
                              regression=is_regressor(self))
        if not valid.any():  # too few rows to hold any out
            return FALLBACK_WEIGHT_DECAY, None
        decay, results, _ = choose_weight_decay(self, X, y, domains, sample_weight, valid,
                                                self.verbose)
        return decay, results

    def _fit_auto_strength(self, X, y, domains, sample_weight):
        """Fit with the strength chosen by :class:`~skda.model_selection.StrengthSearch`.

        The estimator takes on the fitted state of the model kept (plain
        ERM's network when strength 0 wins); ``strength_`` is the strength
        and ``strength_search_`` the search's ``cv_results_``.
        """
        from ..model_selection import StrengthSearch

        grid = self._strength_grid
        search = StrengthSearch(
            clone(self).set_params(**{self._strength_param: grid[0]}),
            param=self._strength_param, strengths=(0.0, *grid),
            selection=self._strength_selection, random_state=self.random_state,
            verbose=self.verbose)
        search.fit(X, y, domains=domains, sample_weight=sample_weight)
        best = search.best_estimator_
        for name in best._fitted_attributes:
            if name in vars(best):
                setattr(self, name, vars(best)[name])
        self.strength_ = search.strength_
        self.strength_search_ = search.cv_results_
        self.weight_decay_search_ = search.weight_decay_search_
        return self

    def _row_weights(self, X, targets, labeled, domains, fitted, sample_weight):
        """float32 weight per row (sample and class weights), or None when uniform.

        ``domains`` is ``(names, codes)`` as ``_encode_domains`` gives it.
        """
        weights = self._class_weights(targets, labeled, domains, fitted)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
            weights = sample_weight if weights is None else weights * sample_weight
        if weights is None:
            return None
        on_labeled = weights[labeled]
        if not on_labeled.sum() > 0:
            raise ValueError("sample_weight is 0 on every labeled row; nothing to learn from.")
        if np.all(on_labeled == on_labeled[0]):
            return None  # rescaled to average 1 below, uniform weights change nothing
        # Rescaled once, so that each batch's loss (sum of weight x loss over its labeled
        # rows, divided by their number) keeps the weights' meaning at any batch size.
        return np.where(labeled, weights / on_labeled.mean(), 1.0).astype(np.float32)

    def _validation_rows(self, targets, labeled, domain_codes, rng):
        """Mask of the labeled rows held out for early stopping, a slice of every domain."""
        held = holdout_labeled(labeled, domain_codes,
                               targets if self._stratify_validation else None,
                               self.validation_fraction, rng)
        if not held.any():
            raise ValueError(
                f"early_stopping found no labeled rows to hold out with validation_fraction="
                f"{self.validation_fraction!r}: every domain has too few labeled rows. "
                "Raise validation_fraction or train without early_stopping.")
        return held

    def _module_params(self):
        return {k[len("module__"):]: v for k, v in self._prefixed_params("module__").items()}

    def _new_featurizer(self):
        """Another backbone built as the method's own (for a method's extra networks)."""
        return build_featurizer(self.module, self._module_params(), self._network_input_shape(),
                                self.hidden_layer_sizes)[0]

    def _epochs(self, n_rows, n_domains, max_epochs=None):
        """``max_epochs``, with ``"auto"`` turned into the epochs of about ``AUTO_STEPS`` steps."""
        max_epochs = self.max_epochs if max_epochs is None else max_epochs
        if max_epochs != "auto":
            return max_epochs
        steps = BalancedBatches.steps_per_epoch(n_rows, n_domains, self.batch_size)
        return max(1, round(AUTO_STEPS / steps))

    def _make_net(self, algorithm, device, seed, epochs, schedule_epochs=None):
        hint = "Try a lower " + " or ".join(
            f"`{name}` (now {getattr(self, name)!r})" for name in self._divergence_params) + "."
        # early stopping first: at the end of training it restores the best epoch's
        # weights before the guard checks them
        stopping = [("early_stopping", EarlyStopping(self.n_iter_no_change, self.tol))]
        callbacks = [
            *(stopping if self.early_stopping else []),
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
            criterion=self._criterion,
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=epochs,
            schedule_epochs=schedule_epochs,
            batch_size=self.batch_size,
            callbacks=callbacks,
            verbose=self.verbose,
            augment=self.augment,
            **placement,
            **self._optimizer_params(),
        )

    def _weight_decay_setting(self, tabular):
        """``optimizer__weight_decay`` as given, else ``"auto"`` on tabular X (None: the optimizer's
        own default)."""
        params = self._prefixed_params("optimizer__")
        if "optimizer__weight_decay" in params:
            return params["optimizer__weight_decay"]
        takes_it = "weight_decay" in inspect.signature(self.optimizer).parameters
        return "auto" if tabular and takes_it else None

    def _optimizer_params(self):
        """The ``optimizer__*`` parameters, with the weight decay this fit trains at."""
        params = self._prefixed_params("optimizer__")
        if self.weight_decay_ is not None:
            params["optimizer__weight_decay"] = self.weight_decay_
        return params

    # -- predict ------------------------------------------------------------------------

    def _labeled_score(self, score, X, y, sample_weight):
        """``score(self, X, y, sample_weight)`` over the rows of ``y`` that are labeled."""
        y = column_or_1d(y, warn=True)
        labeled = ~unlabeled_mask(y, regression=is_regressor(self))
        if not labeled.any():
            # a fold of target rows only, in a search over domains: nothing to score
            warnings.warn(
                f"score: every row of y is unlabeled ({self._unlabeled_marker}); there is "
                "nothing to score, so the score is NaN.", UserWarning, stacklevel=3)
            return float("nan")
        if not labeled.all():
            X = _safe_indexing(X, np.flatnonzero(labeled))
            y = y[labeled]
            sample_weight = None if sample_weight is None else np.asarray(sample_weight)[labeled]
        return score(self, X, y, sample_weight=sample_weight)

    def _infer(self, X, method):
        check_is_fitted(self)
        X = validate_X(self, X)
        if self.input_scaler_ is not None:
            X = self.input_scaler_.transform(X)
        return self.net_.infer_numpy(X, method)

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


class DomainClassifier(ClassifierMixin, DomainEstimator):
    """Base of the skda classifiers: labels, class weights, probabilities.

    Unlabeled rows have ``y == -1``.
    """

    _parameter_constraints = {
        **DomainEstimator._parameter_constraints,
        "class_weight": [NONE, Options("balanced", "balanced_per_domain"), Satisfies(
            lambda v: isinstance(v, dict), "a dict of class weights")],
    }
    _criterion = MaskedCrossEntropy
    _stratify_validation = True
    _unlabeled_marker = "y == -1"
    _marker_advice = ("-1 marks an unlabeled row (the sklearn.semi_supervised convention): "
                      "if it is meant as a class, encode the classes otherwise, e.g. with "
                      "sklearn.preprocessing.LabelEncoder.")

    def _validate_inputs(self, X, y):
        return validate_X(self, X, y, reset=True)

    def _encode_targets(self, y):
        classes, codes = encode_labels(y)
        return {"classes_": classes}, codes

    def _labeled(self, codes):
        return codes >= 0

    def score(self, X, y, sample_weight=None):
        return self._labeled_score(ClassifierMixin.score, X, y, sample_weight)

    score.__doc__ = SCORE_DOC.format(metric="Mean accuracy", marker="``y == -1``")

    def _n_outputs(self, fitted):
        return len(fitted["classes_"])

    def _class_weights(self, codes, labeled, domains, fitted):
        if self.class_weight is None:
            return None
        if self.class_weight == "balanced_per_domain":
            names, domain_codes = domains
            _warn_single_class_domains(codes, labeled, names, domain_codes)
            return balanced_per_domain_weights(codes, labeled, domain_codes)
        classes = fitted["classes_"]
        if isinstance(self.class_weight, dict):
            bad = {k: v for k, v in self.class_weight.items()
                   if not (isinstance(v, numbers.Real) and np.isfinite(v) and v >= 0)}
            if bad:
                raise ValueError(
                    f"class_weight must map classes to finite, non-negative numbers, got {bad}; "
                    "a negative weight would maximise that class's loss.")
        try:
            per_class = compute_class_weight(
                self.class_weight, classes=classes, y=classes[codes[labeled]])
        except ValueError as exc:
            raise ValueError(f"class_weight: {exc}") from None
        return np.where(labeled, per_class[np.maximum(codes, 0)], 1.0)

    def decision_function(self, X):
        """Confidence scores: the network's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the log-odds of ``classes_[1]``; otherwise one
            logit per class (columns as ``classes_``).
        """
        logits = self._infer(X, "forward").astype(np.float64)
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

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


class DomainRegressor(RegressorMixin, DomainEstimator):
    """Base of the skda regressors: one continuous target, ``NaN`` marking unlabeled rows.

    The network learns the standardized target (``(y - target_mean_) /
    target_scale_``, over the labeled rows), so that the defaults suit any
    scale; ``predict`` returns the original scale.
    """

    _criterion = MaskedSquaredError
    _stratify_validation = False
    _unlabeled_marker = "y = NaN"
    _marker_advice = "Impute or drop missing targets if they are not meant as unlabeled."

    def _validate_inputs(self, X, y):
        X = validate_X(self, X, NO_Y, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = column_or_1d(y, warn=True)
        if len(y) != len(X):
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{len(X)}, {len(y)}].")
        return X, y

    def _encode_targets(self, y):
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"y must hold numbers (NaN for unlabeled rows), got dtype {y.dtype}.") from None
        if np.isinf(y).any():
            raise ValueError("y contains infinity; mark unlabeled rows with NaN.")
        labeled = ~np.isnan(y)
        if labeled.sum() < 2:
            raise ValueError(
                f"A regressor needs at least 2 labeled rows (y not NaN), got "
                f"{int(labeled.sum())} sample(s) with a label.")
        mean, scale = float(y[labeled].mean()), float(y[labeled].std())
        scale = scale if scale > 0 else 1.0
        return {"target_mean_": mean, "target_scale_": scale}, ((y - mean) / scale).astype(
            np.float32)

    def _labeled(self, targets):
        return ~np.isnan(targets)

    def score(self, X, y, sample_weight=None):
        return self._labeled_score(RegressorMixin.score, X, y, sample_weight)

    score.__doc__ = SCORE_DOC.format(metric="Coefficient of determination R²",
                                     marker="``y`` NaN")

    def _n_outputs(self, fitted):
        return 1

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or image array
            Inputs, shaped as in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions on the scale of the training targets.
        """
        out = self._infer(X, "forward").astype(np.float64).ravel()
        return out * self.target_scale_ + self.target_mean_
