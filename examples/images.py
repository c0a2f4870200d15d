"""
Images: domain generalization to an unseen style of digits
==========================================================

The bundled 8x8 digits in six styles (colour and background texture). Each
estimator trains on five styles and is scored on the held-out one, plain grey
digits, with the default small ConvNet built from the image shape.
SagNetClassifier also gets a train-time augmentation: random shifts of up to
one pixel.
"""

import torch

from skda import ERMClassifier, SagNetClassifier
from skda.datasets import make_shifted_digits

X, y, domains = make_shifted_digits("style", random_state=0)  # X: (1797, 3, 8, 8)
held_out = domains == "gray"


def random_shift(X_batch):
    """Roll the whole batch by up to one pixel in each direction (a tensor in, a tensor out)."""
    dx, dy = torch.randint(-1, 2, (2,)).tolist()
    return torch.roll(X_batch, shifts=(dx, dy), dims=(2, 3))


for clf in [
    ERMClassifier(max_epochs=15, random_state=0),
    SagNetClassifier(max_epochs=15, augment=random_shift, random_state=0),
]:
    clf.fit(X[~held_out], y[~held_out], domains=domains[~held_out])
    print(f"{type(clf).__name__}: accuracy on the unseen 'gray' style "
          f"{clf.score(X[held_out], y[held_out]):.3f}")
