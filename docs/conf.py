"""Sphinx configuration: ``python -m sphinx -b html docs docs/_build/html``."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import skda  # noqa: E402

project = "skda"
author = "the skda developers"
release = version = skda.__version__
# myst_parser: results.md, generated from benchmarks/results/*.md by benchmarks/run.py
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc", "myst_parser"]
autosummary_generate = True
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
html_theme = "alabaster"


def _plain_sklearn_refs(app, what, name, obj, options, lines):
    # Methods inherited from scikit-learn (score, set_output, ...) keep their docstrings,
    # whose :ref: roles point into scikit-learn's own docs; show their text instead.
    if not getattr(obj, "__module__", "").startswith("sklearn"):
        return
    import re

    lines[:] = [re.sub(r":ref:`([^<`]+?)\s*<[^>`]+>`", r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_refs)
