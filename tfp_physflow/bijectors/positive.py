"""Maps onto the positive reals, for physical parameters: Softplus and Exp."""

import tensorflow as tf

from .base import FlowBijector


class Softplus(FlowBijector):
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

    def forward_and_log_det(self, x):
        return tf.nn.softplus(x), -tf.reduce_sum(tf.nn.softplus(-x), -1)

    def inverse_and_log_det(self, y):
        x = y + tf.math.log(-tf.math.expm1(-y))
        return x, tf.reduce_sum(tf.nn.softplus(-x), -1)


class Exp(FlowBijector):
    """y = exp(x) > 0,  log|dy/dx| = sum(x)."""

    def __init__(self, name="exp"):
        super().__init__(dict(name=name), name)

    def forward_and_log_det(self, x):
        return tf.exp(x), tf.reduce_sum(x, -1)

    def inverse_and_log_det(self, y):
        x = tf.math.log(y)
        return x, -tf.reduce_sum(x, -1)


POSITIVE_MAPS = {"softplus": Softplus, "exp": Exp}


class UnitInterval(FlowBijector):
    """Exp onto (0, inf), except the dimensions in ``unit``: a logistic map onto (0, 1).

    For physical parameters with different supports in one vector (resistances
    and capacitances positive, CPE exponents in (0, 1)): without the logistic
    map an exponent drawn from exp(N(m, s^2)) leaves (0, 1] and the circuit's
    spectra turn non-finite (docs/design.md, "Measured pitfalls").
    y_i = exp(x_i), log|dy_i/dx_i| = x_i;  y_u = sigmoid(x_u),
    log|dy_u/dx_u| = log sigmoid(x_u) + log sigmoid(-x_u).

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
        index = tf.range(tf.shape(x)[-1])
        return tf.reduce_any(tf.equal(index[:, None], tf.constant(self.unit, tf.int32)[None, :]), -1)

    def forward_and_log_det(self, x):
        unit = self._mask(x)
        # Each branch sees a safe input, so the unused one stays finite (and so do its gradients).
        pos, pos_ld = self._elementwise_positive(tf.where(unit, tf.zeros_like(x), x))
        u = tf.where(unit, x, tf.zeros_like(x))
        y = tf.where(unit, tf.sigmoid(u), pos)
        ld = tf.where(unit, tf.math.log_sigmoid(u) + tf.math.log_sigmoid(-u), pos_ld)
        return y, tf.reduce_sum(ld, -1)

    def inverse_and_log_det(self, y):
        unit = self._mask(y)
        u = tf.where(unit, y, 0.5 * tf.ones_like(y))
        x_unit = tf.math.log(u) - tf.math.log1p(-u)
        x_pos = self._elementwise_positive_inverse(tf.where(unit, tf.ones_like(y), y))
        x = tf.where(unit, x_unit, x_pos)
        _, ld = self.forward_and_log_det(x)
        return x, -ld

    def _elementwise_positive(self, x):
        if isinstance(self.positive, Exp):
            return tf.exp(x), x
        return tf.nn.softplus(x), -tf.nn.softplus(-x)

    def _elementwise_positive_inverse(self, y):
        if isinstance(self.positive, Exp):
            return tf.math.log(y)
        return y + tf.math.log(-tf.math.expm1(-y))
