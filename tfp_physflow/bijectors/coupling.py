"""Coupling bijectors: AffineCoupling (RealNVP; cINN with a condition) and SplineCoupling (NSF)."""

import tensorflow as tf

from .base import FlowBijector, as_parameter, broadcast_condition, elementwise_affine
from .splines import rational_quadratic


class _Coupling(FlowBijector):
    """Keeps x[..., :num_fixed] and transforms the rest, element-wise, with
    parameters computed by ONE conditioner call on the kept part (and the
    condition): a single pass gives both the output and the log-det."""

    params_per_dim = None

    def __init__(self, conditioner, num_fixed, condition, parameters, name):
        if int(num_fixed) < 1:
            raise ValueError(f"num_fixed must be >= 1, got {num_fixed}")
        self.conditioner = conditioner
        self.num_fixed = int(num_fixed)
        self.condition = None if condition is None else as_parameter(condition)
        super().__init__(parameters, name)

    def _split(self, x):
        if self.condition is not None:
            x, cond = broadcast_condition(x, tf.cast(self.condition, x.dtype))
        fixed, moving = x[..., :self.num_fixed], x[..., self.num_fixed:]
        net_in = fixed if self.condition is None else tf.concat([fixed, cond], -1)
        raw = self.conditioner(net_in)
        raw = tf.reshape(raw, tf.concat([tf.shape(moving), [self.params_per_dim]], 0))
        return fixed, moving, raw

    def _apply(self, x, inverse):
        fixed, moving, raw = self._split(x)
        out, log_det = self._transform(moving, raw, inverse)
        return tf.concat([fixed, out], -1), tf.reduce_sum(log_det, -1)

    def forward_and_log_det(self, x):
        return self._apply(x, inverse=False)

    def inverse_and_log_det(self, y):
        return self._apply(y, inverse=True)


class AffineCoupling(_Coupling):
    """RealNVP affine coupling; with a ``condition`` it is the cINN block.

    y1 = x1,  y2 = x2 * exp(s) + t,  (s, t) = split(net([x1, c])),
    s = clamp * tanh(s_raw / clamp),  log|det J| = sum(s).

    Args:
      conditioner: callable, (..., num_fixed [+ c]) -> (..., 2 * (d - num_fixed)),
        laid out as (shift, raw log-scale) per transformed dimension.
      num_fixed: int, how many leading dimensions pass through unchanged.
      condition: optional tensor (..., c), broadcast against the input batch.
      clamp: float, bound on |s| (soft clamp; keeps 20-block flows finite).
    Reference: Dinh et al., "Density estimation using Real NVP", ICLR 2017;
      Ardizzone et al., "Guided image generation with conditional invertible
      neural networks", 2019 (soft clamping, conditioning every block).
    Example:
      >>> net = MLP(2 * 1); b = AffineCoupling(net, num_fixed=1)
      >>> y, log_det = b.forward_and_log_det(tf.zeros([4, 2]))
    """

    params_per_dim = 2

    def __init__(self, conditioner, num_fixed, condition=None, clamp=2.0, name="affine_coupling"):
        parameters = dict(locals())
        self.clamp = float(clamp)
        super().__init__(conditioner, num_fixed, condition, parameters, name)

    def _transform(self, x, raw, inverse):
        return elementwise_affine(x, raw, self.clamp, inverse)


class SplineCoupling(_Coupling):
    """Rational-quadratic spline coupling (neural spline flow), identity tails.

    y1 = x1,  y2 = RQS(x2; theta),  theta = net([x1, c]),
    log|det J| = sum log RQS'(x2)  (0 outside [-bound, bound]).

    Args:
      conditioner: callable, (..., num_fixed [+ c]) -> (..., (d - num_fixed) * (3K - 1)).
      num_fixed: int, how many leading dimensions pass through unchanged.
      num_bins: int, K.
      bound: float, the spline acts on [-bound, bound].
      condition: optional tensor (..., c).
    Reference: Durkan et al., "Neural spline flows", NeurIPS 2019.
    Example:
      >>> net = MLP(2 * (3 * 8 - 1)); b = SplineCoupling(net, num_fixed=1, num_bins=8)
    """

    def __init__(self, conditioner, num_fixed, num_bins=8, bound=4.0, condition=None,
                 name="spline_coupling"):
        parameters = dict(locals())
        if int(num_bins) < 2:
            raise ValueError(f"num_bins must be >= 2, got {num_bins}")
        if not bound > 0:
            raise ValueError(f"bound must be positive, got {bound}")
        self.num_bins, self.bound = int(num_bins), float(bound)
        self.params_per_dim = 3 * self.num_bins - 1
        super().__init__(conditioner, num_fixed, condition, parameters, name)

    def _transform(self, x, raw, inverse):
        return rational_quadratic(x, raw, self.bound, inverse)
