"""Pictures render to files (skda.plot); matplotlib runs without a display."""

import copy

import matplotlib
import numpy as np
import pytest
import torch
from helpers import TINY
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skda import DANNClassifier, ERMClassifier, SagNetClassifier
from skda.metrics import ConfoundingWarning, confounding_report
from skda.plot import plot_confounding, plot_domain_scores, plot_embedding, plot_training_curves

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks and maps: one thread (torch's, OpenMP's for t-SNE) is as fast, and far
    faster on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


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


def test_embedding_colours_unlabeled_rows_by_their_true_class(fitted, moons, tmp_path):
    X, y, d, target = moons
    y_train = np.where(target, -1, y)
    fig = plot_embedding(fitted, X, y_train, d, y_true=y, max_points=120, random_state=0)
    by_class = fig.axes[1]
    labels = [t.get_text() for t in by_class.get_legend().get_texts()]
    assert labels == ["0", "0, unlabeled (true class)", "1", "1, unlabeled (true class)"]
    groups = dict(zip(labels, by_class.collections, strict=True))
    # one colour per class, source or target; a cross marks the target (unlabeled) rows
    for value in ("0", "1"):
        dots, crosses = groups[value], groups[f"{value}, unlabeled (true class)"]
        np.testing.assert_allclose(dots.get_facecolor()[0][:3], crosses.get_edgecolor()[0][:3])
        assert dots.get_paths()[0] != crosses.get_paths()[0]
    assert sum(len(c.get_offsets()) for c in by_class.collections) == 120
    # the same rows as without y_true: the by-domain panel is unchanged
    plain = plot_embedding(fitted, X, y_train, d, max_points=120, random_state=0)
    np.testing.assert_allclose(np.vstack([c.get_offsets() for c in fig.axes[0].collections]),
                               np.vstack([c.get_offsets() for c in plain.axes[0].collections]))
    # the crosses are exactly the target rows shown, split by their true class
    shown_target = sum(len(groups[f"{v}, unlabeled (true class)"].get_offsets()) for v in "01")
    shown_grey = [t.get_text() for t in plain.axes[1].get_legend().get_texts()].index("unlabeled")
    assert shown_target == len(plain.axes[1].collections[shown_grey].get_offsets())
    saved_png(fig, tmp_path / "embedding_true.png")


def test_embedding_y_true_is_checked(fitted, moons):
    X, y, d, target = moons
    y_train = np.where(target, -1, y)
    with pytest.raises(ValueError, match="one label per row"):
        plot_embedding(fitted, X, y_train, d, y_true=y[:10])
    with pytest.raises(ValueError, match="agree with y on the labeled rows"):
        plot_embedding(fitted, X, y_train, d, y_true=1 - y)
    # an unlabeled row whose true class is unknown too stays grey
    y_partial = np.where(target & (np.arange(len(y)) % 2 == 0), -1, y)
    fig = plot_embedding(fitted, X, y_train, d, y_true=y_partial, max_points=400)
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels[-1] == "unlabeled" and "1, unlabeled (true class)" in labels


CHANCE = "chance on domain-balanced training batches (1/2)"


def test_training_curves_show_losses_and_discriminator(fitted, tmp_path):
    fig = plot_training_curves(make_pipeline(StandardScaler(), fitted["DANN"]))
    losses, accuracy = fig.axes
    assert {line.get_label() for line in losses.lines} == {
        "train_loss", "train_label_loss", "train_domain_loss"}
    assert [line.get_label() for line in accuracy.lines] == ["train_domain_acc", CHANCE]
    np.testing.assert_allclose(accuracy.lines[1].get_ydata(), [0.5, 0.5])
    assert CHANCE in [t.get_text() for t in accuracy.get_legend().get_texts()]
    np.testing.assert_allclose(accuracy.lines[0].get_xdata(), [1, 2, 3])
    saved_png(fig, tmp_path / "curves.png")
    fig = plot_training_curves(fitted["ERM"], keys=["train_loss"])
    assert len(fig.axes) == 1


def with_valid_loss(model, values):
    """A deep copy of ``model`` whose history has a ``valid_loss`` per epoch (given values)."""
    model = copy.deepcopy(model)
    for row, value in zip(model.net_.history, values, strict=True):
        row["valid_loss"] = value
    return model


def test_training_curves_show_the_validation_loss(fitted, tmp_path):
    erm = with_valid_loss(fitted["ERM"], [0.9, 0.7, 0.8])
    (losses,) = plot_training_curves(erm).axes
    lines = {line.get_label(): line for line in losses.lines}
    assert list(lines) == ["train_loss", "valid_loss"]
    np.testing.assert_allclose(lines["valid_loss"].get_ydata(), [0.9, 0.7, 0.8])
    np.testing.assert_allclose(lines["valid_loss"].get_xdata(), [1, 2, 3])
    assert lines["valid_loss"].get_color() == lines["train_loss"].get_color()
    assert lines["valid_loss"].get_linestyle() == "--"
    # DANN: beside the label loss, which is what valid_loss measures
    dann = with_valid_loss(fitted["DANN"], [0.9, 0.7, 0.8])
    losses, accuracy = plot_training_curves(dann).axes
    lines = {line.get_label(): line for line in losses.lines}
    assert set(lines) == {"train_loss", "train_label_loss", "valid_loss", "train_domain_loss"}
    order = list(lines)
    assert order.index("valid_loss") == order.index("train_label_loss") + 1
    assert lines["valid_loss"].get_color() == lines["train_label_loss"].get_color()
    assert [line.get_label() for line in accuracy.lines] == ["train_domain_acc", CHANCE]
    saved_png(losses.figure, tmp_path / "valid.png")
    # recorded through skorch's own history API too, and on some epochs only
    erm = copy.deepcopy(fitted["ERM"])
    erm.net_.history.record("valid_loss", 0.5)  # the last epoch
    (losses,) = plot_training_curves(erm).axes
    valid = next(line for line in losses.lines if line.get_label() == "valid_loss")
    np.testing.assert_allclose(valid.get_ydata(), [np.nan, np.nan, 0.5])
    # keys still choose exactly what is drawn
    (losses,) = plot_training_curves(erm, keys=["train_loss"]).axes
    assert [line.get_label() for line in losses.lines] == ["train_loss"]
    (losses,) = plot_training_curves(erm, keys=["valid_loss"]).axes
    assert [line.get_label() for line in losses.lines] == ["valid_loss"]


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


def sites_data(prevalences, n_per_site=60, random_state=0):
    """Sites of exact class-1 shares; column 0 carries the site, column 1 the class."""
    rng = np.random.RandomState(random_state)
    y = np.concatenate([rng.permutation(np.arange(n_per_site) < round(p * n_per_site))
                        for p in prevalences]).astype(int)
    index = np.repeat(np.arange(len(prevalences)), n_per_site)
    X = np.c_[index + rng.normal(scale=0.3, size=len(y)), y + rng.normal(size=len(y))]
    return X, y, np.array(list("ABCD"))[index]


def test_confounding_picture(tmp_path):
    X, y, d = sites_data([0.2, 0.5, 0.8])
    report = confounding_report(X, y, d, LogisticRegression().fit(X, y), random_state=0)
    fig = plot_confounding(report)
    labels, probe, model = fig.axes
    # stacked class shares: a bar per (class, site), class 1 on top of class 0
    assert len(labels.patches) == 2 * 3
    np.testing.assert_allclose([p.get_height() for p in labels.patches[3:]], [0.2, 0.5, 0.8])
    np.testing.assert_allclose([p.get_y() for p in labels.patches[3:]], [0.8, 0.5, 0.2])
    assert {"12", "48", "30"} <= {t.get_text() for t in labels.texts}  # the counts
    assert labels.get_title() == (f"label by site: Cramér's V {report.cramers_v:.2f}\n"
                                  "(bias-corrected; permutation p ≤ 0.001)")
    assert [t.get_text() for t in labels.get_xticklabels()] == ["A\n(n=60)", "B\n(n=60)",
                                                                "C\n(n=60)"]
    # site probe per class beside a dashed chance line
    np.testing.assert_allclose([p.get_height() for p in probe.patches],
                               report.site_probe["balanced_accuracy"])
    (chance,) = probe.collections
    assert chance.get_linestyle()[0][1] is not None  # dashed
    np.testing.assert_allclose([seg[:, 1] for seg in chance.get_segments()], 1 / 3)
    # raw vs class-balanced accuracy per site
    heights = [p.get_height() for p in model.patches]
    np.testing.assert_allclose(heights[:3], report.estimator_scores["accuracy"])
    np.testing.assert_allclose(heights[3:], report.estimator_scores["balanced_accuracy"])
    assert fig.texts == [] and fig.get_suptitle() == ""  # no confounding note
    saved_png(fig, tmp_path / "confounding.png")


def test_confounding_picture_says_when_site_and_label_cannot_be_separated(tmp_path):
    X, y, d = sites_data([0.0, 1.0, 0.5])
    with pytest.warns(ConfoundingWarning):
        report = confounding_report(X, y, d, random_state=0)
    fig = plot_confounding(report)
    assert len(fig.axes) == 2  # no model, no third panel
    (note,) = [t for t in fig.findobj(matplotlib.text.Text)
               if t.get_text() == fig.get_suptitle() != ""]
    assert note.get_text() == ("sites 'A', 'B' each hold one class: site and label cannot be "
                               "separated")
    assert matplotlib.colors.to_hex(note.get_color()) == "#ff0000"
    saved_png(fig, tmp_path / "total.png")
    # a class found in a single site has no probe: said on the bar
    X, y, d = sites_data([0.0, 0.5])
    with pytest.warns(UserWarning) as record:
        fig = plot_confounding(confounding_report(X, y, d, random_state=0))
    assert [w.category for w in record] == [ConfoundingWarning, UserWarning]
    assert "no site to tell apart" in str(record[1].message)
    assert "n/a" in fig.axes[1].texts[0].get_text()
    assert "site 'A' holds one class" in fig.get_suptitle()
    with pytest.raises(TypeError, match="ConfoundingReport"):
        plot_confounding({"cramers_v": 0.5})


def drawn_legibly(fig):
    """Draw with Agg; every title, axis label and the note lie inside the figure, and no two
    tick labels of a panel overlap. Returns the number of site labels drawn per panel."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = fig.bbox.padded(1)  # a pixel of rounding
    texts = [t for ax in fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label)]
    note = fig.get_suptitle()
    texts += [t for t in fig.findobj(matplotlib.text.Text) if note and t.get_text() == note]
    texts += fig.texts
    for text in texts:
        box = text.get_window_extent(renderer)
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, text.get_text()
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1, text.get_text()
    drawn = []
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
        drawn.append(len(boxes))
    return drawn


@pytest.mark.filterwarnings("ignore::UserWarning")  # the probe's notes on 1-row sites
def test_confounding_picture_of_100_sites_is_legible(tmp_path):
    # 100 sites of 3 rows, the label independent of the site
    rng = np.random.default_rng(0)
    d = np.repeat(np.arange(100), 3)
    y = rng.integers(0, 2, 300)
    X = rng.normal(size=(300, 4))
    report = confounding_report(X, y, d, LogisticRegression().fit(X, y), random_state=0)
    fig = plot_confounding(report)
    labels, probe, model = fig.axes
    assert len(labels.patches) == 2 * 100 and len(labels.texts) == 0  # no counts squeezed in
    sites_drawn, _, model_sites_drawn = drawn_legibly(fig)
    assert 10 <= sites_drawn == model_sites_drawn <= 40
    assert "1 in 3 labelled" in labels.get_xlabel()
    assert fig.get_suptitle() == ""  # single-class sites of 3 rows are chance
    saved_png(fig, tmp_path / "sites100.png")
    # 100 sites of 20 rows, each of one class: all named confounded, the note stays inside
    d = np.repeat([f"site{k:03d}" for k in range(100)], 20)
    y = np.repeat(np.arange(100) % 2, 20)
    with pytest.warns(ConfoundingWarning):
        report = confounding_report(rng.normal(size=(2000, 2)), y, d, random_state=0)
    fig = plot_confounding(report)
    drawn_legibly(fig)
    note = fig.get_suptitle()
    assert note.startswith("100 sites each hold one class ('site000', 'site001'")
    assert "and 94 more" in note and "\n" in note  # wrapped to the figure's width
