"""The estimators: one module per method, each a network plus its loss.

``__all__`` is the list of estimators, written here once: :mod:`skda`
re-exports it and :func:`skda.utils.all_estimators` reads it. The other
names (the shared bases, the method families, each method's torch module)
are public here but not at the top level; ``name as name`` marks them as
re-exported.
"""

from .base import DomainClassifier as DomainClassifier
from .base import DomainEstimator as DomainEstimator
from .base import DomainRegressor as DomainRegressor
from .caada import CAADA as CAADA
from .caada import CAADAClassifier
from .ccsa import CCSA as CCSA
from .ccsa import CCSAClassifier
from .cdan import CDAN as CDAN
from .cdan import CDANClassifier
from .cdann import CDANN as CDANN
from .cdann import CDANNClassifier
from .coral import DeepCORAL as DeepCORAL
from .coral import DeepCORALClassifier
from .dann import DANN as DANN
from .dann import AdversarialEstimator as AdversarialEstimator
from .dann import DANNClassifier, DANNRegressor
from .ddaig import DDAIG as DDAIG
from .ddaig import DDAIGClassifier
from .erm import ERM as ERM
from .erm import ERMClassifier, ERMRegressor
from .groupdro import GroupDRO as GroupDRO
from .groupdro import GroupDROClassifier
from .irm import IRM as IRM
from .irm import IRMClassifier
from .irm import PenaltyEstimator as PenaltyEstimator
from .l2aot import L2AOT as L2AOT
from .l2aot import L2AOTClassifier
from .mcc import MCC as MCC
from .mcc import MCCClassifier
from .mixup import Mixup as Mixup
from .mixup import MixupClassifier
from .mmd import MMD as MMD
from .mmd import MMDClassifier
from .sagnet import SagNet as SagNet
from .sagnet import SagNetClassifier
from .vrex import VREx as VREx
from .vrex import VRExClassifier

__all__ = [
    "CAADAClassifier",
    "CCSAClassifier",
    "CDANClassifier",
    "CDANNClassifier",
    "DANNClassifier",
    "DANNRegressor",
    "DDAIGClassifier",
    "DeepCORALClassifier",
    "ERMClassifier",
    "ERMRegressor",
    "GroupDROClassifier",
    "IRMClassifier",
    "L2AOTClassifier",
    "MCCClassifier",
    "MMDClassifier",
    "MixupClassifier",
    "SagNetClassifier",
    "VRExClassifier",
]
