"""
Quickstart: choose DANN's adaptation strength by holding out whole domains
==========================================================================

Four domains of the two-moons problem, each rotated a little further. For
every value of ``lambda_``, GridSearchCV trains on three domains and scores
on the fourth (LeaveOneDomainOut), so the chosen value is the one that
generalizes best to a domain never seen in training.
"""

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skda import DANNClassifier
from skda.datasets import make_rotated_moons
from skda.model_selection import LeaveOneDomainOut

# Four domains: the moons rotated by 0, 20, 40 and 60 degrees.
parts = [make_rotated_moons(n_samples=100, angle=angle, random_state=k)
         for k, angle in enumerate([0, 20, 40, 60])]
X = np.vstack([X_k[y_k.size // 2:] for X_k, y_k, _ in parts])  # each call's rotated half
y = np.concatenate([y_k[y_k.size // 2:] for _, y_k, _ in parts])
domains = np.repeat(["0deg", "20deg", "40deg", "60deg"], 100)

pipe = make_pipeline(
    StandardScaler(),
    DANNClassifier(hidden_layer_sizes=(32,), max_epochs=40, lr=1e-2, random_state=0),
)
search = GridSearchCV(
    pipe,
    param_grid={"dannclassifier__lambda_": [0.0, 0.3, 1.0]},
    cv=LeaveOneDomainOut(),
)
# `groups` tells the splitter which domain to hold out; `domains` tells DANN
# which domain each training row comes from.
search.fit(X, y, groups=domains, dannclassifier__domains=domains)

for lam, score in zip(search.cv_results_["param_dannclassifier__lambda_"],
                      search.cv_results_["mean_test_score"], strict=True):
    print(f"lambda_={lam:<4} held-out-domain accuracy {score:.3f}")
print("best:", search.best_params_)
