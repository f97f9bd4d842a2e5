"""tfp_physflow: physics-aware normalizing flows on TensorFlow Probability."""

import keras as _keras

if _keras.backend.backend() != "tensorflow":
    raise ImportError("tfp_physflow needs the TensorFlow Keras backend; "
                      f"KERAS_BACKEND is {_keras.backend.backend()!r}: unset it or set it to 'tensorflow'")

from .bijectors import (  # noqa: E402
    AffineCoupling, DiagonalAffine, Exp, FlowBijector, LULinear, MaskedAutoregressive, Permutation,
    Planar, Reverse, Softplus, SplineCoupling)
from . import data, metrics, physics, plots  # noqa: E402
from .export import export_classifier, export_flow  # noqa: E402
from .flows import KINDS, Flow, make_flow  # noqa: E402
from .nn import MLP, MaskedMLP, ResidualMLP  # noqa: E402
from .physics import Circuit, ImpedanceLayer, fit_circuit  # noqa: E402
from .plots import plot_history  # noqa: E402
from .train import FlowClassifier, History, fit, fit_flow  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "AffineCoupling", "Circuit", "DiagonalAffine", "Exp", "Flow", "FlowBijector", "FlowClassifier", "History", "ImpedanceLayer", "KINDS", "LULinear", "MLP",
    "MaskedAutoregressive", "MaskedMLP", "Permutation", "Planar", "ResidualMLP", "Reverse", "Softplus",
    "SplineCoupling", "data", "export_classifier", "export_flow", "fit", "fit_circuit", "fit_flow", "make_flow", "metrics", "physics",
    "plot_history", "plots",
]
