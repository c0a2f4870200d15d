"""Bad input fails early with an error that names the argument."""

import numpy as np
import pytest
import torch
from helpers import CLASSIFIERS, TINY, fixed_strength
from sklearn.exceptions import NotFittedError

from skda import DANNClassifier, ERMClassifier

ESTIMATORS = CLASSIFIERS


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_domains_of_wrong_length(Estimator, moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match=r"domains must hold one domain label per row of X "
                                         r"\(200 rows\), got shape \(199,\)"):
        Estimator(**TINY).fit(X, y, domains=d[:-1])


@pytest.mark.parametrize("domains, match", [
    (np.zeros((200, 2)), r"domains must hold one domain label per row of X \(200 rows\)"),
    (np.r_[np.zeros(199), np.nan], "domains contains a missing entry"),
    (np.array(["a"] * 199 + [None], dtype=object), "domains contains a missing entry"),
])
def test_malformed_domains(domains, match, moons):
    X, y, _, _ = moons
    with pytest.raises(ValueError, match=match):
        ERMClassifier(**TINY).fit(X, y, domains=domains)


def test_scalar_domains(moons):
    X, y, _, _ = moons
    with pytest.raises(TypeError, match="domains must be array-like"):
        ERMClassifier(**TINY).fit(X, y, domains="site")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_infinity_in_X(Estimator, moons):
    X, y, d, _ = moons
    X = X.copy()
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        Estimator(**TINY).fit(X, y, domains=d)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nan_in_X_is_filled_by_the_input_scaler(Estimator, moons):
    X, y, d, _ = moons
    X = X.copy()
    X[3, 1] = np.nan
    est = Estimator(**TINY).fit(X, y, domains=d)
    assert est.input_scaler_.missing_columns_.tolist() == [1]
    assert np.isfinite(est.predict_proba(X)).all()
    assert np.isnan(X[3, 1])  # the caller's array is left as it was
    with pytest.raises(ValueError, match=r"input_scaling=None\) would pass"):
        Estimator(**TINY, input_scaling=None).fit(X, y, domains=d)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_no_labeled_rows(Estimator, moons):
    X, _, d, _ = moons
    with pytest.raises(ValueError, match="y has no labeled rows"):
        Estimator(**TINY).fit(X, np.full(len(X), -1), domains=d)


def test_single_class_among_labeled_rows(moons):
    X, _, d, target = moons
    y = np.where(target, -1, 1)
    with pytest.raises(ValueError, match="1 class"):
        DANNClassifier(**TINY).fit(X, y, domains=d)


def test_dann_needs_two_domains(moons):
    X, y, _, _ = moons
    with pytest.raises(ValueError, match="DANNClassifier needs rows from at least 2 domains"):
        DANNClassifier(**TINY).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 domains, got 1"):
        DANNClassifier(**TINY).fit(X, y, domains=np.full(len(X), "only"))


def test_continuous_target(moons):
    X, _, d, _ = moons
    with pytest.raises(ValueError, match="Unknown label type"):
        ERMClassifier(**TINY).fit(X, np.linspace(0, 1, len(X)), domains=d)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_before_fit(Estimator, moons):
    with pytest.raises(NotFittedError):
        Estimator().predict(moons[0])


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform"])
def test_predict_with_wrong_number_of_features(method, moons_uda):
    X, y, d = moons_uda
    clf = DANNClassifier(**TINY).fit(X, y, domains=d)
    with pytest.raises(ValueError, match="X has 3 features, but DANNClassifier is expecting 2"):
        getattr(clf, method)(np.ones((4, 3)))


STRENGTH_RANGE = "lambda_ must be a finite real number >= 0 or 'auto', got "
LR_RANGE = r"lr must be a finite real number in \(0, 3.4\d*e\+38\), got "


@pytest.mark.parametrize("params, error, match", [
    ({"max_epochs": 0}, ValueError, "max_epochs must be an int >= 1 or 'auto', got 0"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an int >= 1, got 2.5"),
    ({"lr": -1.0}, ValueError, LR_RANGE + "-1.0"),
    ({"lr": float("nan")}, ValueError, LR_RANGE + "nan"),
    ({"lr": float("inf")}, ValueError, LR_RANGE + "inf"),
    ({"verbose": True}, TypeError, "verbose must be an int >= 0, got True"),
    ({"hidden_layer_sizes": (10, 0)}, ValueError, "hidden_layer_sizes must be a tuple"),
    ({"lambda_": -0.5}, ValueError, STRENGTH_RANGE + "-0.5"),
    ({"lambda_": float("inf")}, ValueError, STRENGTH_RANGE + "inf"),
    ({"lambda_": "big"}, TypeError, STRENGTH_RANGE + "'big'"),
    ({"lambda_warmup": "yes"}, TypeError, "lambda_warmup must be a bool"),
    ({"discriminator_hidden_layer_sizes": "wide"}, ValueError,
     "discriminator_hidden_layer_sizes must be a tuple"),
    ({"device": "tpu"}, ValueError, "device must be 'auto'"),
    ({"optimizer": "adam"}, TypeError, "optimizer must be a torch optimizer class"),
    ({"callbacks": "print"}, TypeError, "callbacks must be None or a list"),
    ({"lamda_": 1.0}, TypeError, r"unexpected parameter\(s\) \['lamda_'\]"),
    ({"module": "resnet"}, TypeError,
     "module must be None or a torch.nn.Module subclass or instance"),
    ({"module__width": 3}, TypeError, "module__\\* parameters \\['width'\\] need a `module`"),
])
def test_invalid_parameters_fail_in_fit_not_init(params, error, match, moons_uda):
    X, y, d = moons_uda
    clf = DANNClassifier(**{**TINY, **params})  # construction never raises
    with pytest.raises(error, match=match):
        clf.fit(X, y, domains=d)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_requested_without_cuda(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="CUDA is not available"):
        ERMClassifier(**TINY, device="cuda").fit(X, y, domains=d)


def test_module_returning_wrong_shape(moons_uda):
    X, y, d = moons_uda

    class Flat(torch.nn.Module):
        def forward(self, X):
            return X.sum()

    with pytest.raises(ValueError, match="module must return a 2-D feature tensor"):
        ERMClassifier(module=Flat, **TINY).fit(X, y, domains=d)


@pytest.mark.parametrize("Estimator, hint", [
    (ERMClassifier, r"Try a lower `lr` \(now 1e\+20\)\."),
    (DANNClassifier, r"Try a lower `lr` \(now 1e\+20\) or `lambda_` \(now 1.0\)\."),
])
def test_diverging_loss_names_epoch_and_parameters(Estimator, hint, moons_uda):
    X, y, d = moons_uda
    clf = Estimator(**{**TINY, "max_epochs": 5}, **fixed_strength(Estimator),
                    optimizer=torch.optim.SGD, lr=1e20)
    with pytest.raises(ValueError, match=r"training loss became (nan|inf) at epoch \d+, batch \d+"
                       r"; training diverged\. " + hint):
        clf.fit(X * 1e3, y, domains=d)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_in_images(bad, digit_images):
    X, y, d = digit_images
    X = X.copy()
    X[5, 0, 3, 3] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        ERMClassifier(**TINY).fit(X, y, domains=d)


def test_images_and_labels_of_different_lengths(digit_images):
    X, y, d = digit_images
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ERMClassifier(**TINY).fit(X, y[:-1], domains=d)


# -- one domain check everywhere -------------------------------------------------------------


def _domain_consumers():
    from skda.metrics import per_domain_scores
    from skda.model_selection import (
        LeaveOneDomainOut,
        TrainingDomainValidation,
        evaluate_transductive,
    )
    from skda.plot import plot_embedding

    def fit(X, y, d):
        ERMClassifier(**TINY).fit(X, y, domains=d)

    def split(cv):
        return lambda X, y, d: next(cv.split(X, y, groups=d))

    def scores(X, y, d):
        per_domain_scores(_fitted_erm(X, y), X, y, d)

    def embedding(X, y, d):
        pytest.importorskip("matplotlib")
        plot_embedding({"ERM": _fitted_erm(X, y)}, X, y, d)

    def transductive(X, y, d):
        evaluate_transductive(ERMClassifier(**TINY), X, y, d)

    return {"fit": fit, "LeaveOneDomainOut": split(LeaveOneDomainOut()),
            "TrainingDomainValidation": split(TrainingDomainValidation()),
            "per_domain_scores": scores, "plot_embedding": embedding,
            "evaluate_transductive": transductive}


_FITTED = {}


def _fitted_erm(X, y):
    if "erm" not in _FITTED:
        _FITTED["erm"] = ERMClassifier(**TINY).fit(X, y)
    return _FITTED["erm"]


@pytest.mark.parametrize("consumer", list(_domain_consumers()))
@pytest.mark.parametrize("bad, error, match", [
    (lambda d: d[:-1], ValueError, r"one domain label per row of X \(200 rows\)"),
    (lambda d: np.stack([d, d], axis=1), ValueError, r"one domain label per row of X"),
    (lambda d: "source", TypeError, "must be array-like with one domain label per row"),
    (lambda d: np.where(np.arange(len(d)) == 3, None, d), ValueError,
     "contains a missing entry"),
])
def test_every_function_checks_domains_alike(consumer, bad, error, match, moons):
    X, y, d, _ = moons
    with pytest.raises(error, match=match):
        _domain_consumers()[consumer](X, y, bad(d))


def test_pandas_missing_domain_is_named():
    pd = pytest.importorskip("pandas")
    from skda._validation import check_domains

    domains = pd.array(["a", pd.NA, "b"], dtype="string")
    with pytest.raises(ValueError, match="domains contains a missing entry"):
        check_domains(domains, 3)


# -- failures that used to be silent, and errors that used to be unhelpful -------------------


def test_string_labels_holding_the_string_minus_one_are_refused(moons):
    X, y, d, target = moons
    labels = np.array(["no", "yes"])[y]  # numpy string dtype
    labels[target] = -1  # stored as the string "-1", which would become a third class
    with pytest.raises(ValueError, match="string array holding '-1'"):
        ERMClassifier(**TINY).fit(X, labels, domains=d)
    objects = labels.astype(object)
    objects[target] = -1  # the integer marker: fine
    assert list(ERMClassifier(**TINY).fit(X, objects, domains=d).classes_) == ["no", "yes"]


@pytest.mark.parametrize("bad", ["", "NaT"])
def test_empty_and_not_a_time_domains_are_refused(bad, moons):
    X, y, d, _ = moons
    if bad == "NaT":
        domains = np.where(d == "source", np.datetime64("2020-01-01"), np.datetime64("NaT"))
        match = "missing entry"
    else:
        domains = np.where(d == "source", "site A", "")
        match = "empty string"
    with pytest.raises(ValueError, match=match):
        ERMClassifier(**TINY).fit(X, y, domains=domains)


def test_pandas_na_domain_in_fit_is_named(moons):
    pd = pytest.importorskip("pandas")
    X, y, d, _ = moons
    domains = pd.Series(d, dtype="string")
    domains[5] = pd.NA
    with pytest.raises(ValueError, match="domains contains a missing entry"):
        ERMClassifier(**TINY).fit(X, y, domains=domains)


def test_an_overflowing_learning_rate_is_refused_before_training(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match=r"lr must be a finite real number in \(0, 3.4"):
        ERMClassifier(**TINY, lr=1e39).fit(X, y, domains=d)


def test_weights_that_overflow_on_the_last_step_are_an_error(moons_uda):
    X, y, d = moons_uda

    class Overflowing(torch.optim.SGD):
        """An update that overflows: every weight becomes infinite."""

        def step(self, closure=None):
            loss = closure() if closure is not None else None
            for group in self.param_groups:
                for p in group["params"]:
                    p.data.fill_(float("inf"))
            return loss

    # one step in all: its loss is finite, the update it makes is not
    clf = ERMClassifier(hidden_layer_sizes=(8,), max_epochs=1, batch_size=len(X),
                        optimizer=Overflowing, random_state=0)
    with pytest.raises(ValueError, match="weights became NaN or infinite in the last updates"):
        clf.fit(X, y, domains=d)


def test_finite_weights_with_overflowing_outputs_are_an_error(moons_uda):
    X, y, d = moons_uda
    # one SGD step at lr 1e20: the weights stay finite, the logits do not
    clf = ERMClassifier(optimizer=torch.optim.SGD, lr=1e20, max_epochs=1, batch_size=len(X),
                        random_state=0)
    with pytest.raises(ValueError, match="outputs on training rows are NaN or infinite"):
        clf.fit(X, y, domains=d)


def test_labels_minus_one_and_plus_one_name_the_unlabeled_rule(moons):
    X, y, d, _ = moons
    with pytest.raises(ValueError, match=r"y == -1 are unlabeled rows, not a class.*\{0, 1\}"):
        ERMClassifier(**TINY).fit(X, np.where(y == 0, -1, 1), domains=d)


def test_domains_mixing_numbers_and_strings_are_named(moons):
    X, y, _, _ = moons
    half = len(X) // 2
    d = np.array([1] * half + ["1"] * (len(X) - half), dtype=object)
    with pytest.raises(TypeError, match=r"domains mixes strings and other labels.*astype\(str\)"):
        ERMClassifier(**TINY).fit(X, y, domains=d)


def test_the_meta_device_is_refused(moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match="device='meta' holds no data"):
        ERMClassifier(**TINY, device="meta").fit(X, y, domains=d)


def test_transductive_targets_without_labels_fail_before_any_fit(moons):
    from sklearn.base import BaseEstimator, ClassifierMixin

    from skda.model_selection import evaluate_transductive

    class MustNotFit(ClassifierMixin, BaseEstimator):
        def fit(self, X, y, domains=None):
            raise AssertionError("fitted")

    X, y, d, target = moons
    y_hidden = np.where(target, -1, y)
    with pytest.raises(ValueError, match=r"target domain\(s\) \['target'\] have no labeled rows"):
        evaluate_transductive(MustNotFit(), X, y_hidden, d, target_domains=["target"])
