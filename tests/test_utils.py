"""The estimator registry, and the lists generated from it."""

import importlib
import inspect
import pkgutil
import sys

import pytest
from helpers import REPO

import skda
from skda.utils import SETTINGS, all_estimators, estimator_info

ESTIMATORS = all_estimators()


def _defined_estimators():
    """The estimator classes defined in skda.methods' modules, less the shared bases."""
    from skda.methods.base import DomainClassifier, DomainRegressor

    found = set()
    for module in pkgutil.iter_modules(skda.methods.__path__):
        module = importlib.import_module(f"skda.methods.{module.name}")
        found |= {obj for name, obj in vars(module).items()
                  if inspect.isclass(obj) and obj.__module__ == module.__name__
                  and issubclass(obj, (DomainClassifier, DomainRegressor))
                  and not name.startswith("_")}
    # an estimator names itself for the tables; a shared base (DomainClassifier, DDAIG's and
    # L2A-OT's GeneratingClassifier) does not, and is subclassed
    named = {cls for cls in found if "_display_name" in vars(cls)}
    leaves = {cls for cls in found if not any(o is not cls and issubclass(o, cls) for o in found)}
    return {cls.__name__ for cls in named | leaves}


def test_the_registry_holds_every_estimator_defined():
    # an estimator written but not exported from skda.methods would miss every generated list
    assert {name for name, _ in ESTIMATORS} == _defined_estimators()
    assert [name for name, _ in ESTIMATORS] == sorted(
        name for name in skda.__all__ if name in dict(ESTIMATORS))
    classifiers = [name for name, _ in all_estimators("classifier")]
    regressors = [name for name, _ in all_estimators(["regressor"])]
    assert regressors == ["DANNRegressor", "ERMRegressor"]
    assert sorted(classifiers + regressors) == [name for name, _ in ESTIMATORS]


def test_type_filter_is_checked():
    with pytest.raises(ValueError, match="type_filter must be"):
        all_estimators("transformer")


@pytest.mark.parametrize("name, Estimator", ESTIMATORS)
def test_every_estimator_declares_what_it_is(name, Estimator):
    info = estimator_info(Estimator)
    assert info.name == name and info.display_name
    assert info.settings and set(info.settings) <= set(SETTINGS)
    if info.strength_param is not None:
        assert info.strength_param in Estimator().get_params()
        assert info.strength_grid and all(g > 0 for g in info.strength_grid)
        # "auto" is accepted wherever a strength is declared
        assert Estimator().set_params(**{info.strength_param: "auto"})
    assert estimator_info(Estimator()) == info  # an instance reads the same


def test_the_docs_tables_come_from_the_registry():
    # the API list and the methods table are generated (docs/sphinxext/skda_registry.py)
    pytest.importorskip("sphinx", reason="the docs extension needs the [docs] extra")
    sys.path.insert(0, str(REPO / "docs" / "sphinxext"))
    try:
        import skda_registry
    finally:
        sys.path.pop(0)
    assert [info.name for info, _ in skda_registry._estimators()] == sorted(
        (name for name, _ in ESTIMATORS), key=lambda n: (not n.startswith("ERM"), n))
    assert skda_registry.ESTIMATOR_LIST in (REPO / "docs" / "api.rst").read_text()
    assert ".. skda-method-table::" in (REPO / "docs" / "methods.rst").read_text()
    for _, Estimator in ESTIMATORS:  # the table's cells
        info = estimator_info(Estimator)
        assert skda_registry._needs(info, Estimator) and skda_registry._strength(info)


def test_the_benchmarks_name_each_method_as_the_registry_does():
    # their saved records and tables use these names: one name per method everywhere
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import digits_lodo
        import mnist_usps
    finally:
        sys.path.pop(0)
    display = {name: estimator_info(cls).display_name for name, cls in ESTIMATORS}
    plain = {key: cls_name for key, (cls_name, params) in digits_lodo.METHODS.items()
             if not params}  # the variants ("ERM + MixStyle") name their settings
    assert all(key == display[cls_name] for key, cls_name in plain.items())
    assert all(key == display[cls.__name__] for key, cls in mnist_usps.METHODS.items())
