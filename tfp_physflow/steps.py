"""Flow steps: Keras layers that own the variables of one bijector.

A ``Flow`` (a ``keras.Model``) owns its steps, so every variable is tracked
and trained; each call builds the pure-math bijectors from the steps. (A Keras
3 layer kept on a ``tfb.Bijector`` is invisible to its ``trainable_variables``;
see DESIGN.md.)
"""

import keras
import numpy as np

from . import bijectors as bij
from .nn import MLP, MaskedMLP, ResidualMLP


class FlowStep(keras.layers.Layer):
    """One link of a flow: ``bijector(condition)`` returns its FlowBijector."""

    conditional = False

    def bijector(self, condition=None):
        raise NotImplementedError(f"{type(self).__name__} must define bijector()")


class DiagonalStep(FlowStep):
    """Variables of a DiagonalAffine: shift and log-scale, starting at 0 unless given."""

    def __init__(self, event_dim, shift=None, log_scale=None, **kwargs):
        super().__init__(**kwargs)
        self.shift = self.add_weight(shape=(event_dim,), initializer=_initial(shift), name="shift")
        self.log_scale = self.add_weight(shape=(event_dim,), initializer=_initial(log_scale), name="log_scale")

    def bijector(self, condition=None):
        return bij.DiagonalAffine(self.shift, self.log_scale)


def _initial(values):
    return "zeros" if values is None else keras.initializers.Constant(np.asarray(values, np.float64).tolist())


class LinearStep(FlowStep):
    """Variables of an LULinear with a shift; starts at the permutation alone."""

    def __init__(self, event_dim, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.permutation = np.random.default_rng(seed).permutation(event_dim)
        self.lower_upper = self.add_weight(shape=(event_dim, event_dim), name="lower_upper",
                                           initializer=keras.initializers.Identity())
        self.shift = self.add_weight(shape=(event_dim,), initializer="zeros", name="shift")

    def bijector(self, condition=None):
        return bij.LULinear(self.lower_upper, self.permutation, self.shift)


class PermutationStep(FlowStep):
    """A fixed reordering, no variables: ``order=None`` reverses."""

    def __init__(self, order=None, **kwargs):
        super().__init__(**kwargs)
        self.order = None if order is None else [int(i) for i in order]

    def bijector(self, condition=None):
        return bij.Reverse() if self.order is None else bij.Permutation(self.order)


def _network(out_dim, network, hidden_units, activation, dtype):
    if network == "mlp":
        return MLP(out_dim, hidden_units, activation, dtype=dtype)
    if network == "resnet":
        return ResidualMLP(out_dim, hidden_dim=hidden_units[0], num_blocks=len(hidden_units),
                           activation=activation, dtype=dtype)
    raise ValueError(f"network must be 'mlp' or 'resnet', got {network!r}")


class CouplingStep(FlowStep):
    """The conditioner network of an AffineCoupling or SplineCoupling.

    The first d // 2 dimensions are kept; the conditioner sees them and, if
    ``condition_dim`` is set, the condition.
    """

    def __init__(self, event_dim, transformer="affine", condition_dim=None, hidden_units=(64, 64),
                 activation="relu", network="mlp", num_bins=8, bound=4.0, clamp=2.0, **kwargs):
        super().__init__(**kwargs)
        self.conditional = condition_dim is not None
        self.transformer, self.num_bins, self.bound, self.clamp = transformer, num_bins, bound, clamp
        self.num_fixed = event_dim // 2
        per_dim = 2 if transformer == "affine" else 3 * num_bins - 1
        self.net = _network((event_dim - self.num_fixed) * per_dim, network, hidden_units,
                            activation, self.dtype_policy)

    def bijector(self, condition=None):
        if self.transformer == "affine":
            return bij.AffineCoupling(self.net, self.num_fixed, condition, clamp=self.clamp)
        return bij.SplineCoupling(self.net, self.num_fixed, self.num_bins, self.bound, condition)


class AutoregressiveStep(FlowStep):
    """The MADE of a MaskedAutoregressive layer (affine or spline transformer)."""

    def __init__(self, event_dim, transformer="affine", condition_dim=None, hidden_units=(64, 64),
                 activation="relu", num_bins=8, bound=4.0, clamp=2.0, **kwargs):
        super().__init__(**kwargs)
        self.conditional = condition_dim is not None
        self.transformer, self.num_bins, self.bound, self.clamp = transformer, num_bins, bound, clamp
        per_dim = bij.MaskedAutoregressive.params_per_dim(transformer, num_bins)
        self.made = MaskedMLP(event_dim, per_dim, hidden_units, condition_dim, activation,
                              dtype=self.dtype_policy)

    def bijector(self, condition=None):
        return bij.MaskedAutoregressive(self.made, self.transformer, condition, self.clamp,
                                        self.num_bins, self.bound)
