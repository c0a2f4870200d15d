"""Settings and small models the tests share (imported as ``helpers``; see pyproject's pythonpath).

Tiny networks and few epochs keep the suite within minutes on 2 cores; the
tests check behaviour, not accuracy.
"""

from pathlib import Path

import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from torch import nn

from skda.utils import all_estimators, estimator_info

#: every classifier, from the registry: what each must do (the contract tests) is checked
#: on all of them, a new method included without editing this file
CLASSIFIERS = [cls for _, cls in all_estimators("classifier")]

#: inputs passed as given and no weight decay: the conditions the mechanism tests'
#: thresholds were measured under before the tabular defaults (input_scaling="standard",
#: weight decay 3e-3) existed; both regularize every head, the adversaries' too
AS_GIVEN = dict(input_scaling=None, optimizer__weight_decay=0.0)

#: the weight decay fixed at 3e-3, the tabular default before "auto" chose it per fit: the
#: mechanism tests' thresholds were measured under it, they measure one fit (not four ERM
#: fits first), and their callbacks read the method's own modules, which ERM lacks
FIXED_DECAY = dict(optimizer__weight_decay=3e-3)

#: a small MLP trained for 3 epochs, seeded, in one fit (the weight decay given: the default
#: "auto" is tested in tests/model_selection/test_weight_decay.py and the contract tests)
TINY = dict(hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0,
            **FIXED_DECAY)

#: the default ConvNet for 2 epochs on the CPU, seeded
TINY_IMAGES = dict(max_epochs=2, batch_size=64, random_state=0, device="cpu")


class TinyCNN(nn.Module):
    """A user backbone that needs the image shape."""

    def __init__(self, input_shape, width=5):
        super().__init__()
        self.conv = nn.Conv2d(input_shape[0], width, 3, padding=1)

    def forward(self, X):
        return torch.relu(self.conv(X)).mean(dim=(2, 3))

def domain_probe_accuracy(features, domains):
    """Cross-validated accuracy of a fresh logistic regression predicting the domain."""
    return cross_val_score(LogisticRegression(max_iter=2000), features, domains, cv=5).mean()


#: the repository's root (examples/, benchmarks/ and the package beside tests/)
REPO = Path(__file__).resolve().parents[1]


def fixed_strength(Estimator):
    """``{"lambda_": 1.0}`` where ``Estimator``'s strength defaults to ``"auto"``, else ``{}``.

    ``"auto"`` trains six candidates; a test of a method's mechanism measures
    one fit at the paper's strength.
    """
    info = estimator_info(Estimator)
    return {info.strength_param: 1.0} if info.strength_default == "auto" else {}
