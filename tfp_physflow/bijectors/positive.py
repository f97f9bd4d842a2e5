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
