"""The label-free generators a user reaches for before a physics-aware flow: fit, then resample or fit a Gaussian.

Both start from ``fit_circuit`` parameters of measured spectra (spectra only,
like the flows) and return new parameter vectors; push them through
``Circuit.impedance`` for spectra. Every table that reports a physics-aware
flow reports these beside it.
"""

import numpy as np

from .circuits import Circuit
from .fitting import check_parameter_rows


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


def flow_of_fits(parameters, circuit, kind, n, seed=0, epochs=400, verbose=False, **flow_options):
    """n parameter vectors from a flow of ``kind`` trained by maximum likelihood on the fits.

    The "fit, then a flow" generator: a flow with outputs on each parameter's
    support, started as a log-normal around the fits (``start_from_fits``),
    trained on them by ``pretrain_on_fits`` (10 % held out, early stopping);
    samples have interchangeable arcs in order. ``flow_options`` go to
    ``make_flow``. ``make_physics_flow(kind, spectra, frequencies, circuit,
    fits=parameters, pretrain=True)`` is the same flow behind the circuit, with
    spectra and a SavedModel. Returns (parameters (n, P), the training history).
    """
    from ..flows import make_flow
    from .generator import pretrain_on_fits, start_from_fits

    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    parameters = check_parameter_rows(parameters, circuit, "parameters", min_rows=10)
    unit = [i for i, support in enumerate(circuit.parameter_supports()) if support == "unit"]
    flow = make_flow(kind, circuit.num_parameters, positive="exp", unit=unit, seed=seed,
                     **start_from_fits(parameters, circuit), **flow_options)
    history = pretrain_on_fits(flow, parameters, circuit, seed=seed, epochs=epochs, verbose=verbose)
    return circuit.in_order(flow.sample(int(n), seed=seed).numpy().astype(np.float64)), history


def fit_baselines(parameters, circuit, n, seed=0, flows=None):
    """{name: (n, P) parameters} of the baselines, for tables beside the flows.

    Always the fits resampled and a Gaussian of the fits; ``flows``, a dict
    {kind: make_flow options}, adds "<kind> flow of fits" (``flow_of_fits``) per kind.
    """
    baselines = {"fit resample": resample_fits(parameters, n, seed),
                 "Gaussian of fits": gaussian_of_fits(parameters, circuit, n, seed)}
    for kind, options in (flows or {}).items():
        baselines[f"{kind} flow of fits"] = flow_of_fits(parameters, circuit, kind, n, seed, **options)[0]
    return baselines
