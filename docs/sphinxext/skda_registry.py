"""Doc pieces generated from :func:`skda.utils.all_estimators`, so they cannot drift.

* ``_registry_estimators.rst``: the API page's estimator list, an autosummary
  written before autosummary scans for stubs (``api.rst`` includes it).
* ``.. skda-method-table::``: the table of methods on the methods page, one
  row an estimator, from each class's registry metadata.

A new estimator exported from ``skda.methods`` appears in both without an
edit to the docs.
"""

import os

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

#: the generated include, at the docs' root so that autosummary's ``:toctree:``
#: means the same folder whether it is read from here or from api.rst
ESTIMATOR_LIST = "_registry_estimators.rst"


def _estimators():
    """``(info, class)`` of every estimator: the baselines first, then the rest by name."""
    from skda.utils import all_estimators, estimator_info

    pairs = [(estimator_info(cls), cls) for _, cls in all_estimators()]
    return sorted(pairs, key=lambda pair: ("baseline" not in pair[0].settings, pair[0].name))


def write_estimator_list(app, config):
    lines = [".. currentmodule:: skda", "", ".. autosummary::", "   :toctree: generated",
             "   :template: autosummary/estimator.rst", "   :nosignatures:", ""]
    lines += [f"   {info.name}" for info, _ in _estimators()]
    text = "\n".join(lines) + "\n"
    path = os.path.join(app.srcdir, ESTIMATOR_LIST)
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:  # unchanged: no rebuild
                return
    with open(path, "w") as f:
        f.write(text)


def _needs(info, cls):
    from skda.methods.latent import LatentDomainsMixin

    if "baseline" in info.settings:
        return "labeled rows"
    if info.min_domains >= 2:
        latent = issubclass(cls, LatentDomainsMixin)
        return ("2+ domains (or ``latent_domains``); target rows may be unlabeled" if latent
                else "2+ domains; target rows may be unlabeled" if info.uses_unlabeled
                else "2+ labeled domains")
    if info.uses_unlabeled:
        return "labeled source rows and unlabeled target rows"
    return "labeled rows; domains optional"


def _strength(info):
    if info.strength_param is None:
        return "none (numbers only)"
    grid = ", ".join(f"{g:g}" for g in info.strength_grid)
    return f"``{info.strength_param}`` (default ``{info.strength_default!r}``): 0, {grid}"


class MethodTable(SphinxDirective):
    """``.. skda-method-table::``: estimator, what it is, settings, needs, strength."""

    def run(self):
        rows = [".. list-table::", "   :header-rows: 1", "",
                "   * - estimator", "     - what it is", "     - settings", "     - needs",
                "     - strength that ``\"auto\"`` searches"]
        for info, cls in _estimators():
            rows += [f"   * - :class:`~skda.{info.name}`",
                     f"     - {info.summary}",
                     f"     - {', '.join(info.settings)}",
                     f"     - {_needs(info, cls)}",
                     f"     - {_strength(info)}"]
        container = nodes.container()
        self.state.nested_parse(StringList(rows, source="skda-method-table"),
                                self.content_offset, container)
        return container.children


def setup(app):
    app.connect("config-inited", write_estimator_list)
    app.add_directive("skda-method-table", MethodTable)
    return {"parallel_read_safe": True}
