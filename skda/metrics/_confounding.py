"""Site-label confounding: how far the label depends on the site, and who reads the site.

When the classes were recorded at different sites (healthy subjects mostly
at site A, patients at B, C and D), a classifier can score well by reading
the site instead of the disease. :func:`confounding_report` measures the
three parts of that risk: how much the label depends on the site, how much
the features reveal the site within each class, and, for a fitted model,
how much its predictions lean on the site.
"""

import numbers
import textwrap
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing

from .._table import make_table
from .._validation import check_domains, encode_labels, unlabeled_mask

#: Cramér's V from which the dependence is called strong, moderate, weak (else negligible)
V_LEVELS = ((0.5, "strong"), (0.3, "moderate"), (0.1, "weak"))
#: a site probe this far above chance means the features reveal the site
PROBE_MARGIN = 0.10
#: raw minus class-balanced accuracy from which a model is said to lean on the site
GAP_THRESHOLD = 0.05
#: normalized prediction-site mutual information (within a class) called clear
MI_THRESHOLD = 0.10


class ConfoundingWarning(UserWarning):
    """Site and label cannot be told apart: some site holds a single class.

    Issued by :func:`confounding_report`. There, no method can separate the
    site's effect from the label's without a further assumption, so scores
    computed on such data cannot show whether a model reads the site.
    """


def _entropy(counts):
    """Shannon entropy (nats) of a distribution given by its counts."""
    counts = np.asarray(counts, dtype=np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log(p)))


def _cramers_v(table):
    """Cramér's V of a contingency table (no bias correction); 0 with one row or column."""
    table = np.asarray(table, dtype=np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n, k = table.sum(), min(table.shape)
    if k < 2 or n == 0:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = np.sum((table - expected) ** 2 / expected)
    return float(np.clip(np.sqrt(chi2 / (n * (k - 1))), 0.0, 1.0))


def _balanced_accuracy(y_true, y_pred):
    """Mean recall over the classes present in ``y_true``.

    The expected accuracy on a resample holding every present class equally
    often. Unlike scikit-learn's, it does not warn when ``y_pred`` holds a
    class absent from ``y_true`` (a single-class site, say).
    """
    correct = np.asarray(y_pred == y_true, dtype=bool)
    return float(np.mean([correct[y_true == c].mean() for c in np.unique(y_true)]))


def _names(values):
    return ", ".join(repr(_plain(v)) for v in values)


def _named(noun, values):
    """``site 'A'`` or ``sites 'A', 'B'``."""
    plural = {"class": "classes"}.get(noun, noun + "s")
    return f"{noun if len(values) == 1 else plural} {_names(values)}"


def _plain(value):
    """numpy scalars as Python ones, so that messages read ``'A'`` and not ``np.str_('A')``."""
    return value.item() if isinstance(value, np.generic) else value


def _level(v):
    return next((name for bound, name in V_LEVELS if v >= bound), "negligible")


@dataclass(repr=False, eq=False)
class ConfoundingReport:
    """What :func:`confounding_report` measured; ``summary()`` says it in words.

    Attributes
    ----------
    sites : ndarray
        Sorted sites (domains) that hold labeled rows.
    classes : ndarray
        Sorted classes among the labeled rows.
    counts : ndarray of shape (n_sites, n_classes)
        Labeled rows per site (rows) and class (columns).
    label_table : dict of ndarray or pandas.DataFrame
        One row per site: ``site``, ``n_labeled``, ``count_<class>`` and
        ``share_<class>`` for each class, and for two classes
        ``prevalence``, the share of ``classes[1]``.
    cramers_v : float
        Cramér's V between site and label, in [0, 1] (0: independent).
    mutual_information : float
        Mutual information between site and label, in nats.
    normalized_mutual_information : float
        ``mutual_information`` over the label's entropy: the share of the
        label's uncertainty that the site explains, in [0, 1].
    site_only_accuracy, site_only_balanced_accuracy : float
        Accuracy and balanced accuracy of predicting each row's label as
        its site's most common class (in-sample).
    majority_accuracy : float
        Accuracy of always predicting the most common class overall.
    site_probe : dict of ndarray or pandas.DataFrame
        One row per class: ``class``, ``n_rows`` and ``n_sites`` used by its
        probe, ``balanced_accuracy`` (cross-validated, NaN when undefined)
        and ``chance`` (``1 / n_sites``).
    estimator_scores : dict of ndarray or pandas.DataFrame or None
        With an estimator, one row per site: ``site``, ``n_samples``,
        ``accuracy``, ``balanced_accuracy`` and ``gap`` (accuracy minus
        balanced accuracy).
    estimator_accuracy, estimator_balanced_accuracy : float or None
        The estimator's accuracy and balanced accuracy on all labeled rows.
    prediction_site_mi : dict of ndarray or pandas.DataFrame or None
        With an estimator, one row per true class: ``class``, ``n_rows``,
        ``n_sites``, ``mutual_information`` (nats) between its predictions
        and the site among that class's rows, and
        ``normalized_mutual_information`` (over the site's entropy within
        the class, in [0, 1]); NaN for a class present in one site only.
    single_class_sites : list
        Sites whose labeled rows all hold one class.
    totally_confounded : bool
        Whether some site holds a single class (then a
        :class:`ConfoundingWarning` was issued).
    warnings : list of str
        Every warning issued, the :class:`ConfoundingWarning` first.
    """

    sites: np.ndarray
    classes: np.ndarray
    counts: np.ndarray
    label_table: object
    cramers_v: float
    mutual_information: float
    normalized_mutual_information: float
    site_only_accuracy: float
    site_only_balanced_accuracy: float
    majority_accuracy: float
    site_probe: object
    estimator_scores: object
    estimator_accuracy: object
    estimator_balanced_accuracy: object
    prediction_site_mi: object
    single_class_sites: list
    totally_confounded: bool
    warnings: list

    def summary(self):
        """The findings in plain words, one paragraph per part, thresholds stated.

        Returns
        -------
        text : str
        """
        n = int(self.counts.sum())
        n_sites = len(self.sites)
        lines = [f"Site-label confounding: {n} labeled rows, {n_sites} site"
                 f"{'s' if n_sites > 1 else ''}, {len(self.classes)} classes."]
        if self.totally_confounded:
            holds = "holds" if len(self.single_class_sites) == 1 else "hold"
            lines.append(
                f"TOTAL CONFOUNDING: {_named('site', self.single_class_sites)} {holds} a single "
                "class, so there site and label cannot be separated from these data; scores "
                "on them cannot show whether a model reads the site.")
        lines.append(
            f"Label vs site: the site explains {self.normalized_mutual_information:.0%} of the "
            f"label's uncertainty (mutual information {self.mutual_information:.3f} nats; "
            f"Cramér's V {self.cramers_v:.2f}: {_level(self.cramers_v)} dependence; V under "
            "0.1 is negligible, 0.1-0.3 weak, 0.3-0.5 moderate, 0.5 or more strong). "
            f"Guessing each site's most common class is right {self.site_only_accuracy:.2f} "
            f"of the time (balanced accuracy {self.site_only_balanced_accuracy:.2f}), against "
            f"{self.majority_accuracy:.2f} for always guessing the most common class.")
        lines.append(self._probe_text())
        if self.estimator_scores is not None:
            lines.append(self._estimator_text())
        if self.warnings:
            count = len(self.warnings)
            lines.append(f"{count} warning{'s' if count > 1 else ''}: see .warnings.")
        return "\n".join(textwrap.fill(line, width=88, subsequent_indent="  ")
                         for line in lines)

    def _probe_text(self):
        probe = self.site_probe
        ba, chance = (np.asarray(probe[k], dtype=float) for k in ("balanced_accuracy", "chance"))
        classes = np.asarray(probe["class"])
        parts = "; ".join(
            f"class {_plain(c)!r} undefined" if np.isnan(b)
            else f"class {_plain(c)!r} {b:.2f} (chance {h:.2f})"
            for c, b, h in zip(classes, ba, chance, strict=True))
        text = (f"Features vs site within each class (cross-validated balanced accuracy of a "
                f"probe predicting the site): {parts}. ")
        defined = ~np.isnan(ba)
        revealing = classes[defined & (ba >= chance + PROBE_MARGIN)]
        if not defined.any():
            return text + "No class is present in 2 sites or more, so this cannot be measured."
        if len(revealing):
            return text + (
                f"In {_named('class', revealing)} the features reveal the site ({PROBE_MARGIN:.2f}"
                " or more above chance): a model can read the site from them.")
        return text + (f"No probe is {PROBE_MARGIN:.2f} or more above chance: within a class "
                       "the features reveal little of the site (to this probe).")

    def _estimator_text(self):
        scores = self.estimator_scores
        n = np.asarray(scores["n_samples"], dtype=float)
        balanced = float(np.sum(n * np.asarray(scores["balanced_accuracy"], dtype=float))
                         / n.sum())
        raw = self.estimator_accuracy
        gap = raw - balanced
        text = (f"Model: accuracy {raw:.2f} on the raw sites, {balanced:.2f} on class-balanced "
                "sites (each site's balanced accuracy, weighted by its size; balanced accuracy "
                f"over all rows {self.estimator_balanced_accuracy:.2f}). ")
        if gap >= GAP_THRESHOLD:
            text += (f"It does better where it can bet on each site's most common class (gap "
                     f"{gap:.2f}, {GAP_THRESHOLD:.2f} or more): it leans on the site. ")
        elif gap <= -GAP_THRESHOLD:
            text += (f"It does worse on the raw sites than on class-balanced ones (gap {gap:.2f}): "
                     "it does not profit from each site's most common class. ")
        else:
            text += (f"Its accuracy barely changes when each site is class-balanced (gap {gap:.2f},"
                     f" within {GAP_THRESHOLD:.2f}). ")
        if self.totally_confounded:
            text += ("In a single-class site balanced accuracy equals accuracy, so the gap "
                     "cannot show site reading there. ")
        mi = self.prediction_site_mi
        nmi = np.asarray(mi["normalized_mutual_information"], dtype=float)
        classes = np.asarray(mi["class"])
        defined = ~np.isnan(nmi)
        if not defined.any():
            return text + "No class is present in 2 sites or more: prediction-site dependence " \
                          "within a class cannot be measured."
        parts = "; ".join(f"class {_plain(c)!r} {v:.2f}" for c, v in
                          zip(classes[defined], nmi[defined], strict=True))
        clear = classes[defined & (nmi >= MI_THRESHOLD)]
        text += (f"Within each true class, the share of the site's uncertainty its predictions "
                 f"reveal (normalized mutual information): {parts}. ")
        if len(clear):
            return text + (f"In {_named('class', clear)} ({MI_THRESHOLD:.2f} or more) its "
                           "predictions change with the site among rows of the same class.")
        return text + (f"Below {MI_THRESHOLD:.2f} in every class: within a class its predictions "
                       "hardly vary with the site.")

    def __repr__(self):
        return f"ConfoundingReport(\n{self.summary()}\n)"


def _check_X(X, n_samples):
    if not hasattr(X, "__len__") or isinstance(X, (str, bytes)):
        raise TypeError(f"X must be array-like with one row per sample, got {type(X).__name__}.")
    if len(X) != n_samples:
        raise ValueError(
            f"X and y must have the same number of rows, got {len(X)} and {n_samples}.")
    values = np.asarray(X)
    if values.ndim < 2:
        raise ValueError(
            "X must be 2-D (n_samples, n_features) or an image array (n, h, w) or "
            f"(n, c, h, w), got shape {values.shape}.")
    return values.reshape(len(values), -1)


def _check_cv(cv):
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
        raise ValueError(f"cv must be an int >= 2 (the number of folds), got {cv!r}.")
    return int(cv)


def _site_probe(X, site_codes, y_codes, sites, classes, probe, cv, random_state):
    """Cross-validated balanced accuracy of predicting the site within each class."""
    columns = {"class": list(classes), "n_rows": [], "n_sites": [], "balanced_accuracy": [],
               "chance": []}
    notes = []
    for k, label in enumerate(classes):
        rows = np.flatnonzero(y_codes == k)
        per_site = np.bincount(site_codes[rows], minlength=len(sites))
        kept = per_site >= 2
        dropped = (per_site == 1)
        if dropped.any():
            notes.append(
                f"Site probe for class {_plain(label)!r}: {_named('site', sites[dropped])} "
                f"{'holds' if dropped.sum() == 1 else 'hold'} only 1 row of this class, left "
                "out of its probe.")
        rows = rows[kept[site_codes[rows]]]
        if kept.sum() < 2:
            present = sites[kept]
            where = f"only in site {_names(present)}" if len(present) else "in no site"
            notes.append(
                f"Site probe for class {_plain(label)!r}: it has 2 rows or more {where}, so "
                "there is no site to tell apart within it; its probe balanced accuracy is NaN.")
            columns["n_rows"].append(len(rows))
            columns["n_sites"].append(int(kept.sum()))
            columns["balanced_accuracy"].append(np.nan)
            columns["chance"].append(np.nan)
            continue
        target = site_codes[rows]
        folds = StratifiedKFold(n_splits=min(cv, int(per_site[kept].min())), shuffle=True,
                                random_state=random_state)
        predicted = cross_val_predict(clone(probe), X[rows], target, cv=folds)
        columns["n_rows"].append(len(rows))
        columns["n_sites"].append(int(kept.sum()))
        columns["balanced_accuracy"].append(_balanced_accuracy(target, predicted))
        columns["chance"].append(1.0 / kept.sum())
    return columns, notes


def _estimator_scores(estimator, X, y, site_codes, y_codes, sites, classes):
    y_pred = np.asarray(estimator.predict(X))
    if y_pred.shape != y.shape:
        raise ValueError(
            f"estimator.predict returned shape {y_pred.shape} for {len(y)} labeled rows; "
            "expected one label per row.")
    correct = np.asarray(y_pred == y, dtype=bool)
    per_site = {"site": list(sites), "n_samples": [], "accuracy": [], "balanced_accuracy": [],
                "gap": []}
    for s in range(len(sites)):
        rows = site_codes == s
        accuracy = float(correct[rows].mean())
        balanced = float(np.mean([correct[rows & (y_codes == k)].mean()
                                  for k in np.unique(y_codes[rows])]))
        per_site["n_samples"].append(int(rows.sum()))
        per_site["accuracy"].append(accuracy)
        per_site["balanced_accuracy"].append(balanced)
        per_site["gap"].append(accuracy - balanced)
    per_class = {"class": list(classes), "n_rows": [], "n_sites": [], "mutual_information": [],
                 "normalized_mutual_information": []}
    for k in range(len(classes)):
        rows = y_codes == k
        site_counts = np.bincount(site_codes[rows], minlength=len(sites))
        n_sites = int(np.sum(site_counts > 0))
        per_class["n_rows"].append(int(rows.sum()))
        per_class["n_sites"].append(n_sites)
        if n_sites < 2:
            per_class["mutual_information"].append(np.nan)
            per_class["normalized_mutual_information"].append(np.nan)
            continue
        mi = max(float(mutual_info_score(site_codes[rows], y_pred[rows])), 0.0)
        per_class["mutual_information"].append(mi)
        per_class["normalized_mutual_information"].append(
            float(np.clip(mi / _entropy(site_counts), 0.0, 1.0)))
    overall = (float(correct.mean()),
               float(np.mean([correct[y_codes == k].mean() for k in range(len(classes))])))
    return per_site, per_class, overall


def confounding_report(X, y, domains, estimator=None, *, probe=None, cv=5, random_state=None,
                       as_frame=False):
    """Diagnose site-label confounding: whether a model could score by reading the site.

    Three measurements, on the labeled rows only (``y == -1`` marks an
    unlabeled row, left out everywhere):

    1. **The label depends on the site.** A per-site label table; Cramér's V
       between site and label (from the chi-squared statistic of the
       site-by-class table, without bias correction; 0 with one site); the
       mutual information between them (nats), also as the share of the
       label's entropy it explains; and the accuracy of predicting each row's
       label as its site's most common class, beside always predicting the
       most common class.
    2. **The features reveal the site within each class.** For each class, a
       probe is trained to predict the site from ``X`` among that class's
       rows (images are flattened) and scored by the balanced accuracy of
       its out-of-fold predictions (stratified k-fold on the site, ``k =
       min(cv, smallest site count in the class)``), beside chance ``1 /
       n_sites``. A site with a single row of the class is left out of that
       class's probe; a class left with fewer than 2 sites gets NaN. Both
       are said in a warning.
    3. **A fitted model leans on the site** (when ``estimator`` is given).
       Per site, its accuracy on the rows as they are and its balanced
       accuracy, which is its expected accuracy were the site
       class-balanced; a model that bets on each site's most common class
       loses accuracy there. Within each true class, the mutual information
       between its predictions and the site: 0 when, among rows of the same
       class, its predictions do not change with the site.

    When some site holds a single class, site and label are the same
    variable there: one :class:`ConfoundingWarning` is issued.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or image array
        Inputs, ``(n, h, w)`` and ``(n, c, h, w)`` images included. Passed
        unchanged to ``estimator.predict`` (labeled rows only).
    y : array-like of shape (n_samples,)
        Labels (ints or strings); ``-1`` for unlabeled rows.
    domains : array-like of shape (n_samples,)
        Site (domain) of each row.
    estimator : fitted classifier or None, default=None
        A model whose predictions are checked for leaning on the site.
    probe : classifier or None, default=None
        Site probe, cloned for each fold and class; ``None``:
        ``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))``.
        A more flexible probe finds more site information.
    cv : int, default=5
        Most folds of the site probe.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the probe's folds.
    as_frame : bool, default=False
        Tables as pandas DataFrames instead of dicts of arrays.

    Returns
    -------
    report : ConfoundingReport
        The numbers, tables and warnings; ``report.summary()`` reads them
        out.

    Warns
    -----
    ConfoundingWarning
        Once, when some site holds a single class among its labeled rows.
        There no method can separate the site from the label without a
        further assumption (e.g. that the site's features carry no class
        information, or labeled rows of the missing class from that site).
    UserWarning
        For each class whose site probe left a site out or is undefined.

    Examples
    --------
    Three sites whose share of patients (class 1) is 20%, 50% and 80%; the
    first feature carries the site, the second the disease:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skda.metrics import confounding_report
    >>> rng = np.random.RandomState(0)
    >>> domains = np.repeat(["A", "B", "C"], 100)
    >>> y = np.concatenate([rng.permutation(np.arange(100) < share)
    ...                     for share in (20, 50, 80)]).astype(int)
    >>> site = np.repeat([0.0, 1.0, 2.0], 100)
    >>> X = np.c_[site + rng.normal(scale=0.3, size=300), y + rng.normal(size=300)]
    >>> model = LogisticRegression().fit(X, y)
    >>> report = confounding_report(X, y, domains, model, random_state=0)
    >>> round(report.cramers_v, 2)
    0.49
    >>> report.site_only_accuracy, report.majority_accuracy
    (0.7, 0.5)
    >>> report.label_table["prevalence"]
    array([0.2, 0.5, 0.8])
    >>> report.site_probe["balanced_accuracy"].round(2)  # chance is 1/3
    array([0.89, 0.93])

    The model reads the site: it is more accurate on the sites as they are
    than it would be on class-balanced ones (site B is balanced already):

    >>> list(report.estimator_scores)
    ['site', 'n_samples', 'accuracy', 'balanced_accuracy', 'gap']
    >>> report.estimator_scores["gap"].round(2)
    array([0.25, 0.  , 0.21])
    >>> report.totally_confounded
    False
    >>> print(report.summary())
    Site-label confounding: 300 labeled rows, 3 sites, 2 classes.
    Label vs site: the site explains 19% of the label's uncertainty (mutual information
      0.128 nats; Cramér's V 0.49: moderate dependence; V under 0.1 is negligible, 0.1-0.3
      weak, 0.3-0.5 moderate, 0.5 or more strong). Guessing each site's most common class is
      right 0.70 of the time (balanced accuracy 0.70), against 0.50 for always guessing the
      most common class.
    Features vs site within each class (cross-validated balanced accuracy of a probe
      predicting the site): class 0 0.89 (chance 0.33); class 1 0.93 (chance 0.33). In
      classes 0, 1 the features reveal the site (0.10 or more above chance): a model can
      read the site from them.
    Model: accuracy 0.77 on the raw sites, 0.61 on class-balanced sites (each site's
      balanced accuracy, weighted by its size; balanced accuracy over all rows 0.77). It
      does better where it can bet on each site's most common class (gap 0.15, 0.05 or
      more): it leans on the site. Within each true class, the share of the site's
      uncertainty its predictions reveal (normalized mutual information): class 0 0.19;
      class 1 0.19. In classes 0, 1 (0.10 or more) its predictions change with the site
      among rows of the same class.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D with one label per row, got shape {y.shape}.")
    X_flat = _check_X(X, len(y))
    domains = check_domains(domains, len(y))
    cv = _check_cv(cv)
    if estimator is not None and not hasattr(estimator, "predict"):
        raise TypeError(f"estimator must be a fitted classifier with predict, got {estimator!r}.")
    if probe is None:
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    elif not hasattr(probe, "fit"):
        raise TypeError(f"probe must be a classifier with fit and predict, got {probe!r}.")
    labeled = ~unlabeled_mask(y)
    if not labeled.any():
        raise ValueError("y has no labeled rows (every entry is -1): nothing to diagnose.")
    try:
        present = np.unique(y[labeled])
    except TypeError as exc:
        raise TypeError(f"y mixes label types that cannot be sorted: {exc}") from None
    if len(present) < 2:
        raise ValueError(
            f"y holds a single class ({_plain(present[0])!r}) among its labeled rows: a label "
            "that does not vary cannot depend on the site.")
    classes, y_codes = encode_labels(y[labeled])
    try:
        sites, site_codes = np.unique(domains[labeled], return_inverse=True)
    except TypeError as exc:
        raise TypeError(f"domains mixes label types that cannot be sorted: {exc}") from None
    site_codes = site_codes.ravel()
    n = len(y_codes)

    counts = np.zeros((len(sites), len(classes)), dtype=np.int64)
    np.add.at(counts, (site_codes, y_codes), 1)
    n_site = counts.sum(axis=1)
    shares = counts / n_site[:, None]
    label_table = {"site": list(sites), "n_labeled": list(n_site)}
    for k, label in enumerate(classes):
        label_table[f"count_{label}"] = list(counts[:, k])
    for k, label in enumerate(classes):
        label_table[f"share_{label}"] = list(shares[:, k])
    if len(classes) == 2:
        label_table["prevalence"] = list(shares[:, 1])

    mi = max(float(mutual_info_score(site_codes, y_codes)), 0.0)
    h_label = _entropy(counts.sum(axis=0))
    site_majority = counts.argmax(axis=1)
    site_only_accuracy = float(counts.max(axis=1).sum() / n)
    site_only_balanced = _balanced_accuracy(y_codes, site_majority[site_codes])
    majority_accuracy = float(counts.sum(axis=0).max() / n)

    single = [_plain(s) for s, row in zip(sites, counts, strict=True)
              if np.count_nonzero(row) == 1]
    notes = []
    if single:
        held = "; ".join(
            f"{_plain(sites[s])!r}: all {n_site[s]} labeled rows are {_plain(classes[k])!r}"
            for s, k in enumerate(site_majority) if np.count_nonzero(counts[s]) == 1)
        notes.append(
            f"Total site-label confounding: {_named('site', single)} "
            f"{'holds' if len(single) == 1 else 'hold'} a single class "
            f"({held}). There the site and the label are the same variable, and no method can "
            "separate the site from the label without a further assumption (e.g. that the "
            "site's features carry no class information, or labeled data of the missing "
            "class(es) from that site). Scores computed on such data therefore cannot show "
            "whether a model reads the site rather than the label.")

    X_labeled = X_flat[labeled]
    probe_columns, probe_notes = _site_probe(X_labeled, site_codes, y_codes, sites, classes,
                                             probe, cv, random_state)
    estimator_scores = prediction_site_mi = accuracy = balanced_accuracy = None
    if estimator is not None:
        per_site, per_class, (accuracy, balanced_accuracy) = _estimator_scores(
            estimator, _safe_indexing(X, np.flatnonzero(labeled)), y[labeled], site_codes,
            y_codes, sites, classes)
        estimator_scores = make_table(per_site, as_frame)
        prediction_site_mi = make_table(per_class, as_frame)

    for note in notes:
        warnings.warn(note, ConfoundingWarning, stacklevel=2)
    for note in probe_notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return ConfoundingReport(
        sites=sites, classes=classes, counts=counts,
        label_table=make_table(label_table, as_frame),
        cramers_v=_cramers_v(counts),
        mutual_information=mi,
        normalized_mutual_information=float(np.clip(mi / h_label, 0.0, 1.0)),
        site_only_accuracy=site_only_accuracy,
        site_only_balanced_accuracy=site_only_balanced,
        majority_accuracy=majority_accuracy,
        site_probe=make_table(probe_columns, as_frame),
        estimator_scores=estimator_scores,
        estimator_accuracy=accuracy,
        estimator_balanced_accuracy=balanced_accuracy,
        prediction_site_mi=prediction_site_mi,
        single_class_sites=single,
        totally_confounded=bool(single),
        warnings=notes + probe_notes,
    )
