"""Trainable models that are not flows, each with its trainer: the density classifier, the
conditional and physics-integrated VAEs, the Wasserstein critic and the adversarial pair."""

from .adversarial import AdversarialModel, fit_adversarial, train_physics_flow
from .classifier import FlowClassifier
from .critic import Critic
from .cvae import CVAE, fit_cvae
from .physics_vae import PhysicsVAE, fit_physics_vae

__all__ = ["AdversarialModel", "CVAE", "Critic", "FlowClassifier", "PhysicsVAE", "fit_adversarial", "fit_cvae",
           "fit_physics_vae", "train_physics_flow"]
