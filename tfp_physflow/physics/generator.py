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
from .fitting import check_parameter_rows, fit_circuit
from .layers import ImpedanceLayer
from .priors import componentwise_noise


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

    def __init__(self, flow, layer, noise=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or not 0 <= noise < np.inf:
            raise ValueError(f"noise must be a relative level >= 0 (0.01 = 1 %), got {noise!r}")
        if flow.event_dim != layer.circuit.num_parameters or flow.condition_dim is not None:
            raise ValueError(f"the flow must be unconditional with {layer.circuit.num_parameters} outputs "
                             f"(the parameters of {layer.circuit.text!r}), got event_dim={flow.event_dim}")
        self.flow, self.layer, self.noise = flow, layer, float(noise)
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
        step's: parameters in the flow's own order (the spectra do not depend on the arcs' labels), and
        the spectra with the measurement noise ``noise`` (the simulator's model), like the measured ones."""
        if not self.noise:
            params = self.flow.sample(n, seed=seed)
            return params, self.layer(params)
        if seed is not None and not isinstance(seed, int):
            seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        else:
            noise_seed = None if seed is None else [seed, 1]
        params = self.flow.sample(n, seed=seed)
        z = componentwise_noise(self.layer.impedance(params), self.noise, noise_seed)
        return params, self.layer.features(z)

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
    """``fit_circuit`` parameters (num, P) of ``num`` of the spectra (no labels involved).

    The fits start from a pilot (``starts="pilot"``). Measured on 64 impedance.py
    spectra of L0-R0-p(R1,CPE1)-p(R2,CPE2) with 1 % noise: 3-12 % of the fitted
    parameters off the truth by more than a factor of 2, against 11-62 % from 16
    random starts (refine 4), where fits switched an arc off; 6.5 s against 12.6 s.
    """
    return _initial_fit(spectra, circuit, frequencies, num, seed)[0]


def _initial_fit(spectra, circuit, frequencies, num, seed=0):
    """(fitted parameters, their spectra) of ``num`` of the spectra."""
    spectra = np.asarray(spectra)
    rows = np.random.default_rng(seed).permutation(len(spectra))[:num]
    return fit_circuit(spectra[rows], circuit, frequencies, starts="pilot").parameters, spectra[rows]


def estimate_noise(spectra, fits, circuit, frequencies):
    """The spectra's relative noise level from fits of each of them (M = N rows).

    The median root-mean-square relative residual |Z_fit - Z| / |Z_fit| over the
    frequencies, times sqrt(2K / (2K - P)) for the P fitted parameters: under
    ``simulate_impedance``'s model, E |dZ|^2 / |Z|^2 is the level squared.
    Measured from ``fit_circuit`` fits of 500 spectra simulated at 1, 5 and 20 %:
    0.0098, 0.0495 and 0.223 (fits of very noisy spectra leave more residual).
    """
    circuit = Circuit(circuit) if isinstance(circuit, str) else circuit
    z = np.asarray(spectra)
    fitted = circuit.impedance(np.asarray(fits, np.float64), np.asarray(frequencies, np.float64)).numpy()
    residuals = np.sqrt(np.mean(np.abs(fitted - z) ** 2 / np.abs(fitted) ** 2, axis=1))  # noise-free |Z|: unbiased
    k2 = 2 * z.shape[1]
    return float(np.median(residuals) * np.sqrt(k2 / max(k2 - circuit.num_parameters, 1)))


def make_physics_flow(kind, spectra, frequencies, circuit=DEFAULT_CIRCUIT, *, positive="exp", scale="auto",
                      fits=None, pretrain=False, noise=0.0, representation="bode", finite_differences=True,
                      dtype="float32", **flow_kwargs):
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
      scale: "auto" (start at the fits: ``start_from_fits`` sets the scale
        and the spread), None, or P typical magnitudes.
      fits: (M, P) ``fit_circuit`` parameters of (some of) the spectra for
        ``scale="auto"`` and ``pretrain``; default: ``initial_fits`` of 64 of
        the spectra (256 with ``pretrain``).
      pretrain: also fit the flow by maximum likelihood to the fits
        (``pretrain_on_fits``). Without adversarial training this is the flow
        of the fits (``flow_of_fits``), the best generator measured where the
        circuit describes the spectra; adversarial training then refines it
        (the hybrid) instead of a log-normal around the fits.
      noise: relative noise level added to generated spectra before the
        critic sees them (``PhysicsFlow.noise``), or "auto": estimated from
        fits of the spectra (``estimate_noise``; given ``fits`` must then be
        one row per spectrum). 0 (default): noise-free generated spectra.
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
    if isinstance(scale, str) and scale != "auto":
        raise ValueError(f"scale must be 'auto', None or a list of magnitudes, got {scale!r}")
    if isinstance(noise, str) and noise != "auto":
        raise ValueError(f"noise must be a relative level >= 0 or 'auto', got {noise!r}")
    fitted = spectra
    if fits is None and (pretrain or isinstance(scale, str) or noise == "auto"):
        fits, fitted = _initial_fit(spectra, circuit, frequencies, num=256 if pretrain else 64)
    elif fits is not None:
        fits = check_parameter_rows(fits, circuit, "fits", min_rows=2)
    if noise == "auto":
        if len(fits) != len(fitted):
            raise ValueError(f"noise='auto' needs fits of every spectrum ({len(spectra)} rows), got {len(fits)}; "
                             "pass noise=<level> instead")
        noise = estimate_noise(fitted, fits, circuit, frequencies)
    if isinstance(scale, str):
        start = start_from_fits(fits, circuit)
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
    if pretrain:
        pretrain_on_fits(flow, fits, circuit)
    return PhysicsFlow(flow, layer, noise=noise, name=f"physics_{kind}", dtype=dtype)


def pretrain_on_fits(flow, fits, circuit, seed=0, epochs=400, verbose=False, callbacks=None):
    """Fits a parameter flow by maximum likelihood to fitted parameters (M, P); returns the history.

    Batches of M/16 within [64, 256], 10 % of the fits held out, the learning rate decayed from
    1e-3 to 1e-4 over the first 100 epochs, stopped when the held-out
    likelihood has not improved for 50 epochs (best weights kept). Measured on
    the fits of the 5,000 benchmark spectra (Rs-p(Re,Ce); 1D-KS / 2D-KS of an
    nsf flow against the truth, seeds 0-2): 0.987-0.989 / 0.979-0.984, level
    with the fits resampled (0.989 / 0.983); at a constant 1e-3, 0.978-0.986 /
    0.966-0.977; with a patience of 20, stopped after 28-72 epochs, down to
    0.961. Exponents fitted at exactly 1 (the edge of their support, where the
    flow's density vanishes) are moved to 1 - 1e-6. ``callbacks``: Keras callbacks of the run.
    """
    from ..train import fit_flow

    fits = check_parameter_rows(fits, circuit, "fits", min_rows=2).copy()
    unit = np.array([support == "unit" for support in circuit.parameter_supports()])
    fits[:, unit] = np.minimum(fits[:, unit], 1 - 1e-6)
    batch = int(np.clip(len(fits) // 16, 64, 256))  # small sets: smaller batches, enough steps per epoch
    steps = 100 * -(-int(0.9 * len(fits)) // batch)  # 100 epochs of batches
    decay = keras.optimizers.schedules.PolynomialDecay(1e-3, max(steps, 1), 1e-4)
    return fit_flow(flow, fits.astype(flow.dtype), epochs=epochs, batch_size=batch, validation_split=0.1, patience=50,
                    optimizer=keras.optimizers.Adam(decay), seed=seed, verbose=verbose, callbacks=callbacks)
