"""CDANN: alignment within each class keeps the class signal that marginal alignment erases."""

import numpy as np
from helpers import FIXED_DECAY, TINY
from sklearn.metrics import balanced_accuracy_score

from skda import CDANNClassifier, DANNClassifier, ERMClassifier
from skda.datasets import make_site_shift


def test_conditional_alignment_keeps_the_classes_when_domains_hold_them_in_other_shares():
    # p(x | y) is the same in both sites, only the class shares differ (10% / 90%):
    # hiding the site from the features as a whole means hiding the class
    X, y, d = make_site_shift(n_sites=2, n_samples=400, covariate_shift=0.0,
                              site_label_dependence=0.8, random_state=0, rows_random_state=1)
    X_test, y_test, _ = make_site_shift(n_sites=2, n_samples=1000, covariate_shift=0.0,
                                        prevalence=[0.5, 0.5], random_state=0,
                                        rows_random_state=2)
    params = dict(hidden_layer_sizes=(16,), max_epochs=40, random_state=0, **FIXED_DECAY)
    scores = {
        name: balanced_accuracy_score(y_test, model.fit(X, y, domains=d).predict(X_test))
        for name, model in [("ERM", ERMClassifier(**params, lr=1e-2)),
                            ("DANN", DANNClassifier(**params, lambda_=3.0)),
                            ("CDANN", CDANNClassifier(**params, lambda_=3.0))]}
    assert scores["DANN"] < scores["ERM"] - 0.08, scores
    assert scores["CDANN"] > scores["ERM"] - 0.03, scores


def test_unlabeled_rows_join_the_domain_loss_with_predicted_classes(moons_uda):
    X, y, d = moons_uda
    clf = CDANNClassifier(**TINY).fit(X, y, domains=d)
    history = clf.net_.history[-1]
    assert np.isfinite(history["train_domain_loss"]) and 0 <= history["train_domain_acc"] <= 1
    # the discriminator reads the 8 features and the 2 class probabilities
    assert clf.net_.module_.discriminator[0].in_features == 10
