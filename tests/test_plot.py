"""Pictures render to files (skda.plot); matplotlib runs without a display."""

import matplotlib
import numpy as np
import pytest
from helpers import TINY
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier, ERMClassifier, SagNetClassifier
from skda.plot import plot_domain_scores, plot_embedding, plot_training_curves

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def fitted(moons_uda):
    X, y, d = moons_uda
    return {"ERM": ERMClassifier(**TINY).fit(X, y, domains=d),
            "DANN": DANNClassifier(**TINY).fit(X, y, domains=d)}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def saved_png(figure, path):
    figure.savefig(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
    return data


def test_domain_score_bars(fitted, moons, tmp_path):
    X, y, d, _ = moons
    ax = plot_domain_scores(fitted, X, y, d, metric="balanced_accuracy")
    assert len(ax.patches) == 2 * 2  # a bar per (model, domain)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("ERM (mean") and labels[1].startswith("DANN (mean")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["source", "target"]
    heights = [p.get_height() for p in ax.patches]
    assert all(0 <= h <= 1 for h in heights)
    saved_png(ax.figure, tmp_path / "bars.png")


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embedding_before_and_after(fitted, moons_uda, method, tmp_path):
    X, y, d = moons_uda
    fig = plot_embedding({"inputs": None, **fitted}, X, y, d, method=method,
                         max_points=120, random_state=0)
    assert len(fig.axes) == 3 * 2
    by_class = fig.axes[1]
    assert [t.get_text() for t in by_class.get_legend().get_texts()] == ["0", "1", "unlabeled"]
    assert sum(len(c.get_offsets()) for c in by_class.collections) == 120
    saved_png(fig, tmp_path / f"embedding_{method}.png")


def test_training_curves_show_losses_and_discriminator(fitted, tmp_path):
    fig = plot_training_curves(make_pipeline(StandardScaler(), fitted["DANN"]))
    losses, accuracy = fig.axes
    assert {line.get_label() for line in losses.lines} == {
        "train_loss", "train_label_loss", "train_domain_loss"}
    assert [line.get_label() for line in accuracy.lines] == ["train_domain_acc", "chance"]
    np.testing.assert_allclose(accuracy.lines[0].get_xdata(), [1, 2, 3])
    saved_png(fig, tmp_path / "curves.png")
    fig = plot_training_curves(fitted["ERM"], keys=["train_loss"])
    assert len(fig.axes) == 1


def test_sagnet_curves_and_image_embedding(digit_images, tmp_path):
    X, y, d = digit_images
    model = SagNetClassifier(max_epochs=2, batch_size=64, random_state=0).fit(X, y, domains=d)
    saved_png(plot_training_curves(model), tmp_path / "sagnet.png")
    saved_png(plot_embedding({"SagNet": model}, X, y, d, max_points=100, random_state=0),
              tmp_path / "digits.png")


def test_plots_reject_bad_input(fitted, moons):
    X, y, d, _ = moons
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_domain_scores([fitted["ERM"]], X, y, d)
    with pytest.raises(TypeError, match="not a fitted estimator"):
        plot_domain_scores({"x": "model"}, X, y, d)
    with pytest.raises(ValueError, match="method must be"):
        plot_embedding(fitted, X, y, d, method="umap")
    with pytest.raises(ValueError, match="same number of rows"):
        plot_embedding(fitted, X, y[:10], d)
    with pytest.raises(ValueError, match="keys must be among"):
        plot_training_curves(fitted["DANN"], keys=["valid_loss"])
    with pytest.raises(ValueError, match="no training history"):
        plot_training_curves(StandardScaler())
