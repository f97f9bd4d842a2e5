"""PhysicsFlow: a flow of circuit parameters, each on its physical support, behind the circuit layer.

g~ = Z_omega o g_theta (Schindler & Schmid, Eq. 5): a normalizing flow g
emits positive circuit parameters, the circuit turns them into spectra. The
composite is differentiable, not invertible, and trains adversarially
(``models.adversarial``); the parameter flow itself keeps its density.
"""

import keras
import numpy as np
import tensorflow as tf

from ..flows import make_flow
from ..validation import check_finite_array
from .circuits import DEFAULT_CIRCUIT, Circuit
from .fitting import fit_circuit
from .layers import ImpedanceLayer


class PhysicsFlow(keras.Model):
    """A parameter ``Flow`` (positive outputs) and an ``ImpedanceLayer``.

    Attributes: ``flow`` (parameters, with log_prob), ``layer`` (parameters
    -> features), ``parameter_names``.
    Example:
      >>> data = pf.data.simulate_impedance(100, seed=0)
      >>> model = make_physics_flow("linear", data.spectra, data.frequencies)
      >>> params, z = model.sample_spectra(1000, seed=0)
      >>> params.shape, z.shape, z.dtype.name                 # parameters and complex spectra
      (TensorShape([1000, 3]), TensorShape([1000, 48]), 'complex64')
    """

    def __init__(self, flow, layer, **kwargs):
        super().__init__(**kwargs)
        if flow.event_dim != layer.circuit.num_parameters or flow.condition_dim is not None:
            raise ValueError(f"the flow must be unconditional with {layer.circuit.num_parameters} outputs "
                             f"(the parameters of {layer.circuit.text!r}), got event_dim={flow.event_dim}")
        self.flow, self.layer = flow, layer
        self.parameter_names = tuple(layer.circuit.parameter_names)
        self.built = True

    def sample_parameters(self, n, seed=None):
        """(n, P) circuit parameters, interchangeable blocks fastest first (``Circuit.in_order``)."""
        return self.layer.circuit.in_order(self.flow.sample(n, seed=seed))

    def sample_spectra(self, n, seed=None):
        """(parameters (n, P), complex spectra (n, K))."""
        params = self.sample_parameters(n, seed)
        return params, self.layer.impedance(params)

    def sample_features(self, n, seed=None):
        """(parameters (n, P), features (n, F)): what the critic sees of generated spectra. The training
        step's: parameters in the flow's own order (the spectra do not depend on the arcs' labels)."""
        params = self.flow.sample(n, seed=seed)
        return params, self.layer(params)

    def features(self, spectra):
        """Features of measured complex spectra (N, K), made exactly as for generated ones."""
        return self.layer.features(tf.convert_to_tensor(spectra, tf.complex64 if self.compute_dtype == "float32"
                                                        else tf.complex128))


def start_from_fits(parameters, circuit=DEFAULT_CIRCUIT):
    """``make_flow`` options that start a physics-aware flow near fitted parameters (M, P).

    ``scale``: the median of each parameter (the median, not the mean: with
    several CPEs or Warburgs a few fits end in a distant local minimum;
    measured, a geometric mean put CPE alpha at 0.04 where the truth was
    0.82). ``spread``: the robust standard deviation (1.4826 x median
    absolute deviation) of each log-parameter (logit for exponents), within
    [0.05, 1]: the untrained flow starts as a log-normal around the fits
    instead of a width of e per standard deviation in every direction.
    Exponent scales are kept within [0.02, 0.98] (a fitted alpha of exactly 1 has no logit).
    """
    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    parameters = np.asarray(parameters, np.float64)
    logs = circuit.unconstrained(parameters)
    spread = 1.4826 * np.median(np.abs(logs - np.median(logs, axis=0)), axis=0)
    scale = np.median(parameters, axis=0)
    unit = np.array([support == "unit" for support in circuit.parameter_supports()])
    scale[unit] = np.clip(scale[unit], 0.02, 0.98)  # a typical exponent strictly inside (0, 1)
    return {"scale": list(scale), "spread": list(np.clip(spread, 0.05, 1.0))}


def initial_fits(spectra, circuit=DEFAULT_CIRCUIT, frequencies=None, num=64, seed=0):
    """``fit_circuit`` parameters (num, P) of ``num`` of the spectra (no labels involved)."""
    spectra = np.asarray(spectra)
    rows = np.random.default_rng(seed).permutation(len(spectra))[:num]
    return fit_circuit(spectra[rows], circuit, frequencies, restarts=16, refine=4).parameters


def make_physics_flow(kind, spectra, frequencies, circuit=DEFAULT_CIRCUIT, *, positive="exp", scale="auto",
                      representation="bode", finite_differences=True, dtype="float32", **flow_kwargs):
    """Builds a PhysicsFlow for measured, unlabeled spectra.

    Args:
      kind: flow kind for the parameters ("diagonal", "linear", "realnvp",
        "nsf", "maf"; see ``make_flow``).
      spectra: complex (N, K) measured spectra. They set the feature
        normalisation and, with ``scale="auto"``, the starting scale; no
        parameter values are needed.
      frequencies: (K,) Hz of the spectra.
      circuit: circuit string whose parameters the flow emits.
      positive: "exp" (default) or "softplus": parameters positive by
        construction, and CPE exponents on (0, 1) through a logistic map
        (``Circuit.parameter_supports``), so every spectrum the untrained flow
        makes is finite. With "exp" a learnable output scale is appended (the
        paper's diagonal scaling layer); "softplus" takes ``scale=None``.
      scale: "auto" (start at ``fit_circuit`` of 64 spectra: ``start_from_fits``
        sets the scale and the spread), None, or P typical magnitudes.
      representation, finite_differences: features the critic sees (``ImpedanceLayer``).
      **flow_kwargs: passed to ``make_flow`` (num_layers, hidden_units, ...).
    """
    spectra = np.asarray(spectra)
    if spectra.ndim != 2 or not np.iscomplexobj(spectra):
        raise ValueError(f"spectra must be complex of shape (N, K), got {spectra.dtype} {spectra.shape}")
    check_finite_array(spectra, "spectra")
    frequencies = np.asarray(frequencies, np.float64)
    if spectra.shape[1] != len(frequencies):
        raise ValueError(f"spectra have {spectra.shape[1]} frequencies but frequencies has {len(frequencies)}")
    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    if isinstance(scale, str):
        if scale != "auto":
            raise ValueError(f"scale must be 'auto', None or a list of magnitudes, got {scale!r}")
        start = start_from_fits(initial_fits(spectra, circuit, frequencies), circuit)
        scale, flow_kwargs = start["scale"], {"spread": start["spread"], **flow_kwargs}
    layer = ImpedanceLayer(circuit, frequencies, representation, finite_differences, dtype=dtype)
    layer = ImpedanceLayer(circuit, frequencies, representation, finite_differences,
                           normalization=layer.fit_normalization(spectra), dtype=dtype)
    unit = [i for i, support in enumerate(circuit.parameter_supports()) if support == "unit"]
    if scale is not None:
        scale = np.array(scale, np.float64)
        if scale.shape != (circuit.num_parameters,):
            raise ValueError(f"scale must hold {circuit.num_parameters} magnitudes, one per parameter "
                             f"{circuit.parameter_names}, got shape {scale.shape}")
        scale[unit] = np.clip(scale[unit], 0.02, 0.98)  # a typical exponent, strictly inside (0, 1)
    flow = make_flow(kind, circuit.num_parameters, positive=positive, unit=unit,
                     scale=None if scale is None else list(scale), dtype=dtype, **flow_kwargs)
    return PhysicsFlow(flow, layer, name=f"physics_{kind}", dtype=dtype)
