"""Simulated epithelial impedance spectra, in the spirit of the HT-29/B6 data
of the physics-aware flows paper (Schindler & Schmid): the embedded default
data set of the main job."""

from dataclasses import dataclass

import numpy as np

from ..physics.circuits import DEFAULT_CIRCUIT, Circuit
from ..physics.layers import default_frequencies

# Uniform ranges per parameter of the default circuit (per cm^2 of epithelium):
# Rs (subepithelial/solution) 10-40 Ohm cm^2, Re (epithelial) 200-700 Ohm cm^2,
# Ce (epithelial capacitance) 1-6 uF/cm^2, in F.
DEFAULT_RANGES = {"Rs": (10.0, 40.0), "Re": (200.0, 700.0), "Ce": (1e-6, 6e-6)}


@dataclass
class ImpedanceData:
    """Spectra and the ground truth, kept apart: give training code ``spectra`` only.

    spectra: complex (N, K) impedances (Ohm cm^2), with measurement noise.
    parameters: (N, P) the true circuit parameters, in ``parameter_names`` order.
    frequencies: (K,) Hz.
    circuit: the circuit string; parameter_names: its parameter names.
    """
    spectra: np.ndarray
    parameters: np.ndarray
    frequencies: np.ndarray
    circuit: str
    parameter_names: tuple


def simulate_impedance(n, circuit=DEFAULT_CIRCUIT, frequencies=None, ranges=None, noise=0.01, seed=0):
    """Draws n parameter vectors uniformly from ``ranges`` and returns their noisy spectra.

    Args:
      n: number of spectra.
      circuit: circuit string (default ``Rs-p(Re,Ce)``).
      frequencies: (K,) Hz (default 48 log-spaced from 1.3 Hz to 16 kHz).
      ranges: {parameter name: (low, high)} for every parameter of the circuit
        (default ``DEFAULT_RANGES`` for the default circuit).
      noise: relative Gaussian noise, applied to the real and the imaginary
        part independently: Re Z (1 + noise e1) + j Im Z (1 + noise e2).
      seed: numpy seed; the same seed gives the same data.
    Returns:
      ``ImpedanceData``.
    """
    c = Circuit(circuit)
    f = default_frequencies() if frequencies is None else np.asarray(frequencies, dtype=np.float64)
    if ranges is None:
        if c.text != DEFAULT_CIRCUIT:
            raise ValueError(f"give ranges for every parameter of {c.text!r}: {c.parameter_names}")
        ranges = DEFAULT_RANGES
    missing = [name for name in c.parameter_names if name not in ranges]
    if missing:
        raise ValueError(f"ranges lack parameters {missing} of circuit {c.text!r}")
    low, high = (np.array([ranges[name][i] for name in c.parameter_names], dtype=np.float64) for i in (0, 1))
    if np.any(low <= 0) or np.any(high < low):
        raise ValueError("each range must be (low, high) with 0 < low <= high")
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"n must be a positive int, got {n!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    params = rng.uniform(low, high, size=(n, len(low)))
    z = c.impedance(params, f).numpy()
    e = rng.standard_normal((2, n, len(f)))
    spectra = z.real * (1 + noise * e[0]) + 1j * z.imag * (1 + noise * e[1])
    return ImpedanceData(spectra, params, f, c.text, c.parameter_names)
