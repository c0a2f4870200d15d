"""Site-label confounding (skda.metrics.confounding_report) on data whose confounding is known."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom
from scipy.stats.contingency import association
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skda.metrics import ConfoundingReport, ConfoundingWarning, confounding_report


def make_sites(prevalences, n_per_site=100, site_offset=0.0, random_state=0):
    """Sites with an exact share of class 1 each; X = [content, site column, noise].

    The content column is ``y`` plus noise; the site column is ``site_offset`` times the
    site's index plus noise (no site information when ``site_offset`` is 0).
    """
    rng = np.random.RandomState(random_state)
    y = np.concatenate([rng.permutation(np.arange(n_per_site) < round(p * n_per_site))
                        for p in prevalences]).astype(int)
    index = np.repeat(np.arange(len(prevalences)), n_per_site)
    domains = np.array([f"site{k}" for k in index])
    n = len(y)
    X = np.c_[y + rng.normal(size=n), site_offset * index + rng.normal(size=n),
              rng.normal(size=n)]
    return X, y, domains


def quiet_report(*args, **kwargs):
    """The report, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return confounding_report(*args, **kwargs)


def bergsma_v(table):
    """Bias-corrected Cramér's V, written out as in Bergsma (2013)."""
    table = np.asarray(table)
    n, (r, k) = table.sum(), table.shape
    phi2 = association(table, method="cramer", correction=False) ** 2 * (min(r, k) - 1)
    phi2_corrected = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_corrected, k_corrected = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return np.sqrt(phi2_corrected / min(k_corrected - 1, r_corrected - 1))


def coin_flips_at_small_sites(seed=0, n_sites=100, per_site=3):
    """The label independent of the site: a coin flip per row at many sites of a few rows."""
    rng = np.random.default_rng(seed)
    sites = np.repeat(np.arange(n_sites), per_site)
    y = rng.integers(0, 2, n_sites * per_site)
    X = rng.normal(size=(n_sites * per_site, 4))
    return X, y, sites


def said(report):
    """The summary on one line (it is wrapped at word boundaries)."""
    return " ".join(report.summary().split())


def assert_same_report(a, b):
    np.testing.assert_array_equal(a.sites, b.sites)
    np.testing.assert_array_equal(a.classes, b.classes)
    np.testing.assert_array_equal(a.counts, b.counts)
    for name in ("cramers_v", "mutual_information", "normalized_mutual_information",
                 "site_only_accuracy", "site_only_balanced_accuracy", "majority_accuracy",
                 "estimator_accuracy", "estimator_balanced_accuracy"):
        assert getattr(a, name) == pytest.approx(getattr(b, name)), name
    for name in ("label_table", "site_probe", "estimator_scores", "prediction_site_mi"):
        ta, tb = getattr(a, name), getattr(b, name)
        if ta is None:
            assert tb is None
            continue
        assert list(ta) == list(tb)
        for column in ta:
            if np.asarray(ta[column]).dtype.kind == "f":
                np.testing.assert_allclose(ta[column], tb[column])
            else:
                np.testing.assert_array_equal(ta[column], tb[column])
    assert a.single_class_sites == b.single_class_sites
    assert a.warnings == b.warnings


def test_labels_independent_of_the_site():
    X, y, d = make_sites([0.3, 0.3, 0.3, 0.3])
    report = quiet_report(X, y, d, random_state=0)
    assert isinstance(report, ConfoundingReport)
    assert list(report.sites) == ["site0", "site1", "site2", "site3"]
    assert report.cramers_v == pytest.approx(0.0, abs=1e-12)
    assert report.mutual_information == pytest.approx(0.0, abs=1e-12)
    assert report.normalized_mutual_information == pytest.approx(0.0, abs=1e-12)
    assert report.site_only_accuracy == report.majority_accuracy == pytest.approx(0.7)
    assert report.site_only_balanced_accuracy == pytest.approx(0.5)
    np.testing.assert_allclose(report.label_table["prevalence"], 0.3)
    np.testing.assert_array_equal(report.label_table["n_labeled"], 100)
    np.testing.assert_array_equal(report.label_table["count_1"], 30)
    assert not report.totally_confounded and report.single_class_sites == []
    assert report.warnings == [] and report.estimator_scores is None
    # every shuffle of the label reaches a chi-squared of 0
    assert report.site_label_p_value == 1.0 and report.cramers_v_uncorrected == 0.0
    assert report.adjusted_mutual_information <= 0 < report.expected_mutual_information
    assert np.isnan(report.label_table["p_single_class"]).all()
    assert "Cramér's V 0.00: no evidence of dependence beyond chance" in said(report)


def test_partial_confounding_has_known_values():
    X, y, d = make_sites([0.2, 0.8])
    report = quiet_report(X, y, d, random_state=0)
    # 2x2 table [[80, 20], [20, 80]]: phi = (80*80 - 20*20) / 100**2
    assert report.cramers_v_uncorrected == pytest.approx(0.6)
    # Bergsma: phi**2 less (r - 1)(k - 1) / (n - 1), over min(r, k) - 1 less (k - 1)**2 / (n - 1)
    assert report.cramers_v == pytest.approx(np.sqrt((0.36 - 1 / 199) / (1 - 1 / 199)))
    assert report.site_label_p_value == pytest.approx(1 / 1000)  # no shuffle reaches it
    entropy = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8))
    assert report.mutual_information == pytest.approx(np.log(2) - entropy)
    assert report.normalized_mutual_information == pytest.approx(1 - entropy / np.log(2))
    assert report.site_only_accuracy == pytest.approx(0.8)
    assert report.majority_accuracy == 0.5
    assert report.site_only_balanced_accuracy == pytest.approx(0.8)
    np.testing.assert_allclose(report.label_table["share_0"], [0.8, 0.2])
    np.testing.assert_allclose(report.label_table["prevalence"], [0.2, 0.8])
    assert not report.totally_confounded
    text = said(report)
    assert "Cramér's V 0.60: strong dependence" in text and "0.60 uncorrected" in text
    assert "p ≤ 0.001" in text
    assert "right 0.80 of the time" in text and "against 0.50" in text
    assert report.summary() in repr(report)


def test_cramers_v_matches_scipy_on_an_uneven_table():
    X, y, d = make_sites([0.1, 0.45, 0.7], n_per_site=60)
    y = np.where(np.arange(len(y)) % 7 == 0, 2, y)  # a third class
    report = quiet_report(X, y, d, random_state=0)
    expected = association(report.counts, method="cramer", correction=False)
    assert 0 < report.cramers_v_uncorrected == pytest.approx(expected)
    assert report.cramers_v == pytest.approx(bergsma_v(report.counts))
    assert 0 < report.cramers_v < expected
    assert report.counts.shape == (3, 3) and report.counts.sum() == len(y)
    assert "prevalence" not in report.label_table  # binary only


def test_a_single_class_site_is_total_confounding():
    X, y, d = make_sites([0.0, 0.5, 0.7])
    with pytest.warns(ConfoundingWarning) as record:
        report = confounding_report(X, y, d, random_state=0)
    confounding = [w for w in record if issubclass(w.category, ConfoundingWarning)]
    assert len(confounding) == 1
    message = str(confounding[0].message)
    assert "'site0'" in message and "'site1'" not in message
    assert "no method can separate the site from the label" in message
    assert "cannot show whether a model reads the site" in message
    assert report.totally_confounded and report.single_class_sites == ["site0"]
    assert report.warnings[0] == message
    assert "TOTAL CONFOUNDING" in said(report)
    # class 1 has no rows at site0: its probe uses the other two sites
    np.testing.assert_array_equal(report.site_probe["n_sites"], [3, 2])


def test_site_predicting_the_label_perfectly():
    X, y, d = make_sites([0.0, 1.0], n_per_site=40)
    with pytest.warns(UserWarning) as record:
        report = confounding_report(X, y, d, random_state=0)
    assert sum(issubclass(w.category, ConfoundingWarning) for w in record) == 1
    assert report.site_only_accuracy == 1.0 and report.cramers_v == pytest.approx(1.0)
    assert report.normalized_mutual_information == pytest.approx(1.0)
    assert report.single_class_sites == ["site0", "site1"]
    # each class lives in one site: no site to tell apart within a class
    assert np.isnan(report.site_probe["balanced_accuracy"]).all()
    probe_notes = [w for w in report.warnings if w.startswith("Site probe")]
    assert len(probe_notes) == 2 and "class 0" in probe_notes[0] and "NaN" in probe_notes[0]
    assert len(report.warnings) == len(record) == 3


def test_many_small_sites_of_an_independent_label_are_not_called_confounded():
    # 100 sites of 3 rows, a coin-flip label: a third of the sites hold one class by chance
    X, y, d = coin_flips_at_small_sites(seed=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        report = confounding_report(X, y, d, random_state=0)
    assert not any(issubclass(w.category, ConfoundingWarning) for w in record)
    assert len(report.single_class_sites) == 34
    assert report.confounded_sites == [] and not report.totally_confounded
    # a site of 3 rows holds one class with chance about 1/4: far from 0.05 / 100
    single = ~np.isnan(report.label_table["p_single_class"])
    assert single.sum() == 34 and (report.label_table["p_single_class"][single] > 0.09).all()
    # uncorrected V and the share explained are what the site sizes give by chance alone
    assert report.cramers_v_uncorrected > 0.6 and report.cramers_v < 0.3
    assert report.normalized_mutual_information > 0.35
    assert report.expected_mutual_information / report.mutual_information > 0.75
    assert report.adjusted_mutual_information < 0.15
    assert report.site_only_accuracy - report.expected_site_only_accuracy < 0.05
    assert report.site_label_p_value > 0.01  # this seed: 0.031, the low end of chance
    text = said(report)
    assert "strong dependence" not in text and "TOTAL CONFOUNDING" not in text
    assert "Single class within chance: sites 0, 1, 2, 3, 4, 5, 12, 13, 14, 15 and 24 more" in text
    assert "25.3 of the 100 sites would hold a single class on average" in text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the probe's notes, as above
        again = confounding_report(X, y, d, random_state=0, probe=DummyClassifier())
    assert again.site_label_p_value == report.site_label_p_value  # seeded by random_state


@pytest.mark.filterwarnings("ignore:Site probe for class")
def test_the_permutation_p_value_of_an_independent_label_is_rarely_small():
    # under independence the p-value is uniform: 20 draws put about 1 under 0.05
    reports = [confounding_report(*coin_flips_at_small_sites(seed), probe=DummyClassifier(),
                                  n_permutations=199, random_state=seed)
               for seed in range(1, 21)]
    p_values = np.array([r.site_label_p_value for r in reports])
    assert np.mean(p_values < 0.05) <= 0.15 and 0.3 < np.median(p_values) < 0.7
    assert all(r.confounded_sites == [] for r in reports)
    assert np.mean([r.cramers_v for r in reports]) < 0.15
    assert np.mean([r.cramers_v_uncorrected for r in reports]) > 0.5
    no_evidence = [r for r in reports if r.site_label_p_value >= 0.05]
    assert all("no evidence of dependence beyond chance" in said(r) for r in no_evidence)


def test_a_single_class_site_is_flagged_when_chance_cannot_explain_it():
    rng = np.random.RandomState(0)
    # three sites of 60 rows at 50%, a site of 12 controls and a site of 3 controls
    y = np.r_[np.tile(np.arange(2), 90), np.zeros(12, int), np.zeros(3, int)]
    d = np.r_[np.repeat(["a", "b", "c"], 60), ["controls12"] * 12, ["controls3"] * 3]
    X = rng.normal(size=(len(y), 2))
    with pytest.warns(ConfoundingWarning, match="'controls12'") as record:
        report = confounding_report(X, y, d, random_state=0)
    assert "'controls3'" not in str(record[0].message)
    assert report.single_class_sites == ["controls12", "controls3"]
    assert report.confounded_sites == ["controls12"] and report.totally_confounded
    # were the label independent of the site: a draw of 12 (or 3) of the 195 rows, 105 of them
    # controls, all controls or all patients
    p = dict(zip(report.label_table["site"], report.label_table["p_single_class"],
                 strict=True))
    for site, size in (("controls12", 12), ("controls3", 3)):
        chance = [hypergeom(195, count, size).pmf(size) for count in (105, 90)]
        assert p[site] == pytest.approx(sum(chance))
    assert p["controls12"] < 0.05 / 5 < 0.05 < p["controls3"]
    text = said(report)
    assert "TOTAL CONFOUNDING: site 'controls12' holds a single class" in text
    assert "Single class within chance: site 'controls3' holds a single class" in text
    # a site of 10 controls among 90% patients: only its own class counts, however often a
    # site of 10 would hold patients only (about a third of the time)
    y = np.r_[np.zeros(10, int), (np.arange(300) % 10 != 0).astype(int)]
    d = np.r_[["controls"] * 10, np.repeat(["a", "b", "c"], 100)]
    with pytest.warns(ConfoundingWarning):
        report = confounding_report(rng.normal(size=(len(y), 2)), y, d, random_state=0)
    assert report.confounded_sites == ["controls"]
    assert list(report.label_table["site"]) == ["a", "b", "c", "controls"]
    assert report.label_table["p_single_class"][3] == pytest.approx(
        hypergeom(310, 40, 10).pmf(10))


def test_site_probe_sees_a_site_offset_only_when_there_is_one():
    X, y, d = make_sites([0.4, 0.4, 0.6, 0.6], site_offset=4.0)
    report = quiet_report(X, y, d, random_state=0)
    probe = report.site_probe
    np.testing.assert_array_equal(probe["class"], [0, 1])
    np.testing.assert_array_equal(probe["n_sites"], [4, 4])
    np.testing.assert_array_equal(probe["n_rows"], [200, 200])
    np.testing.assert_allclose(probe["chance"], 0.25)
    assert (probe["balanced_accuracy"] > 0.9).all()
    assert "the features reveal the site" in said(report)
    X, y, d = make_sites([0.4, 0.4, 0.6, 0.6], n_per_site=200, site_offset=0.0)
    report = quiet_report(X, y, d, random_state=0)
    assert (np.abs(report.site_probe["balanced_accuracy"] - 0.25) < 0.06).all()
    assert "reveal little of the site" in said(report)


def test_site_probe_leaves_out_a_site_with_one_row_of_a_class():
    X, y, d = make_sites([0.5, 0.5, 0.5], n_per_site=20)
    rows_1_site2 = np.flatnonzero((d == "site2") & (y == 1))
    y[rows_1_site2[1:]] = 0  # site2 keeps a single row of class 1
    with pytest.warns(UserWarning, match="site 'site2' holds only 1 row") as record:
        report = confounding_report(X, y, d, random_state=0)
    assert not any(issubclass(w.category, ConfoundingWarning) for w in record)
    np.testing.assert_array_equal(report.site_probe["n_sites"], [3, 2])
    np.testing.assert_array_equal(report.site_probe["n_rows"], [39, 20])  # 30 + 9 moved
    np.testing.assert_allclose(report.site_probe["chance"], [1 / 3, 1 / 2])
    assert len(report.warnings) == 1 and "class 1" in report.warnings[0]


def confounded_with_site_column(random_state=0):
    """Four sites of prevalence 0.1 .. 0.9; column 0 is the site's index, column 1 weak content."""
    rng = np.random.RandomState(random_state)
    prevalences, n_per_site = [0.1, 0.3, 0.7, 0.9], 100
    y = np.concatenate([rng.permutation(np.arange(n_per_site) < round(p * n_per_site))
                        for p in prevalences]).astype(int)
    index = np.repeat(np.arange(4), n_per_site)
    X = np.c_[index.astype(float), y + rng.normal(scale=1.5, size=len(y))]
    return X, y, np.array([f"site{k}" for k in index])


def test_a_model_reading_the_site_leans_on_it():
    X, y, d = confounded_with_site_column()
    reads_site = LogisticRegression().fit(X, y)
    content_only = make_pipeline(ColumnTransformer([("content", "passthrough", [1])]),
                                 LogisticRegression()).fit(X, y)
    site = quiet_report(X, y, d, reads_site, random_state=0)
    content = quiet_report(X, y, d, content_only, random_state=0)

    def weighted_gap(report):
        scores = report.estimator_scores
        np.testing.assert_allclose(scores["gap"],
                                   scores["accuracy"] - scores["balanced_accuracy"])
        balanced = np.average(scores["balanced_accuracy"], weights=scores["n_samples"])
        return report.estimator_accuracy - balanced

    assert list(site.estimator_scores["site"]) == ["site0", "site1", "site2", "site3"]
    np.testing.assert_array_equal(site.estimator_scores["n_samples"], 100)
    assert site.estimator_accuracy == pytest.approx(
        np.mean(reads_site.predict(X) == y))
    assert weighted_gap(site) > 0.1 and abs(weighted_gap(content)) < 0.05
    assert (site.estimator_scores["gap"] > 0).all()
    mi_site = site.prediction_site_mi["mutual_information"]
    mi_content = content.prediction_site_mi["mutual_information"]
    assert (mi_site > mi_content + 0.1).all() and (mi_content < 0.05).all()
    assert (site.prediction_site_mi["normalized_mutual_information"] > 0.1).all()
    assert "it leans on the site" in said(site)
    assert "it leans on the site" not in said(content)
    assert "hardly vary with the site" in said(content)


def test_prediction_site_mi_is_zero_when_predictions_ignore_the_site():
    X, y, d = make_sites([0.3, 0.7])

    X = np.c_[X, y]  # the last column is the true label

    class Oracle:
        def predict(self, X):
            return X[:, -1].astype(int)

    report = quiet_report(X, y, d, Oracle(), random_state=0)
    np.testing.assert_allclose(report.prediction_site_mi["mutual_information"], 0.0,
                               atol=1e-12)
    np.testing.assert_allclose(report.estimator_scores["gap"], 0.0)
    assert report.estimator_accuracy == report.estimator_balanced_accuracy == 1.0


def test_unlabeled_rows_are_left_out():
    X, y, d = make_sites([0.2, 0.5, 0.8], site_offset=1.0)
    model = LogisticRegression().fit(X, y)
    plain = quiet_report(X, y, d, model, random_state=0)
    rng = np.random.RandomState(1)
    n_extra = 50
    X_more = np.vstack([X, rng.normal(size=(n_extra, 3))])
    y_more = np.r_[y, np.full(n_extra, -1)]
    d_more = np.r_[d, rng.choice(["site0", "site2", "unlabeled_site"], n_extra)]
    with_unlabeled = quiet_report(X_more, y_more, d_more, model, random_state=0)
    assert_same_report(plain, with_unlabeled)
    assert "unlabeled_site" not in with_unlabeled.sites
    # interleaved: labeled rows keep their order, so the probe's folds are the same
    inter = np.argsort(np.r_[np.arange(len(y)) * 2, np.arange(n_extra) * 7 + 1], kind="stable")
    assert_same_report(plain, quiet_report(X_more[inter], y_more[inter], d_more[inter], model,
                                           random_state=0))


def test_string_labels_give_the_same_report():
    X, y, d = make_sites([0.2, 0.5, 0.8], site_offset=1.0)
    names = np.array(["healthy", "patient"])
    numbers = quiet_report(X, y, d, LogisticRegression().fit(X, y), random_state=0)
    words = quiet_report(X, names[y], d, LogisticRegression().fit(X, names[y]),
                         random_state=0)
    assert list(words.classes) == ["healthy", "patient"]
    assert "count_patient" in words.label_table and "share_healthy" in words.label_table
    np.testing.assert_allclose(words.label_table["prevalence"],
                               numbers.label_table["prevalence"])
    np.testing.assert_array_equal(words.site_probe["class"], names)
    for name in ("cramers_v", "mutual_information", "site_only_accuracy",
                 "estimator_accuracy", "estimator_balanced_accuracy"):
        assert getattr(words, name) == pytest.approx(getattr(numbers, name))
    np.testing.assert_allclose(words.site_probe["balanced_accuracy"],
                               numbers.site_probe["balanced_accuracy"])
    np.testing.assert_allclose(words.prediction_site_mi["mutual_information"],
                               numbers.prediction_site_mi["mutual_information"])
    # object labels with -1 for unlabeled rows
    y_obj = names[y].astype(object)
    y_obj[::10] = -1
    report = quiet_report(X, y_obj, d, random_state=0)
    assert report.counts.sum() == len(y) - len(y[::10])
    assert "class 'patient'" in said(report)


def test_inputs_are_not_modified_and_images_are_flattened():
    X, y, d = make_sites([0.3, 0.6], n_per_site=60, site_offset=2.0)
    images = np.tile(X[:, :, None, None], (1, 1, 2, 2))  # (n, c, h, w)
    y[::9] = -1
    copies = images.copy(), y.copy(), d.copy()
    report = quiet_report(images, y, d, random_state=0)
    for before, after in zip(copies, (images, y, d), strict=True):
        np.testing.assert_array_equal(before, after)
    flat = quiet_report(images.reshape(len(y), -1), y, d, random_state=0)
    assert_same_report(report, flat)
    assert (report.site_probe["balanced_accuracy"] > 0.7).all()  # chance 0.5
    site_channel = quiet_report(images[:, 1], y, d, random_state=0)  # (n, h, w)
    assert (site_channel.site_probe["balanced_accuracy"] > 0.7).all()


def test_tables_as_frames():
    X, y, d = make_sites([0.2, 0.8])
    report = quiet_report(X, y, d, LogisticRegression().fit(X, y), random_state=0,
                          as_frame=True)
    for table in (report.label_table, report.site_probe, report.estimator_scores,
                  report.prediction_site_mi):
        assert isinstance(table, pd.DataFrame)
    assert list(report.estimator_scores.columns) == [
        "site", "n_samples", "accuracy", "balanced_accuracy", "gap"]
    assert "Model: accuracy" in said(report)


def test_bad_input_is_refused():
    X, y, d = make_sites([0.3, 0.6], n_per_site=20)
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        confounding_report(X[:-1], y, d)
    with pytest.raises(ValueError, match="domains must hold one domain label per row"):
        confounding_report(X, y, d[:-1])
    with pytest.raises(ValueError, match="y has no labeled rows"):
        confounding_report(X, np.full(len(y), -1), d)
    with pytest.raises(ValueError, match="y holds a single class"):
        confounding_report(X, np.zeros(len(y), dtype=int), d)
    with pytest.raises(ValueError, match="X must be 2-D"):
        confounding_report(X[:, 0], y, d)
    with pytest.raises(ValueError, match="cv must be an int >= 2"):
        confounding_report(X, y, d, cv=1)
    with pytest.raises(ValueError, match="n_permutations must be an int >= 1"):
        confounding_report(X, y, d, n_permutations=0)
    with pytest.raises(TypeError, match="estimator must be a fitted classifier"):
        confounding_report(X, y, d, "model")
    with pytest.raises(ValueError, match="domains contains a missing entry"):
        confounding_report(X, y, np.where(np.arange(len(y)) == 3, None, d).astype(object))


def test_nan_in_X_is_refused_up_front_naming_X_and_the_fix():
    X, y, d = make_sites([0.3, 0.6], n_per_site=30)
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"X holds 1 NaN value in its labeled rows \(the first "
                       r"in row 5, feature 1\)") as error:
        confounding_report(X, y, d, random_state=0)
    assert "sklearn.impute.SimpleImputer" in str(error.value)
    assert "HistGradientBoostingClassifier" in str(error.value)
    X[7, 0] = np.inf
    with pytest.raises(ValueError, match="X holds 1 NaN and 1 infinite values"):
        confounding_report(X, y, d, random_state=0)
    X[7, 0] = 0.0
    # a probe that takes NaN is the caller's choice; unlabeled rows are never used
    imputing = make_pipeline(SimpleImputer(), LogisticRegression())
    report = quiet_report(X, y, d, probe=imputing, random_state=0)
    assert np.isfinite(report.site_probe["balanced_accuracy"]).all()
    y[5] = -1
    quiet_report(X, y, d, random_state=0)
