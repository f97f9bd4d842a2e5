"""Flow, a keras.Model over a chain of bijectors, and the factory make_flow."""

import math
import random

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from .bijectors.positive import POSITIVE_MAPS, UnitInterval, check_unit
from .bijector_layers import (AutoregressiveLayer, CouplingLayer, DiagonalAffineLayer, LULinearLayer,
                              PermutationLayer)
from .bijectors.transformers import Affine, RationalQuadratic
from .seeds import standard_normal
from .validation import as_real_tensor, check_batch_compatible, non_negative_int, positive_int

tfb, tfd = tfp.bijectors, tfp.distributions

KINDS = ("diagonal", "linear", "realnvp", "maf", "nsf", "cinn")
DEFAULT_LAYERS = {"diagonal": 1, "linear": 1, "realnvp": 8, "maf": 8, "nsf": 4, "cinn": 20}


@keras.saving.register_keras_serializable(package="tfp_physflow")
class Flow(keras.Model):
    """A normalizing flow: a standard normal latent z pushed through steps to data x.

    Direction follows TFP: the bijectors' ``forward`` maps latent -> data.
    log p(x | c) = log N(f(x); 0, I) + sum_k log|det d f_k / d input|, with f
    the inverse chain; every bijector computes its output and log-det in one
    pass, and no TFP bijector cache is involved.

    Args:
      layers: list of ``BijectorLayer``s, in latent -> data order.
      event_dim: int, dimension of x.
      condition_dim: optional int; a conditional flow requires ``condition``.
      positive: None, "softplus" or "exp": map the output onto (0, inf).
      unit: optional indices of outputs on (0, 1) instead (a logistic map;
        needs ``positive``), e.g. the exponents of constant-phase elements.
      config: the ``make_flow`` arguments that rebuild this flow (``make_flow`` sets it).
      dtype: "float32" (default) or "float64".
    Example:
      >>> flow = make_flow("realnvp", 2)
      >>> x = flow.sample(100, seed=1); flow.log_prob(x).shape
      TensorShape([100])
    """

    def __init__(self, layers, event_dim, condition_dim=None, positive=None, config=None, unit=None, **kwargs):
        super().__init__(**kwargs)
        if positive not in (None, *POSITIVE_MAPS):
            raise ValueError(f"positive must be None or one of {sorted(POSITIVE_MAPS)}, got {positive!r}")
        self.unit = check_unit(unit, event_dim, positive)
        self.event_dim = int(event_dim)
        self.condition_dim = None if condition_dim is None else int(condition_dim)
        self.positive = positive
        self.bijector_layers = list(layers)
        self._config = None if config is None else dict(config)
        # Create every variable now, so that trainable_variables is complete
        # before any tape or tf.function sees the model.
        dummy_c = None if self.condition_dim is None else tf.zeros([1, self.condition_dim], self.compute_dtype)
        self._log_prob(tf.ones([1, self.event_dim], self.compute_dtype), dummy_c)
        for layer in self.bijector_layers:  # their variables exist now (summary() counts them)
            layer.built = True
        self.built = True

    # -- bijectors --------------------------------------------------------
    def bijectors(self, condition=None):
        """The chain's bijectors in latent -> data order, built for ``condition``."""
        chain = [layer.bijector(condition) for layer in self.bijector_layers]
        if self.unit:
            chain.append(UnitInterval(self.unit, self.positive))
        elif self.positive is not None:
            chain.append(POSITIVE_MAPS[self.positive]())
        return chain

    def distribution(self, condition=None):
        """A ``tfd.TransformedDistribution`` equal to this flow (for TFP interop).

        With a condition of batch shape B, the distribution has batch shape B.
        """
        condition = self._condition(condition)
        batch = tf.zeros([0], tf.int32) if condition is None else tf.shape(condition)[:-1]
        base = tfd.MultivariateNormalDiag(
            loc=tf.zeros(tf.concat([batch, [self.event_dim]], 0), self.compute_dtype))
        distribution = tfd.TransformedDistribution(base, tfb.Chain(self.bijectors(condition)[::-1]))
        # tf.Module finds tf.Variables, not Keras variables: hand it the ones underneath,
        # so that distribution.trainable_variables is the flow's (TFP's training idiom).
        distribution._flow_variables = [v.value for v in self.variables]
        return distribution

    # -- densities and samples -------------------------------------------
    def log_prob(self, x, condition=None):
        """log p(x | condition) for x (..., event_dim); returns shape (...)."""
        x = as_real_tensor(x, "x", self.compute_dtype, self.event_dim)
        condition = self._condition(condition)
        if condition is not None:
            check_batch_compatible(x, condition)
        return self._log_prob(x, condition)

    def call(self, x, condition=None):
        return self.log_prob(x, condition)

    def sample_and_log_prob(self, n, condition=None, seed=None):
        """Draws n samples and their log-densities in one pass.

        With a condition of shape (c,) the samples are (n, event_dim); with a
        batch of conditions (B..., c) they are (n, B..., event_dim).
        ``seed``: None, an int, or a shape-[2] tensor (stateless sampling).
        """
        if not tf.is_tensor(n):  # a tensor n comes from a traced graph (serving)
            n = non_negative_int(n, "n (the number of samples)")
        condition = self._condition(condition)
        batch = tf.reshape(tf.cast(n, tf.int32), [1])
        if condition is not None:
            batch = tf.concat([batch, tf.shape(condition)[:-1]], 0)
        z = standard_normal(tf.concat([batch, [self.event_dim]], 0), seed, self.compute_dtype)
        log_prob = self._base_log_prob(z)
        x = z
        for bijector in self.bijectors(condition):
            x, log_det = bijector.forward_and_log_det(x)
            log_prob -= log_det
        return x, log_prob

    def sample(self, n, condition=None, seed=None):
        """Draws n samples (see ``sample_and_log_prob`` for shapes and seeds)."""
        return self.sample_and_log_prob(n, condition, seed)[0]

    # -- internals ---------------------------------------------------------
    def _log_prob(self, x, condition):
        chain = self.bijectors(condition)
        support = None
        if self.positive is not None:
            # Outside the output map's support the density is 0: feed a safe value, mask after.
            inside = chain[-1].inside(x)
            support = tf.reduce_all(inside, -1)
            x = tf.where(inside, x, chain[-1].safe(x))
        z, total = x, 0.0
        for bijector in reversed(chain):
            z, log_det = bijector.inverse_and_log_det(z)
            total += log_det
        log_prob = self._base_log_prob(z) + total
        if support is not None:
            log_prob = tf.where(support, log_prob, tf.constant(-math.inf, log_prob.dtype))
        return log_prob

    def _base_log_prob(self, z):
        return -0.5 * tf.reduce_sum(z * z, -1) - 0.5 * self.event_dim * math.log(2.0 * math.pi)

    def _condition(self, condition):
        if self.condition_dim is None:
            if condition is not None:
                raise ValueError("this flow is unconditional (condition_dim=None) but a condition was given")
            return None
        if condition is None:
            raise ValueError(f"this flow is conditional (condition_dim={self.condition_dim}): "
                             "pass condition=")
        return as_real_tensor(condition, "condition", self.compute_dtype, self.condition_dim)

    @property
    def config(self):
        """The ``make_flow`` arguments that rebuild this flow, or None for a hand-built one."""
        return None if self._config is None else dict(self._config)

    def get_config(self):
        if self._config is None:
            raise ValueError("only flows made by make_flow() have a config")
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return make_flow(**config)


def make_flow(kind, event_dim, condition_dim=None, *, num_layers=None, hidden_units=(64, 64),
              activation="relu", network="mlp", transformer=None, num_bins=8, bound=4.0,
              clamp=2.0, positive=None, unit=None, scale=None, loc=None, spread=None, dtype="float32", seed=0, name=None):
    """Builds a Flow of a named kind, initialised at (close to) the identity.

    Kinds (latent -> data; consecutive blocks separated by a reversal):
      diagonal  one DiagonalAffine (dimension-wise scale and shift)
      linear    one LULinear with a shift (a full-covariance Gaussian)
      realnvp   num_layers (8) affine couplings
      maf       num_layers (8) masked autoregressive layers, affine or spline
      nsf       num_layers (4) rational-quadratic spline couplings
      cinn      num_layers (20) affine couplings, each conditioned on the condition
    realnvp, maf and nsf take an optional ``condition_dim``; cinn requires it.

    Args:
      kind: one of KINDS.
      event_dim: int, dimension of the data.
      condition_dim: optional int, dimension of the condition.
      num_layers: number of blocks (default per kind, above).
      hidden_units: widths of the conditioner's hidden layers (for
        network="resnet": hidden_units[0] is the width, len() the block count).
      activation: Keras activation of the conditioners.
      network: "mlp" or "resnet" (coupling kinds).
      transformer: "affine" (default) or "spline", for maf.
      num_bins, bound: spline settings (nsf, maf with splines).
      clamp: bound on the affine log-scales (realnvp, maf, cinn).
      positive: None, "softplus" or "exp": outputs on (0, inf).
      unit: optional indices of outputs on (0, 1) instead, through a logistic
        map (needs ``positive``); their ``scale`` entries are typical values in (0, 1).
      scale: optional typical magnitude of each output (length event_dim):
        appends a learnable DiagonalAffine (the physics-aware flows paper's
        scaling layer) so that the untrained flow outputs scale * exp(z)
        with positive="exp", or scale * z with positive=None. Lets one flow
        emit quantities of very different sizes (ohms and microfarads).
      loc: optional centre of each output (length event_dim; positive=None
        only). With ``scale`` the untrained flow outputs loc + scale * z:
        it starts as N(loc, diag scale^2), e.g. the data's mean and std.
      spread: optional starting width of each output in log space (logit for
        ``unit`` outputs; positive="exp" with ``scale`` only): the untrained
        flow outputs scale * exp(spread * z), e.g. the spread of fitted log-parameters.
      dtype: "float32" or "float64".
      seed: seeds the fixed random permutation (linear) and the conditioner
        networks' initial weights, so equal seeds give equal flows without
        touching any global seed; None draws a seed at random (kept in the config).
      name: Keras model name.
    Returns:
      A ``Flow``; ``Flow.from_config(flow.get_config())`` rebuilds it.
    """
    if seed is None:  # drawn here and kept in the config, so that from_config rebuilds this very flow
        seed = random.randrange(2**31 // 7919 - 64)
    config = dict(locals())
    if kind not in KINDS:
        raise ValueError(f"unknown flow kind {kind!r}; expected one of {KINDS}")
    config["event_dim"] = event_dim = positive_int(event_dim, "event_dim")
    if condition_dim is not None:
        config["condition_dim"] = condition_dim = positive_int(condition_dim, "condition_dim")
    if kind == "cinn" and condition_dim is None:
        raise ValueError("kind 'cinn' is conditional: give condition_dim")
    if kind in ("diagonal", "linear") and condition_dim is not None:
        raise ValueError(f"kind {kind!r} takes no condition (condition_dim must be None)")
    if kind in ("realnvp", "nsf", "cinn") and event_dim < 2:
        raise ValueError(f"kind {kind!r} couples dimensions and needs event_dim >= 2, got {event_dim}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    if transformer not in (None, "affine", "spline") or (transformer and kind != "maf"):
        raise ValueError(f"transformer is 'affine' or 'spline', for kind 'maf' only; got {transformer!r}")
    if scale is not None:
        scale = [float(v) for v in scale]
        if len(scale) != event_dim or not all(v > 0 and math.isfinite(v) for v in scale):
            raise ValueError(f"scale must hold {event_dim} positive finite numbers, got {scale}")
        if positive == "softplus":
            raise ValueError("scale works with positive='exp' or None, not 'softplus' "
                             "(softplus does not turn a shift into a scale)")
        config["scale"] = scale
    unit = check_unit(unit, event_dim, positive)
    if unit:
        config["unit"] = unit
        if scale is not None and not all(0 < scale[i] < 1 for i in unit):
            raise ValueError(f"scale of the unit-interval outputs {unit} must lie in (0, 1), got "
                             f"{[scale[i] for i in unit]}")
    if loc is not None:
        loc = [float(v) for v in loc]
        if len(loc) != event_dim or not all(math.isfinite(v) for v in loc):
            raise ValueError(f"loc must hold {event_dim} finite numbers, got {loc}")
        if positive is not None:
            raise ValueError("loc works with positive=None only (with 'exp', scale sets the typical size)")
        config["loc"] = loc
    if spread is not None:
        spread = [float(v) for v in spread]
        if len(spread) != event_dim or not all(v > 0 and math.isfinite(v) for v in spread):
            raise ValueError(f"spread must hold {event_dim} positive finite numbers, got {spread}")
        if positive != "exp" or scale is None:
            raise ValueError("spread works with positive='exp' and a scale (it widens exp(z) around the scale)")
        config["spread"] = spread
    num_layers = DEFAULT_LAYERS[kind] if num_layers is None else num_layers
    num_layers = positive_int(num_layers, "num_layers")

    common = dict(condition_dim=condition_dim, hidden_units=tuple(hidden_units), activation=activation, dtype=dtype)
    if kind == "diagonal":
        layers = [DiagonalAffineLayer(event_dim, dtype=dtype)]
    elif kind == "linear":
        layers = [LULinearLayer(event_dim, seed=seed, dtype=dtype)]
    else:
        spline = kind == "nsf" or transformer == "spline"
        tau = RationalQuadratic(num_bins, bound) if spline else Affine(clamp)
        layers = []
        for i in range(num_layers):
            if i:
                layers.append(PermutationLayer(dtype=dtype))
            if kind == "maf":
                layers.append(AutoregressiveLayer(event_dim, tau, seed=_layer_seed(seed, i), **common))
            else:
                layers.append(CouplingLayer(event_dim, tau, network=network, seed=_layer_seed(seed, i), **common))
    if scale is not None or loc is not None:
        logs = None if scale is None else [math.log(v / (1 - v)) if i in unit else math.log(v)
                                           for i, v in enumerate(scale)]
        layers.append(DiagonalAffineLayer(event_dim, shift=logs, log_scale=spread and [math.log(v) for v in spread],
                                          dtype=dtype) if positive == "exp"
                      else DiagonalAffineLayer(event_dim, shift=loc, log_scale=logs, dtype=dtype))
    return Flow(layers, event_dim, condition_dim, positive, config=config, unit=unit, name=name or kind, dtype=dtype)


def _layer_seed(seed, index):
    return None if seed is None else int(seed) * 7919 + index
