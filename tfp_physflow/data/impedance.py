"""Simulated epithelial impedance spectra, in the spirit of the HT-29/B6 data
of the physics-aware flows paper (Schindler & Schmid): the embedded default
data set of the main job."""

from dataclasses import dataclass

import numpy as np

from ..physics.circuits import DEFAULT_CIRCUIT, ELEMENTS, Circuit, check_frequencies
from ..physics.layers import default_frequencies

# Uniform ranges per parameter of the default circuit (per cm^2 of epithelium):
# Rs (subepithelial/solution) 10-40 Ohm cm^2, Re (epithelial) 200-700 Ohm cm^2,
# Ce (epithelial capacitance) 1-6 uF/cm^2, in F.
DEFAULT_RANGES = {"Rs": (10.0, 40.0), "Re": (200.0, 700.0), "Ce": (1e-6, 6e-6)}


def default_ranges(circuit=DEFAULT_CIRCUIT, frequencies=None):
    """Uniform ranges {name: (low, high)} for every parameter of ``circuit``, from the frequency band.

    The default circuit keeps ``DEFAULT_RANGES``. Otherwise, with a typical
    resistance of 100 Ohm: R and Wo/Ws Z0 in 20-400 Ohm; L with |Z_L| of
    5-50 Ohm at the highest frequency; CPE alpha in 0.7-0.95. Each element
    with a time constant (C, CPE, W, Wo, Ws) gets its own characteristic
    angular frequency w_k, spread by factors of 30 around the band's
    geometric centre 2 pi sqrt(f_min f_max) and kept inside the band, the
    first in circuit order fastest (the order of ``Circuit.in_order``), so
    that distinct processes stay distinguishable: C in (0.4, 2.5) / (100 w_k) F,
    CPE Q likewise with w_k^0.85, tau in (0.4, 2.5) / w_k s, W sigma with
    |Z_W(w_k)| of 20-100 Ohm.
    Example:
      >>> ranges = default_ranges("R0-p(R1,CPE1)")
      >>> sorted(ranges), ranges["CPE1.alpha"]
      (['CPE1.Q', 'CPE1.alpha', 'R0', 'R1'], (0.7, 0.95))
    """
    c = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
    f = check_frequencies(default_frequencies() if frequencies is None else frequencies)
    if c.text == DEFAULT_CIRCUIT:
        return dict(DEFAULT_RANGES)
    w_min, w_max, r = 2 * np.pi * f.min(), 2 * np.pi * f.max(), 100.0
    timed = [e.name for e in c.elements if e.kind in ("C", "CPE", "W", "Wo", "Ws")]
    centre = np.sqrt(w_min * w_max)
    corner = {name: float(np.clip(centre * 30.0 ** ((len(timed) - 1) / 2 - k), 3 * w_min, w_max / 3))
              for k, name in enumerate(timed)}
    ranges = {}
    for element in c.elements:
        w = corner.get(element.name)
        by_parameter = {
            "R": (20.0, 400.0), "Z0": (20.0, 400.0), "L": (5.0 / w_max, 50.0 / w_max), "alpha": (0.7, 0.95),
            "C": (0.4 / (r * w), 2.5 / (r * w)) if w else None,
            "Q": (0.4 / (r * w ** 0.85), 2.5 / (r * w ** 0.85)) if w else None,
            "sigma": (20.0 * np.sqrt(w / 2), 100.0 * np.sqrt(w / 2)) if w else None,
            "tau": (0.4 / w, 2.5 / w) if w else None,
        }
        for name, (parameter, _) in zip(c.parameters_of(element.name), ELEMENTS[element.kind]):
            ranges[name] = tuple(float(v) for v in by_parameter[parameter])
    return ranges


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
      ranges: {parameter name: (low, high)}; parameters left out take
        ``default_ranges(circuit, frequencies)``.
      noise: relative Gaussian noise, applied to the real and the imaginary
        part independently: Re Z (1 + noise e1) + j Im Z (1 + noise e2).
      seed: numpy seed; the same seed gives the same data.
    Returns:
      ``ImpedanceData``.
    """
    c = Circuit(circuit)
    f = default_frequencies() if frequencies is None else np.asarray(frequencies, dtype=np.float64)
    unknown = sorted(set(ranges or {}) - set(c.parameter_names))
    if unknown:
        raise ValueError(f"ranges name {unknown}, not parameters of circuit {c.text!r} {c.parameter_names}")
    ranges = {**default_ranges(c, f), **(ranges or {})}
    low, high = (np.array([ranges[name][i] for name in c.parameter_names], dtype=np.float64) for i in (0, 1))
    if np.any(low <= 0) or np.any(high < low):
        raise ValueError("each range must be (low, high) with 0 < low <= high")
    unit = np.array([support == "unit" for support in c.parameter_supports()])
    if np.any(high[unit] > 1):
        raise ValueError(f"CPE exponents lie in (0, 1]: the ranges of {list(np.array(c.parameter_names)[unit])} "
                         "must end at or below 1")
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
