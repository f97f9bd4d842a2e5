"""The label-free generators a user reaches for before a physics-aware flow: fit, then resample or fit a Gaussian.

Both start from ``fit_circuit`` parameters of measured spectra (spectra only,
like the flows) and return new parameter vectors; push them through
``Circuit.impedance`` for spectra. Every table that reports a physics-aware
flow reports these beside it.
"""

import numpy as np

from .circuits import Circuit


def resample_fits(parameters, n, seed=0):
    """n rows drawn with replacement from fitted parameters (M, P): the empirical distribution of the fits."""
    parameters = np.asarray(parameters, np.float64)
    if parameters.ndim != 2 or not len(parameters):
        raise ValueError(f"parameters must be a non-empty (M, P) array, got shape {parameters.shape}")
    return parameters[np.random.default_rng(seed).integers(0, len(parameters), int(n))]


def gaussian_of_fits(parameters, circuit, n, seed=0):
    """n parameter vectors from a full-covariance Gaussian on the fits' log-parameters (logit for
    exponents), mapped back onto each parameter's support; interchangeable arcs in order."""
    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    values = circuit.unconstrained(parameters)
    if len(values) < 2:
        raise ValueError("a Gaussian needs at least 2 fitted parameter vectors")
    draws = np.random.default_rng(seed).multivariate_normal(values.mean(0), np.cov(values, rowvar=False), int(n))
    return circuit.in_order(circuit.constrained(draws))


def fit_baselines(parameters, circuit, n, seed=0):
    """{name: (n, P) parameters} of both baselines, for tables beside the flows."""
    return {"fit resample": resample_fits(parameters, n, seed),
            "Gaussian of fits": gaussian_of_fits(parameters, circuit, n, seed)}
