"""Site-label confounding: ERM, DANN and the methods that keep the class signal, along the knob.

``python benchmarks/site_confounding.py [--seeds 5] [--jobs 2 --threads 1] [--only synthetic]``
(the hospitals part reads ``fetch_heart_disease(download_if_missing=False)``: set
``SKDA_DATA``).

**Synthetic part.** ``make_site_shift`` with four sites of 300 rows, 8
features, ``covariate_shift=2`` (the site is readable from the features)
and ``site_label_dependence`` from 0 (every site balanced) to 1 (each site
holds one class), plus the case of the clinical question: one site of
controls and three of patients (``prevalence=[0, 1, 1, 1]``). The rule
``p(y | x)`` of the sites' common draw is the content signal. Each seed
draws other sites (``random_state=10 + seed``, seeds not used while the
methods were written). Two test draws from the same sites, 1000 rows each:

- *reversed balance*: each site's prevalence is one minus its training
  prevalence (a site of mostly controls now sends mostly patients): a model
  that reads the site is wrong where it was confident;
- *balanced*: every site 50% positive, the unconfounded draw.

Scores: balanced accuracy on each, and the worst accuracy over the site x
class cells of the balanced draw. Rows, all with their defaults: ERM, DANN
(marginal alignment over the sites), CDANN (class-conditional alignment),
ERM and CDANN with ``class_weight="balanced_per_domain"`` (every site x
class cell weighs the same), GroupDRO over the site x class cells, and, as
a ceiling, ERM trained on an unconfounded draw of the same sites and size.
The diagnosis of :func:`skda.metrics.confounding_report` on the training
draw (Cramér's V, the within-class site probe, ERM's raw minus balanced
accuracy) is tabulated along the knob.

**Hospitals part.** Leave one hospital out on UCI Heart Disease as in
``clinical_loso.py`` (imputer, scaler, classifier; prevalence 36% to 93%,
Switzerland 115 of 123 positive), with the rows above (no ceiling), each
with the default network and with the small regularised one (``(32,)``,
``weight_decay=1e-2``); ROC AUC and balanced accuracy on the held-out
hospital, and the confounding report of the pooled hospitals.

No paper reports these protocols. Output:
``results/site_confounding.{md,json,csv,png}``.
"""

import time
import warnings

import numpy as np
from _common import (
    accuracy_arguments,
    at_fixed_strength,
    bar_chart,
    grouped,
    markdown_table,
    mean_sd,
    parallel_records,
    run_and_save,
    run_stamp,
)
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import CDANNClassifier, DANNClassifier, ERMClassifier, GroupDROClassifier
from skda.datasets import fetch_heart_disease, make_site_shift
from skda.metrics import confounding_report, per_domain_scores

#: knob setting: (label, make_site_shift arguments of the training draw)
SETTINGS = {
    "0": dict(site_label_dependence=0.0),
    "0.5": dict(site_label_dependence=0.5),
    "0.8": dict(site_label_dependence=0.8),
    "0.95": dict(site_label_dependence=0.95),
    "1 (each site one class)": dict(site_label_dependence=1.0),
    "controls at 1 site, patients at 3": dict(prevalence=[0.0, 1.0, 1.0, 1.0]),
}
SITES = dict(n_sites=4, n_features=8, covariate_shift=2.0)
N_TRAIN, N_TEST = 300, 1000
BALANCED = "balanced_per_domain"
METHODS = {
    "ERM": (ERMClassifier, {}),
    "DANN": (DANNClassifier, {}),
    "CDANN": (CDANNClassifier, {}),
    "ERM, balanced per site": (ERMClassifier, dict(class_weight=BALANCED)),
    "CDANN, balanced per site": (CDANNClassifier, dict(class_weight=BALANCED)),
    "GroupDRO, site x class": (GroupDROClassifier, dict(group_by="domain_class")),
}
CEILING = "ERM trained unconfounded (ceiling)"
SMALL = dict(hidden_layer_sizes=(32,), optimizer__weight_decay=1e-2)
HOSPITAL_METHODS = [*METHODS, *(f"{name}, small MLP + wd" for name in METHODS)]
SYNTHETIC_METRICS = {"reversed": "balanced accuracy, reversed class balance",
                     "balanced": "balanced accuracy, balanced draw",
                     "worst_cell": "worst site x class accuracy, balanced draw"}
HOSPITAL_METRICS = ("roc_auc", "balanced_accuracy")


def _quiet_fit(model, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return model.fit(X, y, **fit_params)


def _train_draw(setting, seed):
    return make_site_shift(n_samples=N_TRAIN, **SITES, **SETTINGS[setting],
                           random_state=10 + seed, rows_random_state=1000 + seed)


def _test_draw(prevalence, seed, rows, n=N_TEST):
    return make_site_shift(n_samples=n, **SITES, prevalence=prevalence,
                           random_state=10 + seed, rows_random_state=rows + seed)


def synthetic(setting, method, seed, epochs, device):
    start = time.perf_counter()
    X, y, d = _train_draw(setting, seed)
    prevalence = np.array([y[d == s].mean() for s in np.unique(d)])
    if method == CEILING:
        X, y, d = _test_draw([0.5] * len(prevalence), seed, rows=4000, n=N_TRAIN)
        Estimator, params = ERMClassifier, {}
    else:
        Estimator, params = METHODS[method]
        params = at_fixed_strength(Estimator, params)
    model = _quiet_fit(Estimator(max_epochs=epochs, random_state=seed, device=device,
                                 **params), X, y, domains=d)
    X_rev, y_rev, _ = _test_draw(1 - prevalence, seed, rows=2000)
    X_bal, y_bal, d_bal = _test_draw([0.5] * len(prevalence), seed, rows=3000)
    predicted = model.predict(X_bal)
    cells = [np.mean(predicted[(d_bal == s) & (y_bal == c)] == c)
             for s in np.unique(d_bal) for c in (0, 1)]
    return dict(part="synthetic", setting=setting, method=method, seed=seed,
                reversed=float(balanced_accuracy_score(y_rev, model.predict(X_rev))),
                balanced=float(balanced_accuracy_score(y_bal, predicted)),
                worst_cell=float(np.min(cells)), seconds=time.perf_counter() - start)


def diagnosis(setting, seed, epochs, device):
    """The confounding report on a training draw, with a fitted ERM."""
    X, y, d = _train_draw(setting, seed)
    erm = _quiet_fit(ERMClassifier(max_epochs=epochs, random_state=seed, device=device),
                     X, y, domains=d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        report = confounding_report(X, y, d, estimator=erm, random_state=seed)
    scores = report.estimator_scores
    gap = float(np.average(scores["gap"], weights=scores["n_samples"]))
    return dict(part="diagnosis", setting=setting, seed=seed, cramers_v=report.cramers_v,
                probe=float(np.nanmean(report.site_probe["balanced_accuracy"])),
                probe_chance=float(np.nanmean(report.site_probe["chance"])),
                erm_gap=gap, total=bool(report.totally_confounded))


def hospitals(method, seed, epochs, device):
    heart = fetch_heart_disease(download_if_missing=False)
    X, y, sites = heart.data, heart.target, heart.domains
    name, small = (method[:-len(", small MLP + wd")], True) if method.endswith("+ wd") \
        else (method, False)
    Estimator, params = METHODS[name]
    params = at_fixed_strength(Estimator, params)
    model = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(), Estimator(
        max_epochs=epochs, random_state=seed, device=device, **params,
        **(SMALL if small else {})))
    records = []
    for held_out in heart.domain_names:
        start = time.perf_counter()
        train = sites != held_out
        fitted = _quiet_fit(clone(model), X[train], y[train],
                            **{f"{model.steps[-1][0]}__domains": sites[train]})
        scores = per_domain_scores(fitted, X[~train], y[~train], sites[~train],
                                   metrics=HOSPITAL_METRICS)
        records.append(dict(part="hospitals", method=method, held_out=held_out, seed=seed,
                            seconds=time.perf_counter() - start,
                            **{m: float(scores[m][0]) for m in HOSPITAL_METRICS}))
    return records


def hospital_report():
    heart = fetch_heart_disease(download_if_missing=False)
    X = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()).fit_transform(
        heart.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return confounding_report(X, heart.target, heart.domains, random_state=0)


def _task(kind, *job):
    result = {"synthetic": synthetic, "diagnosis": diagnosis, "hospitals": hospitals}[kind](*job)
    return result if isinstance(result, list) else [result]


def run(args):
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    parts = [p for p in ("synthetic", "hospitals") if not args.only or p in args.only]
    jobs = []
    if "synthetic" in parts:
        jobs += [("diagnosis", setting, seed, args.epochs, args.device)
                 for setting in SETTINGS for seed in seeds]
        jobs += [("synthetic", setting, method, seed, args.epochs, args.device)
                 for setting in SETTINGS for method in [*METHODS, CEILING] for seed in seeds]
    if "hospitals" in parts:
        jobs += [("hospitals", method, seed, args.epochs, args.device)
                 for method in HOSPITAL_METHODS for seed in seeds]
    records = [r for batch in parallel_records(_task, jobs, args) for r in batch]
    if "hospitals" in parts:
        report = hospital_report()
        records.append(dict(part="hospital_report", text=report.summary(),
                            prevalence=[float(p) for p in report.label_table["prevalence"]],
                            sites=[str(s) for s in report.sites]))
    return records


def _synthetic_tables(records):
    diag = [r for r in records if r["part"] == "diagnosis"]
    rows = [[setting,
             mean_sd([r["cramers_v"] for r in diag if r["setting"] == setting], 2),
             mean_sd([r["probe"] for r in diag if r["setting"] == setting], 2) + " (chance "
             f"{np.mean([r['probe_chance'] for r in diag if r['setting'] == setting]):.2f})",
             mean_sd([r["erm_gap"] for r in diag if r["setting"] == setting]),
             "yes" if any(r["total"] for r in diag if r["setting"] == setting) else "no"]
            for setting in SETTINGS if any(r["setting"] == setting for r in diag)]
    parts = ["", "## The diagnosis along the knob (`confounding_report` on the training draw)",
             "", markdown_table(["site_label_dependence", "Cramér's V",
                                 "site probe within class (bal. acc.)",
                                 "ERM: raw - class-balanced accuracy", "warning: total"], rows)]
    fits = [r for r in records if r["part"] == "synthetic"]
    settings = [s for s in SETTINGS if any(r["setting"] == s for r in fits)]
    for metric, title in SYNTHETIC_METRICS.items():
        rows = [[method, *(mean_sd([r[metric] for r in fits
                                    if r["setting"] == s and r["method"] == method])
                           for s in settings)] for method in [*METHODS, CEILING]]
        parts += ["", f"## {title}", "", markdown_table(["method", *settings], rows)]
    return parts


def _hospital_tables(records):
    fits = [r for r in records if r["part"] == "hospitals"]
    sites = list(dict.fromkeys(r["held_out"] for r in fits))
    seeds = sorted({r["seed"] for r in fits})
    parts = []
    for metric in HOSPITAL_METRICS:
        rows = []
        for method in HOSPITAL_METHODS:
            cells = [mean_sd([r[metric] for r in fits
                              if r["method"] == method and r["held_out"] == site])
                     for site in sites]
            per_seed = [np.mean([r[metric] for r in fits
                                 if r["method"] == method and r["seed"] == s]) for s in seeds]
            rows.append([method, *cells, mean_sd(per_seed)])
        parts += ["", f"## Hospitals, leave one out: {metric.replace('_', ' ')}", "",
                  markdown_table(["method", *sites, "mean"], rows)]
    summary = [r for r in records if r["part"] == "hospital_report"]
    if summary:
        parts += ["", "## The hospitals' confounding report (pooled, imputed and scaled)", "",
                  "```", summary[0]["text"], "```"]
    return parts


def report(records, args, seconds):
    seeds = sorted({r["seed"] for r in records if "seed" in r})
    parts = [
        "# Site-label confounding",
        "",
        f"`python benchmarks/site_confounding.py --seeds {args.seeds}`; see the script's "
        f"docstring. Mean ± sd over seeds {seeds[0]}..{seeds[-1]}. No published figure uses "
        "these protocols.",
        "",
        run_stamp(args, seconds),
    ]
    if any(r["part"] == "synthetic" for r in records):
        parts += _synthetic_tables(records)
    if any(r["part"] == "hospitals" for r in records):
        parts += _hospital_tables(records)
    return "\n".join(parts) + "\n"


def plot(records, path):
    fits = [r for r in records if r["part"] == "synthetic"]
    if fits:
        bar_chart(grouped(fits, lambda r: r["setting"].split(" (")[0][:12], "reversed"), path,
                  "balanced accuracy, reversed balance")
    else:
        bar_chart(grouped([r for r in records if r["part"] == "hospitals"],
                          lambda r: r["held_out"], "balanced_accuracy"), path,
                  "balanced accuracy on the held-out hospital")


if __name__ == "__main__":
    args = accuracy_arguments(__doc__.splitlines()[0], seeds=5, epochs="auto", only=True)
    run_and_save("site_confounding", run, report, args, plot=plot)
