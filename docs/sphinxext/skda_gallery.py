"""sphinx-gallery settings that must be importable by name (conf.py refers to them).

Sphinx caches its configuration by pickling it, so the gallery's callables
live here, not in conf.py.
"""

import atexit
import os
import shutil
import tempfile

#: the gallery's order: the quickstart first
ORDER = ["quickstart.py", "diagnostics.py", "site_bias.py", "images.py", "image_folder.py"]

_out = None


class ExampleOrder:
    """``within_subsection_order``: the files in ORDER first, in that order, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def reset_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` of every example: ``--out`` a temporary folder, removed at exit.

    sphinx-gallery captures the figures from matplotlib itself; the files an
    example saves go to this folder, never into docs/.
    """
    global _out
    if _out is None:
        _out = tempfile.mkdtemp(prefix="skda-gallery-")
        atexit.register(shutil.rmtree, _out, ignore_errors=True)
    return ["--out", _out]
