"""The benchmark runner's pieces that need no benchmark run: commands and the docs page."""

import importlib.util
import re
from itertools import pairwise

import pytest
from helpers import REPO

BENCHMARKS = REPO / "benchmarks"


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("benchmark_run", BENCHMARKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_suite_entry_is_a_script_and_quick_mode_is_smaller(runner):
    for name, (script, full, quick) in runner.SUITE.items():
        assert (BENCHMARKS / script).is_file(), name
        command = runner._command(name, True, "cpu", "/tmp/out")
        # every benchmark takes --out as the folder of its output files
        assert command[-2:] == ["--out", "/tmp/out"] and "--device" in command
        assert quick and quick != full, f"{name} has no quick settings"


def test_headings_shift_one_level_outside_code(runner):
    text = "Intro, lambda_ here.\n\n## Part\n\n### Sub\n\n```\n# a comment\n```\n#no heading\n"
    assert runner.shift_headings(text) == (
        "Intro, lambda_ here.\n\n### Part\n\n#### Sub\n\n```\n# a comment\n```\n"
        "#no heading\n")


def test_docs_page_headings_nest_and_images_resolve(runner):
    page = runner.docs_page()
    levels = [len(m) for m in re.findall(r"^(#+) ", page, flags=re.M)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in pairwise(levels)), "a heading level is skipped"
    docs = BENCHMARKS.parent / "docs"
    images = re.findall(r"^!\[[^\]]*\]\(([^)]+)\)$", page, flags=re.M)
    assert images and all((docs / image).is_file() for image in images)
    assert runner.FORMER_NOTE in page


def test_docs_page_is_current(runner):
    # docs/results.md is generated from benchmarks/results/: after rerunning a benchmark,
    # regenerate it with `python benchmarks/run.py --docs`
    committed = (BENCHMARKS.parent / "docs" / "results.md").read_text()
    assert runner.docs_page() == committed
