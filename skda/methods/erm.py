"""Empirical risk minimisation: the baseline every method is measured against."""

from ..engine import Adam, DomainAlgorithm
from .base import DomainClassifier, DomainRegressor, fill_doc


class ERM(DomainAlgorithm):
    """Backbone plus linear head, trained on the labeled rows' label loss alone."""

    def training_loss(self, X, y, domains, label_loss):
        return label_loss(self(X), y), {}


@fill_doc
class ERMClassifier(DomainClassifier):
    """Plain supervised classifier on the same backbone and batches as the domain methods.

    Trained with cross-entropy on the labeled rows; rows with ``y == -1``
    are ignored. When ``domains`` is given, every batch holds an equal share
    of each domain (DomainBed's ERM), so that the only difference from a
    domain method is that method's loss.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). Features are the last hidden layer's output.
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    DANNClassifier : Adds a domain-adversarial loss to the same network.

    Examples
    --------
    >>> from skda import ERMClassifier
    >>> from skda.datasets import make_rotated_moons
    >>> X, y, domains = make_rotated_moons(random_state=0)
    >>> source = domains == "source"
    >>> clf = ERMClassifier(max_epochs=5, random_state=0).fit(X[source], y[source])
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _display_name = "ERM"
    _settings = ("baseline",)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
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
        return ERM(featurizer, n_features, n_classes)


@fill_doc
class ERMRegressor(DomainRegressor):
    """Plain regressor on the same backbone and batches as the domain methods.

    Trained with the squared error on the labeled rows; rows whose ``y`` is
    ``NaN`` are ignored. When ``domains`` is given, every batch holds an
    equal share of each domain, so that the only difference from
    :class:`~skda.DANNRegressor` is DANN's domain loss.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Hidden layer widths of the default MLP backbone (ignored when
        ``module`` is given). Features are the last hidden layer's output.
    {shared_parameters}

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    DANNRegressor : Adds a domain-adversarial loss to the same network.
    ERMClassifier : The classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from skda import ERMRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = 2.0 * X[:, 0] + 10.0
    >>> reg = ERMRegressor(max_epochs=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _display_name = "ERM"
    _settings = ("baseline",)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
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
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        input_scaling="standard",
        **kwargs,
    ):
        self._store_params(locals())

    _build_algorithm = ERMClassifier._build_algorithm
