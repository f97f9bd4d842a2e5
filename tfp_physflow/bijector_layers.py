"""Bijector layers: Keras layers that own the variables of one bijector.

A ``Flow`` (a ``keras.Model``) owns its bijector layers, so every variable is
tracked and trained; each call builds the pure-math bijectors from them. (A
Keras 3 layer kept on a ``tfb.Bijector`` is invisible to its
``trainable_variables``; docs/design.md, "Measured pitfalls".)
"""

import keras
import numpy as np

from . import bijectors as bij
from .nn import MLP, MaskedMLP, ResidualMLP


class BijectorLayer(keras.layers.Layer):
    """One link of a flow: ``bijector(condition)`` returns its FlowBijector."""

    conditional = False

    def bijector(self, condition=None):
        raise NotImplementedError(f"{type(self).__name__} must define bijector()")


class DiagonalAffineLayer(BijectorLayer):
    """Variables of a DiagonalAffine: shift and log-scale, starting at 0 unless given."""

    def __init__(self, event_dim, shift=None, log_scale=None, **kwargs):
        super().__init__(**kwargs)
        self.shift = self.add_weight(shape=(event_dim,), initializer=_initial(shift), name="shift")
        self.log_scale = self.add_weight(shape=(event_dim,), initializer=_initial(log_scale), name="log_scale")

    def bijector(self, condition=None):
        return bij.DiagonalAffine(self.shift, self.log_scale)


def _initial(values):
    return "zeros" if values is None else keras.initializers.Constant(np.asarray(values, np.float64).tolist())


class PlanarLayer(BijectorLayer):
    """The variables (u, w, b) of one planar flow on a d-dimensional latent (VAE posteriors).

    u starts at 0 (the identity map); w small and random, so that training
    can move u off zero.
    """

    def __init__(self, dim, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.u = self.add_weight(shape=(dim,), initializer="zeros", name="u")
        self.w = self.add_weight(shape=(dim,), initializer=keras.initializers.RandomNormal(0.0, 0.1, seed), name="w")
        self.b = self.add_weight(shape=(), initializer="zeros", name="b")

    def bijector(self, condition=None):
        return bij.Planar(self.u, self.w, self.b)


class LULinearLayer(BijectorLayer):
    """Variables of an LULinear with a shift; starts at the permutation alone."""

    def __init__(self, event_dim, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.permutation = np.random.default_rng(seed).permutation(event_dim)
        self.lower_upper = self.add_weight(shape=(event_dim, event_dim), name="lower_upper",
                                           initializer=keras.initializers.Identity())
        self.shift = self.add_weight(shape=(event_dim,), initializer="zeros", name="shift")

    def bijector(self, condition=None):
        return bij.LULinear(self.lower_upper, self.permutation, self.shift)


class PermutationLayer(BijectorLayer):
    """A fixed reordering, no variables: ``order=None`` reverses."""

    def __init__(self, order=None, **kwargs):
        super().__init__(**kwargs)
        self.order = None if order is None else [int(i) for i in order]

    def bijector(self, condition=None):
        return bij.Reverse() if self.order is None else bij.Permutation(self.order)


def _network(out_dim, network, hidden_units, activation, dtype, seed):
    if network == "mlp":
        return MLP(out_dim, hidden_units, activation, seed=seed, dtype=dtype)
    if network == "resnet":
        return ResidualMLP(out_dim, hidden_dim=hidden_units[0], num_blocks=len(hidden_units),
                           activation=activation, seed=seed, dtype=dtype)
    raise ValueError(f"network must be 'mlp' or 'resnet', got {network!r}")


class CouplingLayer(BijectorLayer):
    """The conditioner network of a ``Coupling`` with ``transformer``.

    The first d // 2 dimensions are kept; the conditioner sees them and, if
    ``condition_dim`` is set, the condition. ``seed`` seeds its initial weights.
    """

    def __init__(self, event_dim, transformer, condition_dim=None, hidden_units=(64, 64),
                 activation="relu", network="mlp", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.conditional = condition_dim is not None
        self.transformer = bij.transformers.check_transformer(transformer)
        self.num_fixed = event_dim // 2
        self.net = _network((event_dim - self.num_fixed) * transformer.params_per_dim, network, hidden_units,
                            activation, self.dtype_policy, seed)

    def bijector(self, condition=None):
        return bij.Coupling(self.net, self.num_fixed, self.transformer, condition)


class AutoregressiveLayer(BijectorLayer):
    """The MADE of a ``MaskedAutoregressive`` with ``transformer``."""

    def __init__(self, event_dim, transformer, condition_dim=None, hidden_units=(64, 64),
                 activation="relu", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.conditional = condition_dim is not None
        self.transformer = bij.transformers.check_transformer(transformer)
        self.made = MaskedMLP(event_dim, transformer.params_per_dim, hidden_units, condition_dim, activation,
                              seed=seed, dtype=self.dtype_policy)

    def bijector(self, condition=None):
        return bij.MaskedAutoregressive(self.made, self.transformer, condition)
