"""Training: the one loop, its losses, maximum-likelihood and adversarial trainers, the classifier."""

from .adversarial import AdversarialModel, WassersteinObjective, fit_adversarial
from .classify import FlowClassifier
from .critic import Critic
from .history import History
from .loop import Phase, fit
from .losses import NegativeLogLikelihood
from .maximum_likelihood import fit_flow
from .physics_vae import PhysicsVAE, fit_physics_vae
from .vae import CVAE, EvidenceLowerBound, fit_cvae

__all__ = ["AdversarialModel", "CVAE", "Critic", "EvidenceLowerBound", "FlowClassifier", "History", "NegativeLogLikelihood", "Phase", "PhysicsVAE",
           "WassersteinObjective", "fit", "fit_adversarial", "fit_cvae", "fit_flow", "fit_physics_vae"]
