"""Maps onto the supports of physical parameters: Softplus and Exp onto (0, inf), UnitInterval
adding (0, 1) for chosen dimensions."""

import numpy as np
import tensorflow as tf

from .base import FlowBijector


class _Elementwise(FlowBijector):
    """A map applied to each dimension: subclasses define ``elementwise`` and
    ``elementwise_inverse`` (each returning values and element-wise log-dets),
    and the support of the data side (``inside``, with a ``safe`` value in it)."""

    def forward_and_log_det(self, x):
        y, log_det = self.elementwise(x)
        return y, tf.reduce_sum(log_det, -1)

    def inverse_and_log_det(self, y):
        x, log_det = self.elementwise_inverse(y)
        return x, tf.reduce_sum(log_det, -1)

    def inside(self, y):
        """Element-wise: is y in the support? (Outside it a flow's log-density is -inf.)"""
        return y > 0

    def safe(self, y):
        """A value inside the support, fed where y is not, so no branch turns NaN."""
        return tf.ones_like(y)


class Softplus(_Elementwise):
    """y = log(1 + exp(x)) > 0.

    log|dy/dx| = log sigmoid(x) = -softplus(-x); the inverse is computed as
    x = y + log(-expm1(-y)), which is accurate for tiny and for large y.
    Inputs y <= 0 are outside the support: the caller masks them (``Flow``
    gives them log-density -inf).
    Example:
      >>> np.round(Softplus().forward(tf.constant([[-3., 0., 3.]], tf.float64)).numpy(), 4).tolist()
      [[0.0486, 0.6931, 3.0486]]
    """

    def __init__(self, name="softplus"):
        super().__init__(dict(name=name), name)

    def elementwise(self, x):
        return tf.nn.softplus(x), -tf.nn.softplus(-x)

    def elementwise_inverse(self, y):
        x = y + tf.math.log(-tf.math.expm1(-y))
        return x, tf.nn.softplus(-x)


class Exp(_Elementwise):
    """y = exp(x) > 0,  log|dy/dx| = sum(x)."""

    def __init__(self, name="exp"):
        super().__init__(dict(name=name), name)

    def elementwise(self, x):
        return tf.exp(x), x

    def elementwise_inverse(self, y):
        x = tf.math.log(y)
        return x, -x


POSITIVE_MAPS = {"softplus": Softplus, "exp": Exp}


class UnitInterval(_Elementwise):
    """Exp (or softplus) onto (0, inf), except the dimensions in ``unit``: a logistic map onto (0, 1).

    For physical parameters with different supports in one vector (resistances
    and capacitances positive, CPE exponents in (0, 1)): without the logistic
    map an exponent drawn from exp(N(m, s^2)) leaves (0, 1] and the circuit's
    spectra turn non-finite (docs/design.md, "Electrochemistry conventions").
    y_u = sigmoid(x_u), log|dy_u/dx_u| = log sigmoid(x_u) + log sigmoid(-x_u).

    Args:
      unit: indices of the (0, 1) dimensions.
      positive: the map of the other dimensions, "exp" or "softplus".
    Example:
      >>> y = UnitInterval([1]).forward(tf.constant([[0.0, 0.0]], tf.float64))
      >>> y.numpy().tolist()
      [[1.0, 0.5]]
    """

    def __init__(self, unit, positive="exp", name="unit_interval"):
        parameters = dict(unit=unit, positive=positive, name=name)
        self.unit = sorted(int(i) for i in unit)
        if positive not in POSITIVE_MAPS:
            raise ValueError(f"positive must be one of {sorted(POSITIVE_MAPS)}, got {positive!r}")
        self.positive = POSITIVE_MAPS[positive]()
        super().__init__(parameters, name)

    def _mask(self, x):
        return tf.constant(np.isin(np.arange(x.shape[-1]), self.unit))

    def elementwise(self, x):
        unit = self._mask(x)
        # Each branch sees a safe input, so the unused one stays finite (and so do its gradients).
        u = tf.where(unit, x, tf.zeros_like(x))
        pos, pos_ld = self.positive.elementwise(tf.where(unit, tf.zeros_like(x), x))
        return (tf.where(unit, tf.sigmoid(u), pos),
                tf.where(unit, tf.math.log_sigmoid(u) + tf.math.log_sigmoid(-u), pos_ld))

    def elementwise_inverse(self, y):
        unit = self._mask(y)
        u = tf.where(unit, y, 0.5 * tf.ones_like(y))
        log_u, log_1mu = tf.math.log(u), tf.math.log1p(-u)
        pos, pos_ld = self.positive.elementwise_inverse(tf.where(unit, tf.ones_like(y), y))
        return tf.where(unit, log_u - log_1mu, pos), tf.where(unit, -(log_u + log_1mu), pos_ld)

    def inside(self, y):
        return (y > 0) & ((y < 1) | ~self._mask(y))

    def safe(self, y):
        return tf.where(self._mask(y), 0.5 * tf.ones_like(y), tf.ones_like(y))


def check_unit(unit, event_dim, positive):
    """The sorted indices of unit-interval outputs ([] for none), checked."""
    if unit is None:
        return []
    unit = sorted({int(i) for i in unit})
    if unit and positive is None:
        raise ValueError("unit needs positive='exp' or 'softplus' for the other outputs")
    if any(not 0 <= i < event_dim for i in unit):
        raise ValueError(f"unit indices must lie in [0, {event_dim}), got {unit}")
    return unit
