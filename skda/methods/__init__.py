"""The estimators: one module per method, each a network plus its loss."""

from .base import DomainClassifier, DomainEstimator, DomainRegressor
from .caada import CAADA, CAADAClassifier
from .ccsa import CCSA, CCSAClassifier
from .cdan import CDAN, CDANClassifier
from .cdann import CDANN, CDANNClassifier
from .coral import DeepCORAL, DeepCORALClassifier
from .dann import DANN, AdversarialEstimator, DANNClassifier, DANNRegressor
from .ddaig import DDAIG, DDAIGClassifier
from .erm import ERM, ERMClassifier, ERMRegressor
from .groupdro import GroupDRO, GroupDROClassifier
from .irm import IRM, IRMClassifier, PenaltyEstimator
from .l2aot import L2AOT, L2AOTClassifier
from .mcc import MCC, MCCClassifier
from .mixup import Mixup, MixupClassifier
from .mmd import MMD, MMDClassifier
from .sagnet import SagNet, SagNetClassifier
from .vrex import VREx, VRExClassifier

__all__ = [
    "AdversarialEstimator",
    "CAADA",
    "CAADAClassifier",
    "CCSA",
    "CCSAClassifier",
    "CDAN",
    "CDANClassifier",
    "CDANN",
    "CDANNClassifier",
    "DANN",
    "DANNClassifier",
    "DANNRegressor",
    "DDAIG",
    "DDAIGClassifier",
    "DeepCORAL",
    "DeepCORALClassifier",
    "DomainClassifier",
    "DomainEstimator",
    "DomainRegressor",
    "ERM",
    "ERMClassifier",
    "ERMRegressor",
    "GroupDRO",
    "GroupDROClassifier",
    "IRM",
    "IRMClassifier",
    "L2AOT",
    "L2AOTClassifier",
    "MCC",
    "MCCClassifier",
    "MMD",
    "MMDClassifier",
    "Mixup",
    "MixupClassifier",
    "PenaltyEstimator",
    "SagNet",
    "SagNetClassifier",
    "VREx",
    "VRExClassifier",
]
