"""
Site bias: does my classifier read the site instead of the disease?
===================================================================

Healthy subjects were recorded mostly at some sites, patients at others.
A classifier can then score well by recognising the site. We simulate this
with :func:`skda.datasets.make_site_shift`: four sites whose features reveal
the site (``covariate_shift=2``), sites 0 and 2 with 10% patients, sites 1
and 3 with 90% (``site_label_dependence=0.8``), and a rule ``p(y | x)``
that holds at every site (the disease signal).

1. :func:`skda.metrics.confounding_report` measures how much the label
   depends on the site, how much the features reveal the site within each
   class, and, for a fitted model, whether it leans on the site.
2. We train ERM, ERM with every site x class group weighted the same
   (``class_weight="balanced_per_domain"``), and CDANN (class-conditional
   alignment of the sites), and test them on new patients from the same
   sites with the class balance reversed.
3. When a site holds a single class, the report warns that site and label
   cannot be separated, whatever the method.

Run it as ``python examples/site_bias.py [--out FOLDER]``: the picture is
saved as ``confounding.png`` in ``FOLDER`` (default: the current directory).
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from skda import CDANNClassifier, ERMClassifier
from skda.datasets import make_site_shift
from skda.metrics import ConfoundingWarning, confounding_report
from skda.plot import plot_confounding

parser = argparse.ArgumentParser(description="Diagnose and remove a site shortcut.")
parser.add_argument("--out", type=Path, default=Path("."),
                    help="folder for the PNG file (default: the current directory)")
# parse_known_args: a notebook kernel's own arguments are ignored
args, _ = parser.parse_known_args()

# %%
# Confounded training sites, and a test draw from the same sites
# --------------------------------------------------------------
# The same ``random_state`` gives the same sites; ``rows_random_state`` draws
# new rows. In the test draw a site of mostly controls sends mostly patients.

sites = dict(covariate_shift=2.0, random_state=0)
X, y, domains = make_site_shift(site_label_dependence=0.8, rows_random_state=1, **sites)
prevalence = [y[domains == s].mean() for s in np.unique(domains)]
X_test, y_test, _ = make_site_shift(prevalence=[1 - p for p in prevalence],
                                    rows_random_state=2, n_samples=500, **sites)
print("share of patients per training site:", np.round(prevalence, 2))

# %%
# The diagnosis, with a fitted ERM
# --------------------------------
erm = ERMClassifier(random_state=0).fit(X, y, domains=domains)
report = confounding_report(X, y, domains, estimator=erm, random_state=0)
print(report.summary())
fig = plot_confounding(report)
fig.savefig(args.out / "confounding.png", dpi=100, bbox_inches="tight")

# %%
# Methods that keep the disease signal
# ------------------------------------
# Balanced accuracy on the reversed-balance test draw: a model that bets on
# each site's usual class is wrong where it was confident.
models = {
    "ERM": erm,
    "ERM, balanced per site": ERMClassifier(
        class_weight="balanced_per_domain", random_state=0),
    # a fixed strength: lambda_="auto" would keep ERM here, as the sites' class
    # mixes differ by design (its class-mix check)
    "CDANN, balanced per site": CDANNClassifier(
        lambda_=1.0, class_weight="balanced_per_domain", random_state=0),
}
for name, model in models.items():
    if model is not erm:
        model.fit(X, y, domains=domains)
    score = balanced_accuracy_score(y_test, model.predict(X_test))
    print(f"{name}: balanced accuracy with the class balance reversed {score:.3f}")

# %%
# The limit: a site that holds a single class
# -------------------------------------------
# Controls recorded at one site and patients at three: there site and label
# are one variable, and no method can tell which one a model reads.
X, y, domains = make_site_shift(prevalence=[0.0, 1.0, 1.0, 1.0], rows_random_state=1,
                                **sites)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    report = confounding_report(X, y, domains, random_state=0)
print(next(str(w.message) for w in caught if issubclass(w.category, ConfoundingWarning)))
