"""Differentiable physics: equivalent circuits, their Keras layer, circuit fitting, physics flows."""

from .baselines import fit_baselines, flow_of_fits, gaussian_of_fits, resample_fits
from .circuits import DEFAULT_CIRCUIT, ELEMENTS, Circuit, check_frequencies
from .fitting import CircuitFit, fit_circuit
from .generator import PhysicsFlow, estimate_noise, initial_fits, make_physics_flow, start_from_fits
from .layers import ImpedanceLayer, default_frequencies, spectrum_features
from .posterior import CircuitPosterior, fit_circuit_posterior, make_circuit_posterior
from .priors import BoxPrior, GeneratorPrior

__all__ = ["Circuit", "CircuitFit", "DEFAULT_CIRCUIT", "ELEMENTS", "ImpedanceLayer", "PhysicsFlow", "check_frequencies",
           "default_frequencies", "fit_circuit", "estimate_noise", "initial_fits", "make_physics_flow", "spectrum_features",
           "start_from_fits", "fit_baselines", "flow_of_fits", "gaussian_of_fits", "resample_fits", "BoxPrior", "CircuitPosterior",
           "GeneratorPrior", "fit_circuit_posterior", "make_circuit_posterior"]
