"""scikit-learn's estimator checks are the arbiter of the estimator contract."""

import numpy as np
import pytest
from helpers import fixed_strength
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import _num_samples

from skda import (
    DANNClassifier,
    DeepCORALClassifier,
    ERMClassifier,
    ERMRegressor,
    GroupDROClassifier,
)
from skda.utils import all_estimators

# -1 is the unlabeled marker (the sklearn.semi_supervised convention), so a
# data set whose classes are {-1, 1} reads as "one class plus unlabeled rows".
# This check feeds exactly that; SelfTrainingClassifier has the same limit.
SEMI_SUPERVISED_MARKER = {
    "check_classifiers_classes": "y == -1 marks unlabeled rows, so -1 cannot be a class",
}


class AlternatingDomains:
    """For the checks, which call ``fit(X, y)`` and cannot pass ``domains``.

    DANN and CCSA rightly refuse a single domain, so these subclasses (same
    parameters, same code path) assign rows alternately to two domains when
    none are given. Every check then runs the method's full training.
    """

    def fit(self, X, y, domains=None):
        if domains is None:
            domains = np.arange(_num_samples(X)) % 2
        return super().fit(X, y, domains=domains)


def with_alternating_domains(Estimator):
    """``Estimator`` itself, or its :class:`AlternatingDomains` subclass if it needs 2 domains.

    The subclass is made a name of this module so that the pickling checks find it.
    """
    if Estimator._min_domains < 2:
        return Estimator
    name = f"AlternatingDomains{Estimator.__name__}"
    if name not in globals():
        globals()[name] = type(name, (AlternatingDomains, Estimator), {"__module__": __name__})
    return globals()[name]


#: weights act through each batch's weighted mean, batches are drawn at random and
#: every batch holds every domain: a weight of 0 or 2 is not the same as dropping or
#: repeating a row (the sampled batches differ); uniform weights are exactly no weights
STOCHASTIC_WEIGHTS = {
    "check_sample_weight_equivalence_on_dense_data":
        "weights act within randomly drawn, domain-balanced batches",
    "check_sample_weight_equivalence_on_sparse_data": "idem",
    "check_sample_weights_invariance": "idem (the kind='zeros' case)",
}

#: decision_function is the difference of two float32 logits: a row's logits differ in
#: their last bit with the chunk of rows they are computed with (BLAS blocking), and the
#: difference of two numbers near 1 shows it (2e-7 against the check's 1e-7)
FLOAT32_LOGITS = {
    "check_methods_subset_invariance": "float32 logits depend on the chunk in the last bit",
    "check_methods_sample_order_invariance": "idem",
}


SMALL = dict(hidden_layer_sizes=(16,), max_epochs=20, lr=1e-2, random_state=0)
#: the weight decay given, so that each check trains once: the tabular default "auto"
#: (four ERM fits first, then the model) has its own entries below
FIXED = {**SMALL, "optimizer__weight_decay": 3e-3}

#: ``optimizer__*`` parameters are keyword arguments (``**kwargs``, as in skorch), stored as
#: attributes; this check reads the parameters from the signature alone
KEYWORD_PARAMETERS = {
    "check_no_attributes_set_in_init": "optimizer__* parameters arrive through **kwargs",
}


#: the checks' settings that differ from :data:`FIXED` plus the paper's fixed strength
#: (:func:`helpers.fixed_strength`); a method absent here needs none
CHECK_PARAMS = {
    # the adversaries at full strength keep the checks' 20-epoch fits from learning
    "DANNClassifier": dict(lambda_=0.1), "DANNRegressor": dict(lambda_=0.1),
    "CDANNClassifier": dict(lambda_=0.1), "CDANClassifier": dict(lambda_=0.1),
    "CAADAClassifier": dict(lambda_=0.1, coral_weight=0.1),
    # a penalty of weight 100 from the 5th step stops the checks' tiny fits from learning
    "IRMClassifier": dict(penalty_anneal_iters=30), "VRExClassifier": dict(penalty_anneal_iters=5),
}


def checked_instance(Estimator):
    """The instance of a registered estimator that the checks run on."""
    return with_alternating_domains(Estimator)(
        **{**FIXED, **fixed_strength(Estimator), **CHECK_PARAMS.get(Estimator.__name__, {})})


#: each registered estimator, then the options with code paths of their own
CHECKED = [checked_instance(Estimator) for _, Estimator in all_estimators()] + [
    # no domains given: the checks' fits cluster the rows into 2 latent domains
    DANNClassifier(**FIXED, lambda_=0.1, latent_domains=2),
    # the strength searched (six fits, a held-out slice) under the same contract, and
    # the weight decay chosen before it
    with_alternating_domains(DeepCORALClassifier)(**{**SMALL, "max_epochs": 5}, lambda_="auto"),
    GroupDROClassifier(**{**FIXED, "max_epochs": 5}, eta="auto"),
    # the tabular default: the weight decay chosen on held-out rows
    ERMClassifier(**SMALL),
    ERMRegressor(**SMALL),
]


@parametrize_with_checks(
    CHECKED,
    expected_failed_checks=lambda est: {
        **(SEMI_SUPERVISED_MARKER if hasattr(est, "predict_proba") else {}),
        **(FLOAT32_LOGITS if hasattr(est, "decision_function") else {}),
        **(KEYWORD_PARAMETERS if "optimizer__weight_decay" in est.get_params() else {}),
        **STOCHASTIC_WEIGHTS},
)
@pytest.mark.filterwarnings("ignore:MCCClassifier got no unlabeled rows")
@pytest.mark.filterwarnings("ignore:penalty_anneal_iters=30 is not below")
def test_sklearn_compatible(estimator, check):
    check(estimator)
