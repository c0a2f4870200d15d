"""Diagnostics: did DANN align the domains, and what did it cost on each domain?

Rotated moons with an unlabeled target. We fit ERM and DANN, print each
domain's scores, measure the proxy A-distance between source and target on
the inputs and on each model's features, and save three pictures: the
per-domain accuracy bars, a t-SNE map of the features coloured by domain and
by class, and DANN's training curves.

Run ``python examples/diagnostics.py [output folder]`` (default: docs/pictures).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import numpy as np
from sklearn.svm import SVC

from skda import DANNClassifier, ERMClassifier
from skda.datasets import make_rotated_moons
from skda.metrics import per_domain_scores, proxy_a_distance
from skda.plot import plot_domain_scores, plot_embedding, plot_training_curves

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "docs/pictures"
out.mkdir(parents=True, exist_ok=True)

X, y, domains = make_rotated_moons(random_state=0)  # the demo's data
target = domains == "target"
y_train = np.where(target, -1, y)  # the target's labels are never seen

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

# How well an RBF SVM tells source from target: on the inputs, then on the features.
features = {"inputs": X, **{f"{name} features": m.transform(X) for name, m in models.items()}}
for name, Z in features.items():
    distance = proxy_a_distance(Z[~target], Z[target], classifier=SVC(), random_state=0)
    print(f"proxy A-distance, {name}: {distance:.2f}")

ax = plot_domain_scores(models, X, y, domains)
ax.figure.savefig(out / "domain_scores.png", dpi=110, bbox_inches="tight")
fig = plot_embedding(models, X, y_train, domains, method="tsne", random_state=0)
fig.savefig(out / "embedding.png", dpi=110, bbox_inches="tight")
fig = plot_training_curves(models["DANN"])
fig.savefig(out / "training_curves.png", dpi=110, bbox_inches="tight")
print("pictures saved in", out)
