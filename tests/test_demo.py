"""The README's main job runs and prints its per-domain table."""

from skda import demo


def test_demo_prints_per_domain_table(capsys):
    demo.main(["--seeds", "1", "--epochs", "3"])
    out = capsys.readouterr().out
    assert "| method | source accuracy | target accuracy |" in out
    assert "| ERM |" in out and "| DANN (lambda_=auto) |" in out
    assert "DANN (lambda_=auto) kept lambda_ = " in out
    assert "2 estimators fitted in" in out
    demo.main(["--seeds", "1", "--epochs", "3", "--lambda", "1"])
    out = capsys.readouterr().out
    assert "| DANN (lambda_=1) |" in out and "kept" not in out
