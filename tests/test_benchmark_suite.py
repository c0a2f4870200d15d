"""The benchmark runner's pieces that need no benchmark run: commands and the docs page."""

import importlib.util
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


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
        assert command[-2] == "--out" and "--device" in command
        assert quick and quick != full, f"{name} has no quick settings"


def test_markdown_tables_become_rst(runner):
    text = ("Intro with `code` and lambda_ here.\n\n## Part\n\n| a | b |\n|---|---|\n"
            "| x_ | 1 ± 0 |\n")
    rst = runner.markdown_to_rst(text)
    assert "Intro with ``code`` and lambda\\_ here." in rst
    assert "Part\n~~~~" in rst  # "##" is the second level
    assert ".. list-table::" in rst and "   * - x\\_\n     - 1 ± 0" in rst


def test_docs_page_is_current(runner):
    # docs/results.rst is generated from benchmarks/results/: after rerunning a benchmark,
    # regenerate it with `python benchmarks/run.py --docs`
    committed = (BENCHMARKS.parent / "docs" / "results.rst").read_text()
    assert runner.docs_page() == committed
