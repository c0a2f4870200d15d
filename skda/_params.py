"""Parameter constraints: each estimator declares its parameters' valid values once.

In the manner of scikit-learn's ``_parameter_constraints``: a class maps each
parameter name to a list of constraints, and :func:`validate_params` checks
them all in ``fit``, with one message format. Real-valued constraints refuse
NaN and infinity, so that a ``lr`` of ``nan`` is refused like a negative one.
"""

import math
import numbers

import numpy as np
from torch import nn


class InvalidParameterError(ValueError, TypeError):
    """A parameter outside its constraints (a ``ValueError`` and a ``TypeError``, as in sklearn).

    Both, so that callers catching either the value error of a bad number or
    the type error of a bad type see it.
    """


class Interval:
    """A finite number of type ``kind`` between ``low`` and ``high`` (None: unbounded).

    ``closed`` is ``"both"``, ``"left"``, ``"right"`` or ``"neither"``.
    Booleans are never numbers here.
    """

    def __init__(self, kind, low=None, high=None, closed="both"):
        self.kind = kind
        self.low = low
        self.high = high
        self.closed = closed

    def accepts(self, value):
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if not isinstance(value, numbers.Integral) and not math.isfinite(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and not (value >= self.low if left else value > self.low):
            return False
        return self.high is None or (value <= self.high if right else value < self.high)

    def __str__(self):
        kind = "an int" if self.kind is numbers.Integral else "a finite real number"
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            return (f"{kind} in {'[' if left else '('}{self.low}, {self.high}"
                    f"{']' if right else ')'}")
        if self.low is not None:
            return f"{kind} {'>=' if left else '>'} {self.low}"
        if self.high is not None:
            return f"{kind} {'<=' if right else '<'} {self.high}"
        return kind


class Options:
    """One of the strings ``options``."""

    def __init__(self, *options):
        self.options = options

    def accepts(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return " or ".join(repr(o) for o in self.options)


class Satisfies:
    """Whatever ``test(value)`` accepts; ``description`` names it in errors."""

    def __init__(self, test, description):
        self.test = test
        self.description = description

    def accepts(self, value):
        return bool(self.test(value))

    def __str__(self):
        return self.description


def _is_hidden_sizes(value):
    sizes = (value,) if isinstance(value, numbers.Integral) else value
    if isinstance(sizes, str):
        return False
    try:
        sizes = tuple(sizes)
    except TypeError:
        return False
    return all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
               for s in sizes)


def _is_module(value):
    from .modules.resnet import ARCHITECTURES

    return isinstance(value, nn.Module) or (
        isinstance(value, type) and issubclass(value, nn.Module)) or (
        isinstance(value, str) and value in ARCHITECTURES)


NONE = Satisfies(lambda v: v is None, "None")
# numpy's bool too, as scikit-learn's "boolean" constraint accepts it
BOOLEAN = Satisfies(lambda v: isinstance(v, (bool, np.bool_)), "a bool")
CALLABLE = Satisfies(callable, "a callable")
HIDDEN_SIZES = Satisfies(_is_hidden_sizes, "a tuple of positive ints")
MODULE = Satisfies(
    _is_module, "a torch.nn.Module subclass or instance, or 'resnet18', 'resnet34' or 'resnet50'")
LIST = Satisfies(lambda v: isinstance(v, (list, tuple)), "a list")
RANDOM_STATE = Satisfies(
    lambda v: (isinstance(v, numbers.Integral) and not isinstance(v, bool))
    or isinstance(v, np.random.RandomState),
    "an int or a numpy RandomState")


def has_methods(*names, description):
    """An object with every attribute in ``names`` (duck typing, e.g. an Accelerator)."""
    return Satisfies(lambda v: all(hasattr(v, n) for n in names), description)


def validate_params(obj):
    """Check every parameter of ``obj`` against ``type(obj)._parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        Naming the first parameter that no constraint of its list accepts,
        what it must be, and what it is.
    """
    for name, constraints in type(obj)._parameter_constraints.items():
        value = getattr(obj, name)
        if not any(c.accepts(value) for c in constraints):
            expected = " or ".join(str(c) for c in constraints)
            raise InvalidParameterError(f"{name} must be {expected}, got {value!r}.")


def hidden_sizes(value):
    """A valid ``hidden_layer_sizes`` value as a tuple (an int is one layer)."""
    return (value,) if isinstance(value, numbers.Integral) else tuple(value)
