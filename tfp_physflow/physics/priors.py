"""Priors over circuit parameters and the measurement-noise model: the simulator of simulation-based inference.

A prior draws (n, P) parameters on their physical supports from a seed, in
TensorFlow (inside a ``tf.data`` pipeline or a compiled step):
``BoxPrior`` (log-uniform per positive parameter, uniform per exponent) or
``GeneratorPrior`` (the parameter flow of a trained ``PhysicsFlow``, i.e. a
prior learned from unlabeled measured spectra).
"""

import numpy as np
import tensorflow as tf

from ..seeds import standard_normal, uniform
from .circuits import Circuit

# How each parameter scales when the whole spectrum is multiplied by s:
# Z(theta') = s Z(theta) for theta'_i = theta_i s^power_i (tau and exponents do not change).
SCALE_POWERS = {"R": 1, "Z0": 1, "L": 1, "sigma": 1, "C": -1, "Q": -1, "tau": 0, "alpha": 0}


def scale_powers(circuit):
    """(P,) powers k_i with Z(theta_i s^k_i) = s Z(theta) for every s > 0 (``SCALE_POWERS``)."""
    return np.array([SCALE_POWERS[p] for _, p in circuit.parameter_kinds()], np.float64)


class BoxPrior:
    """Independent parameters in a box: log-uniform on (low, high) for positive ones, uniform for exponents.

    Args:
      circuit: circuit string or ``Circuit``.
      frequencies: (K,) Hz, for the default ranges.
      ranges: {parameter name: (low, high)} overriding ``data.default_ranges(circuit, frequencies)``.
    Example:
      >>> prior = pf.physics.BoxPrior("R0-p(R1,CPE1)", ranges={"R0": (1.0, 10.0)})
      >>> prior.sample(4, seed=0).shape
      TensorShape([4, 4])
    """

    def __init__(self, circuit, frequencies=None, ranges=None):
        from ..data.impedance import default_ranges

        self.circuit = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
        unknown = sorted(set(ranges or {}) - set(self.circuit.parameter_names))
        if unknown:
            raise ValueError(f"ranges name {unknown}, not parameters of {self.circuit.text!r} "
                             f"{self.circuit.parameter_names}")
        self.ranges = {**default_ranges(self.circuit, frequencies), **(ranges or {})}
        low, high = (np.array([self.ranges[n][i] for n in self.circuit.parameter_names], np.float64) for i in (0, 1))
        self.unit = np.array([s == "unit" for s in self.circuit.parameter_supports()])
        if not np.all(np.isfinite(low) & np.isfinite(high)) or np.any(low <= 0) or np.any(high < low):
            raise ValueError(f"each range must be (low, high) with 0 < low <= high, got {self.ranges}")
        if np.any(high[self.unit] > 1):
            raise ValueError("exponent ranges must end at or below 1")
        self.low, self.high = low, high

    @classmethod
    def from_fits(cls, parameters, circuit, widen=2.0):
        """A box around fitted parameters (M, P), e.g. ``fit_circuit`` of unlabeled spectra: each parameter's
        1-99 % range of the fits, widened ``widen``-fold each way (exponents capped at 1)."""
        circuit = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
        params = np.asarray(parameters, np.float64)
        if params.ndim != 2 or params.shape[1] != circuit.num_parameters or len(params) < 2:
            raise ValueError(f"parameters must be (M >= 2, {circuit.num_parameters}) fits of {circuit.text!r}, "
                             f"got shape {params.shape}")
        low, high = np.quantile(params, [0.01, 0.99], axis=0)
        unit = [s == "unit" for s in circuit.parameter_supports()]
        ranges = {name: (lo / widen, min(hi * widen, 1.0) if u else hi * widen)
                  for name, lo, hi, u in zip(circuit.parameter_names, low, high, unit)}
        return cls(circuit, ranges=ranges)

    def sample(self, n, seed=None, dtype="float32"):
        """(n, P) parameters; ``seed`` is None, an int or a shape-[2] tensor (stateless)."""
        u = uniform([n, self.circuit.num_parameters], seed, dtype)
        low, high = tf.constant(self.low, dtype), tf.constant(self.high, dtype)
        log_low, log_high = tf.math.log(low), tf.math.log(high)
        return tf.where(self.unit, low + u * (high - low), tf.exp(log_low + u * (log_high - log_low)))

    def __repr__(self):
        return f"BoxPrior({self.circuit.text!r}, ranges={self.ranges})"


class GeneratorPrior:
    """The parameter flow of a trained ``PhysicsFlow`` as a prior (blocks in ``Circuit.in_order``)."""

    def __init__(self, generator):
        self.generator = generator
        self.circuit = generator.layer.circuit

    def sample(self, n, seed=None, dtype="float32"):
        params = self.generator.flow.sample(n, seed=seed)
        return tf.cast(self.circuit.in_order(params), dtype)

    def __repr__(self):
        return f"GeneratorPrior({self.circuit.text!r})"


def as_prior(prior, circuit, frequencies):
    """None (default box), a ranges dict, a prior, or a trained ``PhysicsFlow`` -> a prior of ``circuit``."""
    from .generator import PhysicsFlow

    if prior is None or isinstance(prior, dict):
        return BoxPrior(circuit, frequencies, prior)
    if isinstance(prior, PhysicsFlow):
        prior = GeneratorPrior(prior)
    if not hasattr(prior, "sample") or not hasattr(prior, "circuit"):
        raise ValueError("prior must be None, a {parameter: (low, high)} dict, a BoxPrior, a GeneratorPrior "
                         f"or a trained PhysicsFlow, got {type(prior).__name__}")
    if prior.circuit.text != circuit.text:
        raise ValueError(f"the prior is over {prior.circuit.text!r} parameters but the circuit is {circuit.text!r}")
    return prior


def componentwise_noise(z, level, seed=None):
    """The simulator's relative noise (``simulate_impedance``): Re Z (1 + level e1) + j Im Z (1 + level e2)."""
    real_dtype = tf.math.real(z).dtype
    e = standard_normal(tf.concat([[2], tf.shape(z)], 0), seed, real_dtype)
    return tf.complex(tf.math.real(z) * (1 + level * e[0]), tf.math.imag(z) * (1 + level * e[1]))


def add_noise(z, level, seed=None):
    """Relative complex Gaussian noise: Z + level |Z| (e1 + j e2), e1, e2 ~ N(0, 1) per frequency."""
    real_dtype = tf.math.real(z).dtype
    e = standard_normal(tf.concat([[2], tf.shape(z)], 0), seed, real_dtype)
    scale = level * tf.abs(z)
    return tf.complex(tf.math.real(z) + scale * e[0], tf.math.imag(z) + scale * e[1])

