"""The estimator registry, and the places that must name every estimator it holds."""

import re

import pytest
from helpers import REPO

import skda
from skda.utils import SETTINGS, all_estimators, estimator_info

ESTIMATORS = all_estimators()


def test_the_registry_holds_every_public_estimator_once():
    public = {name for name in skda.__all__
              if isinstance(getattr(skda, name), type) and hasattr(getattr(skda, name), "fit")}
    assert [name for name, _ in ESTIMATORS] == sorted(public)
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


@pytest.mark.parametrize("page", ["README.md", "docs/api.rst", "docs/methods.rst"])
def test_the_docs_name_every_estimator(page):
    text = (REPO / page).read_text()
    missing = [name for name, _ in ESTIMATORS if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"{page} does not name {missing}"
