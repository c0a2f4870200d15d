"""Parameter constraints (skda._params): one table per class, one check, one message."""

import inspect
import math
import numbers

import numpy as np
import pytest
from helpers import CLASSIFIERS, TINY

from skda import ERMClassifier
from skda._params import HIDDEN_SIZES, Interval, InvalidParameterError, Options, validate_params
from skda.model_selection import (
    ImportanceWeightedScorer,
    MixValScorer,
    SoftNeighborhoodDensityScorer,
    TrainingDomainValidation,
)
from skda.utils import all_estimators

ESTIMATORS = CLASSIFIERS


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan"), True])
def test_real_intervals_refuse_non_finite_values_and_bools(value):
    assert not Interval(numbers.Real, 0, closed="neither").accepts(value)
    assert not Interval(numbers.Real).accepts(value)


def test_interval_bounds_and_descriptions():
    unit = Interval(numbers.Real, 0, 1, closed="right")
    assert not unit.accepts(0) and unit.accepts(1) and unit.accepts(np.float64(0.5))
    assert str(unit) == "a finite real number in (0, 1]"
    assert str(Interval(numbers.Integral, 1)) == "an int >= 1"
    assert Interval(numbers.Integral, 1).accepts(np.int64(3))
    assert not Interval(numbers.Integral, 1).accepts(2.0)
    assert Interval(numbers.Integral, 1).accepts(10**400)  # no float conversion of ints
    assert Options("auto").accepts("auto") and not Options("auto").accepts(["auto"])
    assert HIDDEN_SIZES.accepts(5) and HIDDEN_SIZES.accepts(()) and HIDDEN_SIZES.accepts([3, 4])
    assert not HIDDEN_SIZES.accepts("64") and not HIDDEN_SIZES.accepts((3, True))


def test_invalid_parameter_error_is_both_a_value_and_a_type_error():
    class Thing:
        _parameter_constraints = {"size": [Interval(numbers.Integral, 1), Options("auto")]}
        size = 0

    with pytest.raises(InvalidParameterError) as info:
        validate_params(Thing())
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    assert str(info.value) == "size must be an int >= 1 or 'auto', got 0."


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_named_parameter_is_constrained(Estimator):
    named = set(inspect.signature(Estimator).parameters) - {"kwargs"}
    # device is checked where it is resolved (it depends on whether CUDA is here)
    assert named - {"device"} == set(Estimator._parameter_constraints)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_parameters_after_the_first_are_keyword_only(Estimator):
    with pytest.raises(TypeError, match="positional argument"):
        Estimator((8,), 0.5)
    kinds = [p.kind for p in inspect.signature(Estimator).parameters.values()]
    assert kinds[0] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert set(kinds[1:-1]) == {inspect.Parameter.KEYWORD_ONLY}


def real_parameters():
    """``(Estimator, name)``: ERM's real-valued parameters, and those each method adds.

    Read from the constraint tables of the registered estimators, so that a new
    method's parameters are checked without editing this list.
    """
    shared = set(ERMClassifier._parameter_constraints)
    return [pytest.param(Estimator, name, id=f"{Estimator.__name__}-{name}")
            for _, Estimator in all_estimators()
            for name, constraints in Estimator._parameter_constraints.items()
            if (Estimator is ERMClassifier or name not in shared)
            and any(isinstance(c, Interval) and c.kind is numbers.Real for c in constraints)]


@pytest.mark.parametrize("Estimator, name", real_parameters())
@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_estimators_refuse_non_finite_reals(Estimator, name, value, moons_uda):
    X, y, d = moons_uda
    with pytest.raises(ValueError, match=f"{name} must be a finite real number"):
        Estimator(**TINY, **{name: value}).fit(X, y, domains=d)


@pytest.mark.parametrize("make, match", [
    (lambda: SoftNeighborhoodDensityScorer(temperature=math.nan),
     "temperature must be a finite real number > 0, got nan"),
    (lambda: MixValScorer(ratio=0.5), r"ratio must be a finite real number in \(0.5, 1.0\)"),
    (lambda: MixValScorer(pairs="all"), "pairs must be 'both' or 'intra' or 'inter'"),
    (lambda: ImportanceWeightedScorer(cv=1), "cv must be an int >= 2, got 1"),
])
def test_scorers_check_their_parameters_when_called(make, match, moons_uda):
    X, y, d = moons_uda
    model = ERMClassifier(**TINY).fit(X, y, domains=d)
    with pytest.raises(ValueError, match=match):
        make()(model, X, y)


def test_numpy_booleans_are_booleans(moons_uda):
    # scikit-learn's "boolean" constraint accepts numpy's bool; so do ours
    X, y, d = moons_uda
    clf = ERMClassifier(**TINY, early_stopping=np.True_).fit(X, y, domains=d)
    assert "valid_loss" in clf.net_.history[-1]


def test_splitter_refuses_a_nan_test_size():
    cv = TrainingDomainValidation(test_size=math.nan)
    with pytest.raises(ValueError, match=r"test_size must be a finite real number in \(0, 1\)"):
        next(cv.split(np.zeros((4, 1)), groups=np.array([0, 0, 1, 1])))
