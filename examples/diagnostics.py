"""
Diagnostics: did DANN align the domains, and what did it cost?
==============================================================

Rotated moons with an unlabeled target (the data of ``python -m skda.demo``).
We fit ERM and DANN, print each domain's scores, measure the proxy
A-distance between source and target on the inputs and on each model's
features, and draw three pictures: the per-domain accuracy bars, a t-SNE map
of the features coloured by domain and by class, and DANN's training curves.

Run it as ``python examples/diagnostics.py [--out FOLDER]``: the pictures are
saved as PNG files in ``FOLDER`` (default: the current directory). The
rendered gallery page shows the same figures.
"""

import argparse
from pathlib import Path

import numpy as np
from sklearn.svm import SVC

from skda import DANNClassifier, ERMClassifier
from skda.datasets import make_rotated_moons
from skda.metrics import per_domain_scores, proxy_a_distance
from skda.plot import plot_domain_scores, plot_embedding, plot_training_curves

parser = argparse.ArgumentParser(description="ERM and DANN diagnostics on rotated moons.")
parser.add_argument("--out", type=Path, default=Path("."),
                    help="folder for the PNG files (default: the current directory)")
# parse_known_args: a notebook kernel's own arguments are ignored
out = parser.parse_known_args()[0].out
out.mkdir(parents=True, exist_ok=True)

# %%
# Fit ERM and DANN, the target's labels hidden
# --------------------------------------------
#
# ``y_train`` marks every target row ``-1`` (unlabeled): DANN uses the target
# inputs for its domain loss, ERM ignores them. ``y`` keeps the true labels,
# used below only to score the models and to colour a picture.

X, y, domains = make_rotated_moons(random_state=0)
target = domains == "target"
y_train = np.where(target, -1, y)

params = dict(hidden_layer_sizes=(15,), lr=1e-2, batch_size=64, max_epochs=300,
              random_state=0)
models = {
    "ERM": ERMClassifier(**params).fit(X, y_train, domains=domains),
    "DANN": DANNClassifier(**params, lambda_=1.0).fit(X, y_train, domains=domains),
}

for name, model in models.items():
    table = per_domain_scores(model, X, y, domains)
    print(f"{name}: accuracy", dict(zip(table["domain"].tolist(),
                                        table["accuracy"].round(3).tolist(), strict=True)))

# %%
# Are the domains still told apart?
# ---------------------------------
#
# The proxy A-distance is ``2 (1 - 2 err)``, with ``err`` the error of a
# classifier (here an RBF SVM) that is fitted on half of the rows to tell
# source from target and scored on the other half: about 0 when the domains
# cannot be told apart, 2 when they never overlap. Measured on the inputs,
# then on each model's features (``transform(X)``).

features = {"inputs": X, **{f"{name} features": m.transform(X) for name, m in models.items()}}
for name, Z in features.items():
    distance = proxy_a_distance(Z[~target], Z[target], classifier=SVC(), random_state=0)
    print(f"proxy A-distance, {name}: {distance:.2f}")

# %%
# Accuracy on each domain
# -----------------------
#
# One bar per model and domain. What adaptation gains on the target and
# what, if anything, it costs on the source.

ax = plot_domain_scores(models, X, y, domains)
ax.figure.savefig(out / "domain_scores.png", dpi=110, bbox_inches="tight")

# %%
# The features, by domain and by class
# ------------------------------------
#
# A t-SNE map of each model's features. Left: coloured by domain; aligned
# features mix source and target. Right: coloured by class. Mixed domains do
# not prove that the classes line up (a model could lay the target's class
# 0 on the source's class 1), so the target rows, unlabeled in training, are
# coloured here by their true class (``y_true=y``) and drawn as crosses.
# These labels only colour the points: nothing is fitted on them.

# sphinx_gallery_thumbnail_number = 2
fig = plot_embedding(models, X, y_train, domains, y_true=y, method="tsne", random_state=0)
fig.savefig(out / "embedding.png", dpi=110, bbox_inches="tight")

# %%
# DANN's training curves
# ----------------------
#
# Left, the losses per epoch: the label loss, the discriminator's domain
# loss, and their sum. Right, the discriminator's accuracy, with the chance
# level of a discriminator on the training batches (each holds an equal
# share of both domains, so 1/2). That accuracy is measured on the batches
# the discriminator trains on, while it trains: it can stay above chance
# while the proxy A-distance above, a fresh classifier scored on held-out
# rows of the final features, finds the domains aligned. The two measure
# different things.

fig = plot_training_curves(models["DANN"])
fig.savefig(out / "training_curves.png", dpi=110, bbox_inches="tight")
print("saved domain_scores.png, embedding.png and training_curves.png in", out.resolve())
