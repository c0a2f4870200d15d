"""The documented examples run as written (the docs include them verbatim)."""

import runpy

from helpers import REPO

EXAMPLES = REPO / "examples"


def test_quickstart_grid_search(capsys):
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.count("held-out-domain accuracy") == 3
    assert "best: {'dannclassifier__lambda_':" in out


def test_images_example(capsys):
    runpy.run_path(str(EXAMPLES / "images.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "ERMClassifier: accuracy on the unseen 'gray' style" in out
    assert "SagNetClassifier: accuracy on the unseen 'gray' style" in out


def test_diagnostics_example_saves_its_pictures(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("sys.argv", ["diagnostics.py", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "diagnostics.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "ERM: accuracy {'source'" in out and out.count("proxy A-distance") == 3
    for name in ("domain_scores", "embedding", "training_curves"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
