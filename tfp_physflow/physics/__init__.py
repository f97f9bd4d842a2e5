"""Differentiable physics: equivalent circuits, their Keras layer, circuit fitting."""

from .circuits import DEFAULT_CIRCUIT, ELEMENTS, Circuit, check_frequencies
from .fitting import CircuitFit, fit_circuit
from .layers import ImpedanceLayer, default_frequencies, spectrum_features

__all__ = ["Circuit", "CircuitFit", "DEFAULT_CIRCUIT", "ELEMENTS", "ImpedanceLayer", "check_frequencies",
           "default_frequencies", "fit_circuit", "spectrum_features"]
