"""The documented examples run as written (the docs and the gallery include them verbatim).

Each runs in pytest's tmp_path as the current directory, so that whatever it
writes by default lands there and never in the repository, and with one torch
thread, as the docs build runs them (on a busy machine torch's default thread
count made them several times slower; docs/install.rst, "Threads").
"""

import re
import runpy

import matplotlib
import pytest
import torch
from helpers import REPO

matplotlib.use("Agg")  # before the examples import pyplot: no window
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = REPO / "examples"
PICTURES = ("domain_scores", "embedding", "training_curves")


@pytest.fixture(autouse=True)
def in_tmp_path(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["example.py"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tmp_path
    torch.set_num_threads(threads)
    plt.close("all")


def run(name):
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def test_quickstart_grid_search(capsys):
    run("quickstart.py")
    out = capsys.readouterr().out
    assert out.count("held-out-domain accuracy") == 3
    assert "best: {'dannclassifier__lambda_':" in out


def test_images_example(capsys):
    run("images.py")
    out = capsys.readouterr().out
    assert "ERMClassifier: accuracy on the unseen 'gray' style" in out
    assert "SagNetClassifier: accuracy on the unseen 'gray' style" in out


def test_diagnostics_example_saves_its_pictures_in_the_current_directory(capsys, tmp_path):
    run("diagnostics.py")
    out = capsys.readouterr().out
    assert "ERM: accuracy {'source'" in out and out.count("proxy A-distance") == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.png" for n in PICTURES)
    for name in PICTURES:
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
    # the gallery captures the figures from matplotlib: all three are still open
    assert len(plt.get_fignums()) == 3


def test_diagnostics_example_takes_an_output_folder(monkeypatch, tmp_path):
    # --out is read before anything is fitted: a file there stops the script at once
    (tmp_path / "taken").write_text("")
    monkeypatch.setattr("sys.argv", ["diagnostics.py", "--out", str(tmp_path / "taken")])
    with pytest.raises(FileExistsError):
        run("diagnostics.py")
    # and the gallery's notebook kernel passes arguments of its own: ignored
    monkeypatch.setattr("sys.argv", ["ipykernel_launcher.py", "-f", "kernel.json",
                                     "--out", str(tmp_path / "taken")])
    with pytest.raises(FileExistsError):
        run("diagnostics.py")


def test_examples_are_gallery_pages():
    """sphinx-gallery's format: a docstring whose first paragraph is an underlined title."""
    for path in sorted(EXAMPLES.glob("*.py")):
        title, underline = path.read_text().split('"""', 2)[1].strip().splitlines()[:2]
        assert set(underline) == {"="} and len(underline) >= len(title), path.name
    assert (EXAMPLES / "README.txt").read_text().startswith("Gallery of examples\n====")


def test_docs_include_existing_lines():
    """``literalinclude`` of an example starts at a line that is there."""
    found = 0
    for page in (REPO / "docs").glob("*.rst"):
        text = page.read_text()
        pattern = r"literalinclude:: \.\./examples/(\S+)\n(?:   :\S+:.*\n)*?   :start-at: (.+)"
        for name, start in re.findall(pattern, text):
            assert start in (EXAMPLES / name).read_text(), (page.name, name)
            found += 1
    assert found >= 2


def test_site_bias_example_diagnoses_and_removes_the_shortcut(capsys, tmp_path):
    run("site_bias.py")
    out = capsys.readouterr().out
    assert "it leans on the site" in out and "Total site-label confounding" in out
    scores = {line.split(":")[0]: float(line.rsplit(" ", 1)[1])
              for line in out.splitlines() if "class balance reversed" in line}
    assert scores["ERM, balanced per site"] > scores["ERM"] + 0.05, scores
    assert (tmp_path / "confounding.png").stat().st_size > 5000


def test_image_folder_example(capsys):
    run("image_folder.py")
    out = capsys.readouterr().out
    assert "1797 files in 6 domains" in out and "shape (1797, 3, 8, 8)" in out
    assert "DANN's strength: lambda_=" in out
    assert "ERM: accuracy on the unseen 'gray' style" in out
    assert "DANN: accuracy on the unseen 'gray' style" in out
