"""Site-label confounding: how far the label depends on the site, and who reads the site.

When the classes were recorded at different sites (healthy subjects mostly
at site A, patients at B, C and D), a classifier can score well by reading
the site instead of the disease. :func:`confounding_report` measures the
three parts of that risk: how much the label depends on the site, how much
the features reveal the site within each class, and, for a fitted model,
how much its predictions lean on the site.

Small sites make a label look dependent on the site by chance alone (a site
of 3 rows holds a single class a quarter of the time with two balanced
classes), so each dependence measure is set beside what independence gives
with the same site sizes: Cramér's V with Bergsma's (2013) bias correction,
a permutation test, chance baselines from the same permutations, and the
probability that a single-class site holds one class by chance.
"""

import numbers
import textwrap
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, xlogy
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing, check_random_state

from .._table import make_table
from .._validation import check_domains, encode_labels, unlabeled_mask

#: Cramér's V from which the dependence is called strong, moderate, weak (else negligible)
V_LEVELS = ((0.5, "strong"), (0.3, "moderate"), (0.1, "weak"))
#: a chance probability under this is evidence against independence of site and label: the
#: permutation p-value, and a single-class site's probability times the number of sites
SIGNIFICANCE = 0.05
#: sites named in a message at most; the rest are counted
MAX_NAMED = 10
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


def _cramers_v(table, corrected=True):
    """Cramér's V of a contingency table; 0 with one row or column.

    ``corrected``: Bergsma's (2013) bias correction. The squared V of an
    r x k table, ``chi2 / n / (min(r, k) - 1)``, averages about ``(r - 1) *
    (k - 1) / (n - 1)`` over ``min(r, k) - 1`` under independence, which is
    large for many small sites; the correction subtracts that from ``chi2 /
    n`` (floored at 0) and shrinks r and k to match (W. Bergsma, "A
    bias-correction for Cramér's V and Tschuprow's T", Journal of the Korean
    Statistical Society 42, 2013).
    """
    table = np.asarray(table, dtype=np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n, (r, k) = table.sum(), table.shape
    if min(r, k) < 2 or n < 2:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    phi2 = np.sum((table - expected) ** 2 / expected) / n
    if not corrected:
        return float(np.clip(np.sqrt(phi2 / (min(r, k) - 1)), 0.0, 1.0))
    phi2 = max(phi2 - (r - 1) * (k - 1) / (n - 1), 0.0)
    scale = min(r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)) - 1
    if scale <= 0:  # as many cells as rows (n = 2): nothing is left to measure
        return 0.0
    return float(np.clip(np.sqrt(phi2 / scale), 0.0, 1.0))


def _table_statistics(tables, n_site, n_class):
    """Chi-squared, mutual information (nats) and site-majority hits of site x class tables.

    ``tables`` has shape (..., n_sites, n_classes); every one has the margins
    ``n_site`` and ``n_class``, so the expected counts are shared.
    """
    tables = np.asarray(tables, dtype=np.float64)
    n = n_site.sum()
    expected = np.outer(n_site, n_class) / n
    chi2 = np.sum(tables**2 / expected, axis=(-2, -1)) - n
    mi = np.sum(xlogy(tables, tables / expected), axis=(-2, -1)) / n
    hits = tables.max(axis=-1).sum(axis=-1)
    return chi2, mi, hits


def _permutation_null(site_codes, y_codes, counts, n_permutations, rng):
    """:func:`_table_statistics` of the tables given by shuffling the label across rows.

    Shuffling keeps every site's size and every class's count, and breaks
    any tie between site and label: the tables independence gives with these
    sites.
    """
    n_sites, n_classes = counts.shape
    cells = n_sites * n_classes
    statistics = []
    for start in range(0, n_permutations, 100):  # 100 tables at a time bounds the memory
        batch = [np.bincount(site_codes * n_classes + rng.permutation(y_codes),
                             minlength=cells)
                 for _ in range(min(100, n_permutations - start))]
        tables = np.reshape(batch, (-1, n_sites, n_classes))
        statistics.append(_table_statistics(tables, counts.sum(axis=1), counts.sum(axis=0)))
    return tuple(np.concatenate(parts) for parts in zip(*statistics, strict=True))


def _single_class_probabilities(counts):
    """(n_sites, n_classes): the chance that all of a site's rows are of one class.

    Were the label independent of the site, a site's rows would be a random
    draw, without replacement, from all labeled rows: the chance that its
    ``m`` rows are all of a class with ``N_k`` of the ``N`` rows is
    ``C(N_k, m) / C(N, m)``.
    """
    n_site = counts.sum(axis=1)[:, None]
    n_class = counts.sum(axis=0)[None, :]

    def log_choose(a, b):
        b = np.minimum(b, a)  # C(a, b) = 0 for b > a, masked below
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    log_p = log_choose(n_class, n_site) - log_choose(n_site.sum(), n_site)
    return np.where(n_class >= n_site, np.exp(log_p), 0.0)


def _single_class_p_values(counts):
    """Per site, how likely chance alone makes its single class; NaN for a mixed site.

    The chance, were the label independent of the site, that a site of its
    size holds a single class as unlikely as its own or more so: the sum of
    :func:`_single_class_probabilities` over the classes no likelier than the
    one it holds (with two equal classes, twice the chance of its class).
    """
    probabilities = _single_class_probabilities(counts)
    p_values = np.full(len(counts), np.nan)
    for s, (row, chance) in enumerate(zip(counts, probabilities, strict=True)):
        if np.count_nonzero(row) == 1:
            held = chance[np.argmax(row)]
            p_values[s] = chance[chance <= held * (1 + 1e-9)].sum()
    return p_values


def _balanced_accuracy(y_true, y_pred):
    """Mean recall over the classes present in ``y_true``.

    The expected accuracy on a resample holding every present class equally
    often. Unlike scikit-learn's, it does not warn when ``y_pred`` holds a
    class absent from ``y_true`` (a single-class site, say).
    """
    correct = np.asarray(y_pred == y_true, dtype=bool)
    return float(np.mean([correct[y_true == c].mean() for c in np.unique(y_true)]))


def _names(values):
    """``'A', 'B'``; past :data:`MAX_NAMED` values the rest are only counted."""
    shown = ", ".join(repr(_plain(v)) for v in values[:MAX_NAMED])
    return shown + (f" and {len(values) - MAX_NAMED} more" if len(values) > MAX_NAMED else "")


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
        ``share_<class>`` for each class, for two classes ``prevalence``,
        the share of ``classes[1]``, and ``p_single_class``: for a site
        that holds a single class, the chance that a site of its size
        would hold a single class as unlikely as its own, or more so, were
        the label independent of the site (its rows drawn at random from
        all labeled rows); NaN for a site that holds several classes.
    cramers_v : float
        Cramér's V between site and label with Bergsma's (2013) bias
        correction, in [0, 1] (0: independent). Uncorrected, V grows with
        the number of sites and shrinks with their size even when the label
        does not depend on the site (about 0.6 for 100 sites of 3 rows of a
        coin-flip label); the correction subtracts what independence gives
        on average.
    cramers_v_uncorrected : float
        Cramér's V without the correction, from the chi-squared statistic of
        the site-by-class table.
    site_label_p_value : float
        Permutation p-value of the dependence: the share of the
        ``n_permutations`` shuffles of the label across rows (plus the
        observed table) whose chi-squared statistic reaches the observed
        one. Exact for any site size, unlike the chi-squared test, and at
        least ``1 / (n_permutations + 1)``.
    n_permutations : int
        Shuffles of the label behind ``site_label_p_value`` and the
        ``expected_*`` baselines.
    mutual_information : float
        Mutual information between site and label, in nats.
    expected_mutual_information : float
        Its mean over the label shuffles: what independence gives with these
        site sizes (in nats).
    normalized_mutual_information : float
        ``mutual_information`` over the label's entropy: the share of the
        label's uncertainty that the site explains, in [0, 1], chance
        included.
    adjusted_mutual_information : float
        The share the site explains beyond chance, ``(mutual_information -
        expected_mutual_information) / (H - expected_mutual_information)``
        with ``H`` the label's entropy (scikit-learn's
        ``adjusted_mutual_info_score`` with the label's entropy as the bound
        and the expectation taken over the shuffles): about 0 under
        independence (below 0 when less than chance), 1 when the site gives
        the label.
    site_only_accuracy, site_only_balanced_accuracy : float
        Accuracy and balanced accuracy of predicting each row's label as
        its site's most common class (in-sample).
    expected_site_only_accuracy : float
        ``site_only_accuracy`` averaged over the label shuffles: what small
        sites give by chance.
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
        Sites whose labeled rows all hold one class, by chance or not.
    confounded_sites : list
        The single-class sites that independence makes unlikely: their
        ``p_single_class`` is below ``0.05 / n_sites`` (Bonferroni over the
        sites, so that a label independent of the site flags no site 95%
        of the time or more). A site of 3 rows is not among them; a site of
        100 controls among 60% controls is.
    totally_confounded : bool
        Whether ``confounded_sites`` is not empty (then a
        :class:`ConfoundingWarning` was issued).
    warnings : list of str
        Every warning issued, the :class:`ConfoundingWarning` first.
    """

    sites: np.ndarray
    classes: np.ndarray
    counts: np.ndarray
    label_table: object
    cramers_v: float
    cramers_v_uncorrected: float
    site_label_p_value: float
    n_permutations: int
    mutual_information: float
    expected_mutual_information: float
    normalized_mutual_information: float
    adjusted_mutual_information: float
    site_only_accuracy: float
    site_only_balanced_accuracy: float
    expected_site_only_accuracy: float
    majority_accuracy: float
    site_probe: object
    estimator_scores: object
    estimator_accuracy: object
    estimator_balanced_accuracy: object
    prediction_site_mi: object
    single_class_sites: list
    confounded_sites: list
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
        lines.extend(self._single_class_text())
        lines.append(self._dependence_text())
        lines.append(self._probe_text())
        if self.estimator_scores is not None:
            lines.append(self._estimator_text())
        if self.warnings:
            count = len(self.warnings)
            lines.append(f"{count} warning{'s' if count > 1 else ''}: see .warnings.")
        return "\n".join(textwrap.fill(line, width=88, subsequent_indent="  ")
                         for line in lines)

    def _single_class_text(self):
        n_sites = len(self.sites)
        level = f"{SIGNIFICANCE} / {n_sites} site{'s' if n_sites > 1 else ''}"
        texts = []
        if self.totally_confounded:
            one = len(self.confounded_sites) == 1
            texts.append(
                f"TOTAL CONFOUNDING: {_named('site', self.confounded_sites)} "
                f"{'holds' if one else 'hold'} a single class, which chance alone would make "
                f"unlikely for {'its' if one else 'their'} size (probability under {level}, "
                "were the label independent of the site; label_table['p_single_class']), so "
                "there site and label cannot be separated from these data; scores on them "
                "cannot show whether a model reads the site.")
        by_chance = [s for s in self.single_class_sites if s not in self.confounded_sites]
        if by_chance:
            one = len(by_chance) == 1
            expected = _single_class_probabilities(self.counts).sum()
            texts.append(
                f"Single class within chance: {_named('site', by_chance)} "
                f"{'holds' if one else 'hold'} a single class, which is not unlikely for "
                f"{'its' if one else 'their'} size were the label independent of the site "
                f"(probability {level} or more each; {expected:.1f} of the {n_sites} sites would "
                "hold a single class on average): not counted as confounding, though within "
                f"{'it' if one else 'them'} site and label cannot be separated.")
        return texts

    def _dependence_text(self):
        p, floor = self.site_label_p_value, 1 / (self.n_permutations + 1)
        if p >= SIGNIFICANCE:
            verdict = "no evidence of dependence beyond chance"
        else:
            verdict = f"{_level(self.cramers_v)} dependence"
        chance_share = self.expected_mutual_information / _entropy(self.counts.sum(axis=0))
        return (
            f"Label vs site: Cramér's V {self.cramers_v:.2f}: {verdict} (V corrected for the "
            f"small-sample bias as in Bergsma 2013, {self.cramers_v_uncorrected:.2f} "
            f"uncorrected; permutation test, the label shuffled across rows "
            f"{self.n_permutations} times: p {'≤' if p <= floor * (1 + 1e-9) else '='} "
            f"{p:.3f}; V under 0.1 is negligible, 0.1-0.3 weak, 0.3-0.5 moderate, 0.5 or more "
            f"strong, and p {SIGNIFICANCE} or more is no evidence of dependence). The site "
            f"explains {self.normalized_mutual_information:.0%} of the label's uncertainty "
            f"(mutual information {self.mutual_information:.3f} nats), "
            f"{chance_share:.0%} expected by chance with these "
            f"site sizes (chance-adjusted: {max(self.adjusted_mutual_information, 0.0):.0%}). "
            f"Guessing each site's most common class is right {self.site_only_accuracy:.2f} "
            f"of the time ({self.expected_site_only_accuracy:.2f} by chance; balanced accuracy "
            f"{self.site_only_balanced_accuracy:.2f}), against {self.majority_accuracy:.2f} "
            "for always guessing the most common class.")

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
        if self.single_class_sites:
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


def _check_finite(X_flat, labeled):
    """Refuse NaN and infinite values, which the default probe cannot fit on.

    Said here, naming ``X`` and the fix, rather than by scikit-learn from
    inside the probe's cross-validation. A probe passed by the caller may
    take NaN (a histogram gradient boosting does), so only the default is
    guarded.
    """
    try:
        values = np.asarray(X_flat[labeled], dtype=np.float64)
    except (TypeError, ValueError):
        return  # not numeric: the probe says what it cannot convert
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    row, column = np.argwhere(bad)[0]
    n_nan, n_inf = int(np.isnan(values).sum()), int(np.isinf(values).sum())
    found = " and ".join(f"{count} {kind}" for count, kind in ((n_nan, "NaN"), (n_inf, "infinite"))
                         if count)
    raise ValueError(
        f"X holds {found} value{'s' if n_nan + n_inf > 1 else ''} in its labeled rows (the "
        f"first in row {np.flatnonzero(labeled)[row]}, feature {column}), and the default site "
        "probe (StandardScaler + LogisticRegression) cannot fit on them. Impute missing values "
        "first, the way your model sees them (e.g. sklearn.impute.SimpleImputer), and replace "
        "infinite ones; or pass a probe that accepts NaN, e.g. "
        "probe=sklearn.ensemble.HistGradientBoostingClassifier().")


def _check_cv(cv):
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral) or cv < 2:
        raise ValueError(f"cv must be an int >= 2 (the number of folds), got {cv!r}.")
    return int(cv)


def _check_n_permutations(n_permutations):
    if (isinstance(n_permutations, bool) or not isinstance(n_permutations, numbers.Integral)
            or n_permutations < 1):
        raise ValueError(
            "n_permutations must be an int >= 1 (label shuffles of the permutation test; "
            f"999 gives p-values down to 0.001), got {n_permutations!r}.")
    return int(n_permutations)


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


def confounding_report(X, y, domains, estimator=None, *, probe=None, cv=5, n_permutations=999,
                       random_state=None, as_frame=False):
    """Diagnose site-label confounding: whether a model could score by reading the site.

    Three measurements, on the labeled rows only (``y == -1`` marks an
    unlabeled row, left out everywhere):

    1. **The label depends on the site.** A per-site label table; Cramér's V
       between site and label (from the chi-squared statistic of the
       site-by-class table, with Bergsma's 2013 bias correction; 0 with one
       site); the mutual information between them (nats), also as the share
       of the label's entropy it explains; and the accuracy of predicting
       each row's label as its site's most common class, beside always
       predicting the most common class.

       Each is set beside chance. Small sites look dependent on the label
       even when they are not (with 100 sites of 3 rows and a coin-flip
       label, a quarter of the sites hold a single class, the uncorrected
       V is about 0.6 and the site "explains" about a third of the label), so
       the label is shuffled across rows ``n_permutations`` times, keeping
       every site's size and every class's count: the share of shuffles
       whose chi-squared statistic reaches the observed one is the p-value
       of the dependence, and the shuffles' mean mutual information and
       site-majority accuracy are the chance baselines. The summary calls
       the dependence by the corrected V (negligible, weak, moderate,
       strong) only when the p-value is under 0.05, and states the share of
       the label's uncertainty the site explains beyond chance.
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
    variable there. That is evidence of confounding only when chance alone
    would not do it: were the label independent of the site, the site's
    rows would be a random draw from all labeled rows, and the chance of a
    draw of its size holding a single class as unlikely as its own
    (``label_table["p_single_class"]``) must be under ``0.05 / n_sites``
    (Bonferroni over the sites). Then one :class:`ConfoundingWarning` is
    issued for those sites; the others are said in the summary.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or image array
        Inputs, ``(n, h, w)`` and ``(n, c, h, w)`` images included. Passed
        unchanged to ``estimator.predict`` (labeled rows only). With the
        default ``probe``, NaN or infinite values in labeled rows raise a
        ValueError: impute them first (e.g. with
        :class:`sklearn.impute.SimpleImputer`, as your model does) or pass
        a ``probe`` that accepts NaN.
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
    n_permutations : int, default=999
        Shuffles of the label across rows for the p-value of the dependence
        and the chance baselines; the p-value is at least ``1 /
        (n_permutations + 1)``. Each costs one pass over the labeled rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the probe's folds and the label shuffles.
    as_frame : bool, default=False
        Tables as pandas DataFrames instead of dicts of arrays.

    Returns
    -------
    report : ConfoundingReport
        The numbers, tables and warnings; ``report.summary()`` reads them
        out.

    Raises
    ------
    ValueError
        Among others, when the default probe meets NaN or infinite values
        in the labeled rows of ``X``.

    Warns
    -----
    ConfoundingWarning
        Once, when some site holds a single class among its labeled rows,
        and chance alone would make that unlikely for its size (see above).
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
    >>> round(report.cramers_v, 2), round(report.cramers_v_uncorrected, 2)
    (0.48, 0.49)
    >>> report.site_label_p_value  # no shuffle of the label reaches it: the least 999 can give
    0.001
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
    Label vs site: Cramér's V 0.48: moderate dependence (V corrected for the small-sample
      bias as in Bergsma 2013, 0.49 uncorrected; permutation test, the label shuffled across
      rows 999 times: p ≤ 0.001; V under 0.1 is negligible, 0.1-0.3 weak, 0.3-0.5 moderate,
      0.5 or more strong, and p 0.05 or more is no evidence of dependence). The site
      explains 19% of the label's uncertainty (mutual information 0.128 nats), 0% expected
      by chance with these site sizes (chance-adjusted: 18%). Guessing each site's most
      common class is right 0.70 of the time (0.53 by chance; balanced accuracy 0.70),
      against 0.50 for always guessing the most common class.
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
    n_permutations = _check_n_permutations(n_permutations)
    if estimator is not None and not hasattr(estimator, "predict"):
        raise TypeError(f"estimator must be a fitted classifier with predict, got {estimator!r}.")
    if probe is not None and not hasattr(probe, "fit"):
        raise TypeError(f"probe must be a classifier with fit and predict, got {probe!r}.")
    labeled = ~unlabeled_mask(y)
    if not labeled.any():
        raise ValueError("y has no labeled rows (every entry is -1): nothing to diagnose.")
    if probe is None:
        _check_finite(X_flat, labeled)
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
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

    p_single = _single_class_p_values(counts)
    label_table["p_single_class"] = list(p_single)
    single = [_plain(s) for s, p in zip(sites, p_single, strict=True) if not np.isnan(p)]
    # Bonferroni over the sites: with many small sites some hold one class by chance alone
    confounded_codes = np.flatnonzero(p_single < SIGNIFICANCE / len(sites))
    confounded = [_plain(sites[s]) for s in confounded_codes]
    notes = []
    if confounded:
        held = "; ".join(
            f"{_plain(sites[s])!r}: all {n_site[s]} labeled rows are "
            f"{_plain(classes[site_majority[s]])!r}, probability {p_single[s]:.1e}"
            for s in confounded_codes[:MAX_NAMED])
        more = len(confounded) - MAX_NAMED
        held += f"; and {more} more (see .confounded_sites)" if more > 0 else ""
        notes.append(
            f"Total site-label confounding: {_named('site', confounded)} "
            f"{'holds' if len(confounded) == 1 else 'hold'} a single class ({held}), and "
            "chance alone would make that unlikely: were the label independent of the site, a "
            "site of that size would hold so unlikely a single class with probability under "
            f"{SIGNIFICANCE} / {len(sites)} sites. There the site and the label are the same "
            "variable, and no method can "
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

    # after the probe, so that a RandomState instance gives the probe the folds it gave before
    null_chi2, null_mi, null_hits = _permutation_null(
        site_codes, y_codes, counts, n_permutations, check_random_state(random_state))
    chi2, _, _ = _table_statistics(counts, n_site, counts.sum(axis=0))
    # a shuffle that gives the observed table back must count, whatever the rounding
    reached = np.count_nonzero(null_chi2 >= chi2 - 1e-9 * max(chi2, 1.0))
    expected_mi = float(null_mi.mean())

    for note in notes:
        warnings.warn(note, ConfoundingWarning, stacklevel=2)
    for note in probe_notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return ConfoundingReport(
        sites=sites, classes=classes, counts=counts,
        label_table=make_table(label_table, as_frame),
        cramers_v=_cramers_v(counts),
        cramers_v_uncorrected=_cramers_v(counts, corrected=False),
        site_label_p_value=float((reached + 1) / (n_permutations + 1)),
        n_permutations=n_permutations,
        mutual_information=mi,
        expected_mutual_information=expected_mi,
        normalized_mutual_information=float(np.clip(mi / h_label, 0.0, 1.0)),
        adjusted_mutual_information=float(
            (mi - expected_mi) / (h_label - expected_mi)) if h_label > expected_mi else 0.0,
        site_only_accuracy=site_only_accuracy,
        site_only_balanced_accuracy=site_only_balanced,
        expected_site_only_accuracy=float(null_hits.mean() / n),
        majority_accuracy=majority_accuracy,
        site_probe=make_table(probe_columns, as_frame),
        estimator_scores=estimator_scores,
        estimator_accuracy=accuracy,
        estimator_balanced_accuracy=balanced_accuracy,
        prediction_site_mi=prediction_site_mi,
        single_class_sites=single,
        confounded_sites=confounded,
        totally_confounded=bool(confounded),
        warnings=notes + probe_notes,
    )
