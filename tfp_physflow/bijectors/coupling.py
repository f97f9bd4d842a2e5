"""Coupling bijectors: one ``Coupling`` with any element-wise transformer.

``AffineCoupling`` (RealNVP; the cINN block with a condition) and
``SplineCoupling`` (neural spline flow) are ``Coupling`` with ``Affine`` and
``RationalQuadratic`` transformers.
"""

import tensorflow as tf

from .base import FlowBijector, as_parameter, broadcast_condition
from .slicing import split_last
from .transformers import Affine, RationalQuadratic, check_transformer


class Coupling(FlowBijector):
    """Keeps x[..., :num_fixed] and transforms the rest element-wise, with
    parameters from ONE conditioner call on the kept part (and the condition).

    y1 = x1,  y2 = tau(x2; theta),  theta = net([x1, c]),
    log|det J| = sum log tau'(x2; theta).

    Args:
      conditioner: callable, (..., num_fixed [+ c]) ->
        (..., (d - num_fixed) * transformer.params_per_dim).
      num_fixed: int >= 1, how many leading dimensions pass through unchanged.
      transformer: an element-wise transformer (``Affine(clamp)``,
        ``RationalQuadratic(num_bins, bound)``).
      condition: optional tensor (..., c), broadcast against the input batch.
    Reference: Dinh et al., "Density estimation using Real NVP", ICLR 2017;
      Ardizzone et al., "Guided image generation with conditional invertible
      neural networks", 2019 (soft clamping, conditioning every block);
      Durkan et al., "Neural spline flows", NeurIPS 2019.
    Example:
      >>> b = Coupling(MLP(2 * 1), num_fixed=1, transformer=Affine(2.0))
      >>> y, log_det = b.forward_and_log_det(tf.zeros([4, 2])); y.shape, log_det.shape
      (TensorShape([4, 2]), TensorShape([4]))
    """

    def __init__(self, conditioner, num_fixed, transformer, condition=None, name="coupling"):
        parameters = dict(locals())
        if int(num_fixed) < 1:
            raise ValueError(f"num_fixed must be >= 1, got {num_fixed}")
        self.conditioner = conditioner
        self.num_fixed = int(num_fixed)
        self.transformer = check_transformer(transformer)
        self.condition = None if condition is None else as_parameter(condition)
        super().__init__(parameters, name)

    def _apply(self, x, inverse):
        if self.condition is not None:
            x, cond = broadcast_condition(x, tf.cast(self.condition, x.dtype))
        fixed, moving = split_last(x, self.num_fixed)
        raw = self.conditioner(fixed if self.condition is None else tf.concat([fixed, cond], -1))
        raw = tf.reshape(raw, tf.concat([tf.shape(moving), [self.transformer.params_per_dim]], 0))
        out, log_det = self.transformer(moving, raw, inverse)
        return tf.concat([fixed, out], -1), tf.reduce_sum(log_det, -1)

    def forward_and_log_det(self, x):
        return self._apply(x, inverse=False)

    def inverse_and_log_det(self, y):
        return self._apply(y, inverse=True)


class AffineCoupling(Coupling):
    """``Coupling`` with ``Affine(clamp)``: RealNVP; with a ``condition`` the cINN block.

    Example:
      >>> b = AffineCoupling(MLP(2 * 1), num_fixed=1)
      >>> y, log_det = b.forward_and_log_det(tf.zeros([4, 2]))
    """

    def __init__(self, conditioner, num_fixed, condition=None, clamp=2.0, name="affine_coupling"):
        super().__init__(conditioner, num_fixed, Affine(clamp), condition, name)


class SplineCoupling(Coupling):
    """``Coupling`` with ``RationalQuadratic(num_bins, bound)``: neural spline flow, identity tails.

    Example:
      >>> b = SplineCoupling(MLP(1 * (3 * 8 - 1)), num_fixed=1, num_bins=8)
    """

    def __init__(self, conditioner, num_fixed, num_bins=8, bound=4.0, condition=None, name="spline_coupling"):
        super().__init__(conditioner, num_fixed, RationalQuadratic(num_bins, bound), condition, name)
