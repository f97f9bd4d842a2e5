"""tfp_physflow: physics-aware normalizing flows on TensorFlow Probability.

The flat public API; docs/design.md maps the packages: ``bijectors`` (pure
math), ``nn`` (conditioner networks), ``bijector_layers`` and ``flows``,
``physics`` (circuits, simulators), ``models`` (classifier, VAEs, critic),
``train`` (the one loop), ``export`` (SavedModels), ``data``, ``metrics``,
``plots``, ``cli`` (the ``physflow`` command).
"""

import os as _os

# TensorFlow's C++ start-up chatter (oneDNN, CUDA probing, XLA service lines)
# hides our progress and results; a user's own setting wins.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras as _keras  # noqa: E402

if _keras.backend.backend() != "tensorflow":
    raise ImportError("tfp_physflow needs the TensorFlow Keras backend; "
                      f"KERAS_BACKEND is {_keras.backend.backend()!r}: unset it or set it to 'tensorflow'")

from .bijectors import (  # noqa: E402
    Affine, AffineCoupling, Coupling, DiagonalAffine, Exp, FlowBijector, LULinear, MaskedAutoregressive, Permutation,
    Planar, RationalQuadratic, Reverse, Softplus, SplineCoupling, UnitInterval)
from . import data, metrics, physics, plots  # noqa: E402
from .export import (  # noqa: E402
    export_circuit_posterior, export_classifier, export_conditional_sampler, export_flow, export_physics_flow,
    load_circuit_posterior)
from .flows import KINDS, Flow, make_flow  # noqa: E402
from .nn import MLP, MaskedMLP, ResidualMLP  # noqa: E402
from .physics import (  # noqa: E402
    Circuit, CircuitPosterior, ImpedanceLayer, PhysicsFlow, fit_circuit, fit_circuit_posterior, make_circuit_posterior,
    make_physics_flow)
from .plots import plot_history  # noqa: E402
from .models import (  # noqa: E402
    CVAE, AdversarialModel, Critic, FlowClassifier, PhysicsVAE, fit_adversarial, fit_cvae, fit_physics_vae,
    train_physics_flow)
from .train import History, WassersteinObjective, fit, fit_flow  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "AdversarialModel", "Affine", "AffineCoupling", "CVAE", "Coupling", "Circuit", "CircuitPosterior", "Critic", "DiagonalAffine", "Exp", "Flow", "FlowBijector",
    "FlowClassifier", "History", "ImpedanceLayer", "KINDS", "LULinear", "MLP", "MaskedAutoregressive", "MaskedMLP",
    "Permutation", "PhysicsFlow", "PhysicsVAE", "Planar", "RationalQuadratic", "ResidualMLP", "Reverse", "Softplus", "SplineCoupling", "UnitInterval",
    "WassersteinObjective", "data", "export_circuit_posterior", "export_classifier", "export_conditional_sampler", "export_flow", "export_physics_flow", "fit",
    "fit_adversarial", "fit_circuit", "fit_circuit_posterior", "fit_cvae", "fit_flow", "fit_physics_vae", "load_circuit_posterior", "make_circuit_posterior", "make_flow",
    "make_physics_flow", "metrics", "physics",
    "plot_history", "plots", "train_physics_flow",
]
