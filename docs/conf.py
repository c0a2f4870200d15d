"""Sphinx configuration: ``python -m sphinx -b html docs docs/_build/html``.

The gallery (``examples/`` run by sphinx-gallery into ``docs/auto_examples/``)
runs every example at build time; ``-D plot_gallery=0`` skips running them.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("sphinxext"))

# The gallery runs its examples with one thread (torch's, and OpenMP's for t-SNE) unless
# OMP_NUM_THREADS says otherwise: with torch's default, a thread per core, they ran
# several times slower on a busy 2-core machine (see install.rst, "Threads").
os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch and scikit-learn load

import torch  # noqa: E402

import skda  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

project = "skda"
author = "the skda developers"
release = version = skda.__version__
# myst_parser: results.md, generated from benchmarks/results/*.md by benchmarks/run.py
extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc", "myst_parser",
              "sphinx_gallery.gen_gallery", "skda_registry"]
# the pages whose autosummaries get stubs: api.rst, and the estimator list that
# skda_registry writes from the registry for api.rst to include
autosummary_generate = ["api.rst", "_registry_estimators.rst"]
numpydoc_show_class_members = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "sphinxext", "_templates", "_registry_*.rst"]

html_theme = "pydata_sphinx_theme"
html_title = f"skda {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink", "sg_download_links",
                                "sg_launcher_links"],
}
html_show_sourcelink = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # run every example (the default runs only files named plot_*)
    "filename_pattern": r"\.py$",
    "within_subsection_order": "skda_gallery.ExampleOrder",
    # examples that save files write them into a temporary folder, never docs/
    "reset_argv": "skda_gallery.reset_argv",
    # "Examples using ..." on the API pages (see _templates/autosummary)
    "doc_module": ("skda",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    # the "sphinx_gallery_thumbnail_number = 2" comments are not shown
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 5,
}


def _plain_sklearn_refs(app, what, name, obj, options, lines):
    # Methods inherited from scikit-learn (score, set_output, set_fit_request, ...) keep
    # their docstrings, whose :ref: and :term: roles point into scikit-learn's own docs
    # and glossary; show their text instead.
    if not getattr(obj, "__module__", "").startswith("sklearn"):
        return
    import re

    def plain(line):
        line = re.sub(r":(?:ref|term):`([^<`]+?)\s*<[^>`]+>`", r"\1", line)
        line = re.sub(r":ref:`[^`]+`", "scikit-learn's documentation", line)  # a bare label
        return re.sub(r":term:`([^`]+)`", r"\1", line)

    lines[:] = [plain(line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_refs)
