"""Pictures of domain shift: per-domain scores, feature embeddings, training curves, confounding.

- :func:`plot_domain_scores`: each model's score on each domain.
- :func:`plot_embedding`: 2-D maps of each model's features, by domain and by class.
- :func:`plot_training_curves`: per-epoch losses and accuracies.
- :func:`plot_confounding`: site-label confounding, from :func:`skda.metrics.confounding_report`.

Needs matplotlib (``pip install "skda[plot]"``). Each function draws on
matplotlib objects it creates (or on ``ax``/``fig`` when given) and returns
them, so the caller can save or restyle the picture.
"""

import textwrap

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from ._validation import check_domains, unlabeled_mask
from .metrics import ConfoundingReport, per_domain_scores

#: history columns that are bookkeeping, not curves
_NOT_CURVES = ("epoch", "dur", "train_batch_count", "valid_batch_count", "batches")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            'skda.plot needs matplotlib: pip install "skda[plot]"') from exc
    return plt


def _check_models(estimators, allow_none=False):
    if not isinstance(estimators, dict) or not estimators:
        raise TypeError(
            "estimators must be a non-empty dict {name: fitted estimator}, got "
            f"{type(estimators).__name__}.")
    for name, model in estimators.items():
        if model is None and allow_none:
            continue
        if not hasattr(model, "predict"):
            raise TypeError(f"estimators[{name!r}] is not a fitted estimator: {model!r}.")
    return estimators


def plot_domain_scores(estimators, X, y, domains, *, metric="accuracy", ax=None):
    """Bars of each estimator's score on each domain, side by side.

    Parameters
    ----------
    estimators : dict of str to fitted classifier
        The models to compare, e.g. ``{"ERM": erm, "DANN": dann}``.
    X : array-like of shape (n_samples, n_features) or image array
        Inputs of all domains.
    y : array-like of shape (n_samples,)
        True labels (rows with ``-1`` are left out).
    domains : array-like of shape (n_samples,)
        Domain label of each row.
    metric : {"accuracy", "balanced_accuracy", "roc_auc"}, default="accuracy"
        Score drawn, computed by :func:`skda.metrics.per_domain_scores`.
    ax : matplotlib Axes or None, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    _check_models(estimators)
    tables = {name: per_domain_scores(model, X, y, domains, metrics=[metric])
              for name, model in estimators.items()}
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.9 * len(np.unique(domains)), 3.2))
    names = next(iter(tables.values()))["domain"]
    positions = np.arange(len(names))
    width = 0.8 / len(tables)
    for k, (label, table) in enumerate(tables.items()):
        offset = (k - (len(tables) - 1) / 2) * width
        ax.bar(positions + offset, table[metric], width,
               label=f"{label} (mean {np.nanmean(table[metric]):.3f})")
    ax.set_xticks(positions, [str(n) for n in names])
    ax.set_xlabel("domain")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=min(len(tables), 3), frameon=False)
    return ax


def _embed(features, method, random_state):
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(features)
    from sklearn.manifold import TSNE

    perplexity = min(30.0, (len(features) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca",
                random_state=random_state).fit_transform(features)


def plot_embedding(estimators, X, y, domains, *, y_true=None, method="pca", max_points=1000,
                   random_state=None, fig=None):
    """2-D map of each model's features, coloured by domain and by class.

    One row per model: its ``transform(X)`` reduced to two dimensions,
    coloured by domain (left) and by class (right). Well-adapted features
    mix the domains while keeping the classes apart; compare a model without
    adaptation (ERM) with one with (the picture of the DANN paper, figure 2).

    Mixed domains alone do not show that the classes line up across them:
    a model can lay the target's class 0 on the source's class 1. Pass the
    true labels as ``y_true`` to see it: the unlabeled rows (``y == -1``,
    the target in unsupervised domain adaptation) are then coloured by
    their true class, drawn with a cross where labeled rows are dots.

    Parameters
    ----------
    estimators : dict of str to fitted estimator or None
        Models with ``transform``; ``None`` draws the raw inputs.
    X : array-like of shape (n_samples, n_features) or image array
        Inputs.
    y : array-like of shape (n_samples,)
        Labels as the models were trained with them: ``-1`` marks an
        unlabeled row, drawn grey as "unlabeled" unless ``y_true`` gives its
        class.
    domains : array-like of shape (n_samples,)
        Domain label of each row.
    y_true : array-like of shape (n_samples,) or None, default=None
        True labels of all rows, e.g. the target labels that were hidden
        from training. Used only to colour the unlabeled rows in the "by
        class" panel (a row that is ``-1`` here too stays grey); nothing is
        fitted on them: the models are already fitted and the 2-D reduction
        uses no labels. Must agree with ``y`` on the labeled rows.
    method : {"pca", "tsne"}, default="pca"
        Reduction to 2-D: PCA (fast, linear) or t-SNE (slower, local
        structure; each model's map is computed separately).
    max_points : int, default=1000
        At most this many rows, drawn at random, are shown.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsample and the reduction.
    fig : matplotlib Figure or None, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    fig : matplotlib Figure
    """
    plt = _pyplot()
    _check_models(estimators, allow_none=True)
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}.")
    if not isinstance(max_points, (int, np.integer)) or max_points < 3:
        raise ValueError(f"max_points must be an int >= 3, got {max_points!r}.")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)}.")
    unlabeled = unlabeled_mask(y)
    if y_true is not None:
        y_true = np.asarray(y_true)
        if y_true.shape != y.shape:
            raise ValueError(
                f"y_true must hold one label per row of X, like y: got shape {y_true.shape} "
                f"for {len(y)} rows.")
        if np.any(y_true[~unlabeled] != y[~unlabeled]):
            raise ValueError(
                "y_true must agree with y on the labeled rows (y != -1); it only adds the "
                "true class of the unlabeled ones.")
    domains = check_domains(domains, len(X))
    rng = check_random_state(random_state)
    rows = np.sort(rng.permutation(len(y))[:max_points])
    X_shown = np.asarray(X)[rows]
    y, domains, unlabeled = y[rows], domains[rows], unlabeled[rows]
    # the class each point is coloured by; unknown (grey) where neither y nor y_true has one
    shown_class = y if y_true is None else np.where(unlabeled, y_true[rows], y)
    unknown = unlabeled_mask(shown_class) if y_true is not None else unlabeled
    classes = np.unique(shown_class[~unknown])
    if fig is None:
        fig = plt.figure(figsize=(8, 3.4 * len(estimators)))
    axes = fig.subplots(len(estimators), 2, squeeze=False)
    seed = rng.randint(2**31 - 1)
    for (name, model), (by_domain, by_class) in zip(estimators.items(), axes, strict=True):
        features = (np.asarray(X_shown, dtype=np.float64) if model is None
                    else model.transform(X_shown))
        points = _embed(np.reshape(features, (len(rows), -1)), method, seed)
        for value in np.unique(domains):
            shown = domains == value
            by_domain.scatter(*points[shown].T, s=8, alpha=0.7, label=str(value))
        for k, value in enumerate(classes):
            color = f"C{k % 10}"
            is_class = (shown_class == value) & ~unknown
            by_class.scatter(*points[is_class & ~unlabeled].T, s=8, alpha=0.7, color=color,
                             label=str(value))
            if y_true is not None and (is_class & unlabeled).any():
                by_class.scatter(*points[is_class & unlabeled].T, s=14, alpha=0.7,
                                 color=color, marker="x", linewidths=0.8,
                                 label=f"{value}, unlabeled (true class)")
        if unknown.any():
            by_class.scatter(*points[unknown].T, s=8, alpha=0.4, color="0.6",
                             label="unlabeled")
        title = "inputs" if model is None else name
        by_domain.set_title(f"{title}: by domain", fontsize="medium")
        by_class.set_title(f"{title}: by class", fontsize="medium")
        for ax in (by_domain, by_class):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.legend(fontsize="x-small", markerscale=1.5)
    fig.tight_layout()
    return fig


def _history(estimator):
    model = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    net = getattr(model, "net_", None)
    if net is None:
        raise ValueError(
            f"{type(model).__name__} has no training history: pass a fitted skda estimator "
            "(or a Pipeline ending in one).")
    return net.history, len(getattr(model, "domains_", ()))


def _curve_columns(history):
    """Numeric per-epoch columns of a skorch history, in the order they first appear."""
    columns = []
    for row in history:
        for key, value in row.items():
            if (key not in columns and key not in _NOT_CURVES and not key.endswith("_best")
                    and isinstance(value, (int, float, np.floating))
                    and not isinstance(value, bool)):
                columns.append(key)
    return columns


def plot_training_curves(estimator, *, keys=None, fig=None):
    """Per-epoch training curves from the skorch history of a fitted estimator.

    Losses on the left: ``train_loss`` and the method's parts (e.g. DANN's
    ``train_label_loss`` and ``train_domain_loss``), and ``valid_loss``
    whenever the history has it (the label loss on a held-out validation
    slice, recorded when the fit holds one out, as early stopping does),
    dashed in the colour of the training curve it compares with:
    ``train_label_loss`` where the method records one (DANN's ``train_loss``
    also holds the domain loss), else ``train_loss``.

    Accuracies on the right: ``train_domain_acc`` is DANN's discriminator
    accuracy, with a dotted line at ``1 / n_domains``, the chance level of a
    discriminator on domain-balanced training batches (each holds an equal
    share of every domain). The discriminator is measured on the batches it
    trains on, while it trains against the features: a curve near chance
    means the features fool it, but it can sit well above chance while a
    fresh probe, e.g. :func:`skda.metrics.proxy_a_distance` (a classifier
    fitted on half of the final features and scored on the other half),
    finds the domains aligned. The two measure different things: how the
    adversarial game went, and how separable the final features are.

    Parameters
    ----------
    estimator : fitted skda estimator or Pipeline ending in one
        Its ``net_.history`` is drawn.
    keys : list of str or None, default=None
        History columns to draw; ``None``: every numeric per-epoch column
        (``valid_loss`` included when recorded).
    fig : matplotlib Figure or None, default=None
        Where to draw; ``None`` makes a new figure.

    Returns
    -------
    fig : matplotlib Figure
    """
    plt = _pyplot()
    history, n_domains = _history(estimator)
    available = _curve_columns(history)
    if keys is None:
        keys = available
    missing = [k for k in keys if k not in available]
    if missing or not keys:
        raise ValueError(f"keys must be among the history's columns {available}, got {keys}.")
    epochs = np.array([row.get("epoch", np.nan) for row in history], dtype=float)
    accuracies = [k for k in keys if k.endswith("_acc")]
    losses = [k for k in keys if k not in accuracies]
    # valid_loss is drawn right after the training curve it compares with, in its colour
    partner = next((k for k in ("train_label_loss", "train_loss") if k in losses), None)
    if "valid_loss" in losses and partner is not None:
        losses.remove("valid_loss")
        losses.insert(losses.index(partner) + 1, "valid_loss")
    if fig is None:
        fig = plt.figure(figsize=(4 + 4 * bool(accuracies and losses), 3.2))
    panels = [(label, group) for label, group in (("loss", losses), ("accuracy", accuracies))
              if group]
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, group) in zip(axes, panels, strict=True):
        for key in group:
            values = np.array([row.get(key, np.nan) for row in history], dtype=float)
            if key == "valid_loss" and partner in group:
                color = next(line.get_color() for line in ax.lines
                             if line.get_label() == partner)
                ax.plot(epochs, values, label=key, color=color, linestyle="--")
            else:
                ax.plot(epochs, values, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        if label == "accuracy" and n_domains > 1:
            ax.axhline(1 / n_domains, color="0.5", linestyle=":",
                       label=f"chance on domain-balanced training batches (1/{n_domains})")
        ax.legend(fontsize="x-small" if label == "accuracy" else "small")
    fig.tight_layout()
    return fig


def _column(table, name):
    return np.asarray(table[name], dtype=float)


#: inches a site panel takes at least and at most, and per site in between
_SITE_PANEL_WIDTH = (4.2, 9.0, 0.3)
#: notes on the figure name this many sites at most; the rest are counted
_MAX_SITES_NAMED = 6


def _site_panel_width(n_sites):
    """Width (inches) of a panel with a bar per site: wider with more sites, up to a cap."""
    least, most, per_site = _SITE_PANEL_WIDTH
    return float(np.clip(1.2 + per_site * n_sites, least, most))


def _label_sites(ax, positions, sites, n_site, width, with_sizes=True):
    """Site tick labels that do not overprint, for 3 sites or 300.

    Estimated from the panel width rather than measured, so that drawing
    happens once: about 3/4 of a panel is axes, a character of a 10-point
    label is about 0.08 inch wide and a rotated 7-point label about 0.14
    inch apart. Wide enough: every site with its size, as written. Else:
    names only, turned upright, every ``step``-th site labelled, and the
    axis label says so.
    """
    spacing = 0.75 * width / len(sites)
    full = [f"{s}\n(n={n})" if with_sizes else s for s, n in zip(sites, n_site, strict=True)]
    if spacing >= 0.08 * max(len(line) for label in full for line in label.split("\n")) + 0.1:
        ax.set_xticks(positions, full)
        ax.set_xlabel("site")
        return
    step = int(np.ceil(0.14 / spacing))
    shown = positions[::step]
    names = [s if len(s) <= 12 else s[:11] + "…" for s in np.asarray(sites)[::step]]
    ax.set_xticks(shown, names, rotation=90, fontsize="x-small")
    every = "" if step == 1 else f"1 in {step} labelled; "
    ax.set_xlabel(f"site ({every}{len(sites)} sites, sizes in report.label_table)")


def _confounding_note(sites, width):
    """The red note over the figure, wrapped to its width (12-point bold: about 0.1 inch a
    character), naming a few sites and counting the rest."""
    named = ", ".join(repr(site) for site in sites[:_MAX_SITES_NAMED])
    if len(sites) == 1:
        text = f"site {named} holds one class: site and label cannot be separated"
    elif len(sites) <= _MAX_SITES_NAMED:
        text = f"sites {named} each hold one class: site and label cannot be separated"
    else:
        text = (f"{len(sites)} sites each hold one class ({named} and "
                f"{len(sites) - _MAX_SITES_NAMED} more; report.confounded_sites): site and "
                "label cannot be separated")
    return textwrap.fill(text, width=max(30, int(width * 9)))


def plot_confounding(report, *, fig=None):
    """One picture of site-label confounding, from :func:`skda.metrics.confounding_report`.

    Left: each site's class shares as stacked bars, labelled with the
    counts, titled with the bias-corrected Cramér's V between site and label
    (0: the label does not depend on the site, 1: the site gives the label)
    and the p-value of the permutation test. Middle: for each class, the
    balanced accuracy of the site probe (how well the features tell the
    sites apart among rows of that class), with chance, ``1 / n_sites``,
    dashed. Right, only when the report holds a model's scores: per site,
    its accuracy on the rows as they are beside its balanced accuracy (its
    accuracy were the site class-balanced); a model that bets on each
    site's most common class is higher on the first.

    When some site holds a single class that chance alone would make
    unlikely (``report.confounded_sites``), a red note across the top says
    that site and label cannot be separated there.

    Many sites stay legible: the per-site panels widen with the number of
    sites (up to 9 inches each), and when their labels would overprint the
    counts inside the bars are left out (they are in
    ``report.label_table``) and only every few sites are labelled, upright.
    The figure uses matplotlib's constrained layout, so the titles and the
    note stay inside it.

    Parameters
    ----------
    report : ConfoundingReport
        What :func:`skda.metrics.confounding_report` returned.
    fig : matplotlib Figure or None, default=None
        Where to draw; ``None`` makes a new figure, sized to the number of
        sites. A given figure is switched to constrained layout.

    Returns
    -------
    fig : matplotlib Figure
        Its panels are ``fig.axes``, in the order above.
    """
    plt = _pyplot()
    if not isinstance(report, ConfoundingReport):
        raise TypeError(
            "report must be the ConfoundingReport that skda.metrics.confounding_report "
            f"returns, got {type(report).__name__}.")
    with_model = report.estimator_scores is not None
    sites = [str(site) for site in report.sites]
    site_width = _site_panel_width(len(sites))
    widths = [site_width, 4.2, site_width][:3 if with_model else 2]
    if fig is None:
        fig = plt.figure(figsize=(sum(widths), 3.8 if site_width < 9 else 4.4),
                         layout="constrained")
    else:
        fig.set_layout_engine("constrained")
    axes = fig.subplots(1, len(widths), squeeze=False, width_ratios=widths)[0]
    positions = np.arange(len(sites))

    labels_ax = axes[0]
    n_site = report.counts.sum(axis=1)
    shares = report.counts / n_site[:, None]
    # the counts fit inside the bars while a bar is wider than its longest count
    spacing = 0.75 * site_width / len(sites)
    with_counts = spacing >= 0.07 * len(str(report.counts.max())) + 0.1
    bottom = np.zeros(len(sites))
    for k, label in enumerate(report.classes):
        bars = labels_ax.bar(positions, shares[:, k], 0.7, bottom=bottom, label=str(label))
        if with_counts:
            labels_ax.bar_label(bars, labels=[str(c) if c else "" for c in report.counts[:, k]],
                                label_type="center", fontsize="x-small")
        bottom += shares[:, k]
    _label_sites(labels_ax, positions, sites, n_site, site_width)
    labels_ax.set_ylim(0, 1)
    labels_ax.set_ylabel("share of the site's labeled rows")
    p, floor = report.site_label_p_value, 1 / (report.n_permutations + 1)
    labels_ax.set_title(
        f"label by site: Cramér's V {report.cramers_v:.2f}\n(bias-corrected; permutation "
        f"p {'≤' if p <= floor * (1 + 1e-9) else '='} {p:.3f})", fontsize="medium")
    labels_ax.legend(title="class", fontsize="x-small", title_fontsize="x-small",
                     loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)

    probe_ax = axes[1]
    probe = report.site_probe
    classes = [str(c) for c in np.asarray(probe["class"])]
    accuracy, chance = _column(probe, "balanced_accuracy"), _column(probe, "chance")
    spots = np.arange(len(classes))
    probe_ax.bar(spots, np.nan_to_num(accuracy), 0.6, color="C2",
                 label="site probe (cross-validated)")
    for spot, value in zip(spots, accuracy, strict=True):
        if np.isnan(value):
            probe_ax.text(spot, 0.02, "n/a: fewer than\n2 sites", ha="center", va="bottom",
                          fontsize="x-small")
    defined = ~np.isnan(chance)
    probe_ax.hlines(chance[defined], spots[defined] - 0.4, spots[defined] + 0.4,
                    colors="0.2", linestyles="--", label="chance (1 / sites)")
    probe_ax.set_xticks(spots, classes)
    probe_ax.set_xlim(-0.6, len(classes) - 0.4)
    probe_ax.set_ylim(0, 1.3)  # room for the legend above the bars
    probe_ax.set_yticks(np.linspace(0, 1, 6))
    probe_ax.set_xlabel("class")
    probe_ax.set_ylabel("balanced accuracy of predicting the site")
    probe_ax.set_title("do the features reveal the site\nwithin a class?", fontsize="medium")
    probe_ax.legend(fontsize="x-small", loc="upper center", ncol=2)

    if with_model:
        model_ax = axes[2]
        scores = report.estimator_scores
        model_ax.bar(positions - 0.2, _column(scores, "accuracy"), 0.4, label="accuracy (raw)")
        model_ax.bar(positions + 0.2, _column(scores, "balanced_accuracy"), 0.4,
                     label="balanced accuracy (class-balanced)")
        _label_sites(model_ax, positions, sites, n_site, site_width, with_sizes=False)
        model_ax.set_ylim(0, 1.3)
        model_ax.set_yticks(np.linspace(0, 1, 6))
        model_ax.set_ylabel("model score")
        model_ax.set_title("does the model lean on the site?", fontsize="medium")
        model_ax.legend(fontsize="x-small", loc="upper center", ncol=2)

    if report.totally_confounded:
        fig.suptitle(_confounding_note(report.confounded_sites, fig.get_figwidth()),
                     color="red", fontsize="large", fontweight="bold")
    return fig
