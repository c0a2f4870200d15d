"""scikit-learn's estimator checks are the arbiter of the estimator contract."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import _num_samples

from skda import (
    CAADAClassifier,
    CCSAClassifier,
    CDANClassifier,
    CDANNClassifier,
    DANNClassifier,
    DANNRegressor,
    DDAIGClassifier,
    DeepCORALClassifier,
    ERMClassifier,
    ERMRegressor,
    GroupDROClassifier,
    IRMClassifier,
    L2AOTClassifier,
    MCCClassifier,
    MixupClassifier,
    MMDClassifier,
    SagNetClassifier,
    VRExClassifier,
)

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


class AlternatingDomainsDANN(AlternatingDomains, DANNClassifier):
    pass


class AlternatingDomainsCCSA(AlternatingDomains, CCSAClassifier):
    pass


class AlternatingDomainsDANNRegressor(AlternatingDomains, DANNRegressor):
    pass


class AlternatingDomainsCDANN(AlternatingDomains, CDANNClassifier):
    pass


class AlternatingDomainsCDAN(AlternatingDomains, CDANClassifier):
    pass


class AlternatingDomainsDeepCORAL(AlternatingDomains, DeepCORALClassifier):
    pass


class AlternatingDomainsMMD(AlternatingDomains, MMDClassifier):
    pass


class AlternatingDomainsIRM(AlternatingDomains, IRMClassifier):
    pass


class AlternatingDomainsVREx(AlternatingDomains, VRExClassifier):
    pass


class AlternatingDomainsMixup(AlternatingDomains, MixupClassifier):
    pass


class AlternatingDomainsDDAIG(AlternatingDomains, DDAIGClassifier):
    pass


class AlternatingDomainsCAADA(AlternatingDomains, CAADAClassifier):
    pass


class AlternatingDomainsL2AOT(AlternatingDomains, L2AOTClassifier):
    pass


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


@parametrize_with_checks(
    [
        ERMClassifier(**FIXED),
        AlternatingDomainsDANN(**FIXED, lambda_=0.1),
        AlternatingDomainsCCSA(**FIXED),
        SagNetClassifier(**FIXED),
        ERMRegressor(**FIXED),
        AlternatingDomainsDANNRegressor(**FIXED, lambda_=0.1),
        AlternatingDomainsCDANN(**FIXED, lambda_=0.1),
        GroupDROClassifier(**FIXED),
        AlternatingDomainsCDAN(**FIXED, lambda_=0.1),
        AlternatingDomainsDeepCORAL(**FIXED, lambda_=1.0),
        AlternatingDomainsMMD(**FIXED, lambda_=1.0),
        MCCClassifier(**FIXED, lambda_=1.0),
        # a penalty of weight 100 from the 5th step stops the checks' tiny fits from learning
        AlternatingDomainsIRM(**FIXED, penalty_anneal_iters=30),
        AlternatingDomainsVREx(**FIXED, penalty_anneal_iters=5),
        AlternatingDomainsMixup(**FIXED),
        AlternatingDomainsCAADA(**FIXED, lambda_=0.1, coral_weight=0.1),
        AlternatingDomainsDDAIG(**FIXED),
        AlternatingDomainsL2AOT(**FIXED),
        # no domains given: the checks' fits cluster the rows into 2 latent domains
        DANNClassifier(**FIXED, lambda_=0.1, latent_domains=2),
        # the strength searched (six fits, a held-out slice) under the same contract, and
        # the weight decay chosen before it
        AlternatingDomainsDeepCORAL(**{**SMALL, "max_epochs": 5}, lambda_="auto"),
        GroupDROClassifier(**{**FIXED, "max_epochs": 5}, eta="auto"),
        # the tabular default: the weight decay chosen on held-out rows
        ERMClassifier(**SMALL),
        ERMRegressor(**SMALL),
    ],
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
