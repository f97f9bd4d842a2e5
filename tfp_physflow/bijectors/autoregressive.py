"""MaskedAutoregressive: MAF with any element-wise transformer, optionally conditional."""

import tensorflow as tf

from .base import FlowBijector, as_parameter, broadcast_condition
from .transformers import Affine, check_transformer


class MaskedAutoregressive(FlowBijector):
    """Masked autoregressive flow layer.

    Data x, latent z, theta_i = MADE(x_{<i}, c):
      inverse (density, one MADE pass):   z_i = tau^-1(x_i; theta_i)
      forward (sampling, d MADE passes):  x_i = tau(z_i; theta_i), i = 1..d
    tau is the transformer: ``Affine(clamp)`` (x = z exp(s) + t, s soft-clamped)
    or ``RationalQuadratic(num_bins, bound)`` (a spline with identity tails).
    log|det dx/dz| = sum_i log tau'(z_i; theta_i).

    Args:
      made: callable ``made(x, condition)`` -> (..., d, transformer.params_per_dim),
        with the autoregressive property (e.g. ``nn.MaskedMLP``).
      transformer: an element-wise transformer (default ``Affine(2.0)``).
      condition: optional tensor (..., c), broadcast against the input batch.
    Reference: Papamakarios, Pavlakou, Murray, "Masked autoregressive flow for
      density estimation", NeurIPS 2017; Durkan et al. 2019 (spline variant).
    Example:
      >>> made = MaskedMLP(3, 2, hidden_units=(32,)); b = MaskedAutoregressive(made, Affine(2.0))
      >>> x, log_det = b.forward_and_log_det(tf.zeros([5, 3])); x.shape
      TensorShape([5, 3])
    """

    def __init__(self, made, transformer=None, condition=None, name="masked_autoregressive"):
        parameters = dict(locals())
        self.made = made
        self.transformer = Affine() if transformer is None else check_transformer(transformer)
        self.condition = None if condition is None else as_parameter(condition)
        super().__init__(parameters, name)

    def _broadcast(self, x):
        if self.condition is None:
            return x, None
        return broadcast_condition(x, tf.cast(self.condition, x.dtype))

    def inverse_and_log_det(self, y):
        y, cond = self._broadcast(y)
        z, log_det = self.transformer(y, self.made(y, cond), inverse=True)
        return z, tf.reduce_sum(log_det, -1)

    def forward_and_log_det(self, z):
        z, cond = self._broadcast(z)
        tau = self.transformer
        # After pass i the first i+1 dimensions of x are final; d passes in all.
        # The first pass sees no input dimension, so without a condition it
        # is one constant row: computed once, not for every sample.
        if cond is None:
            first = self.made(tf.zeros([1, z.shape[-1]], z.dtype))[0]  # (d, params)
            raw = tf.broadcast_to(first, tf.concat([tf.shape(z), tf.shape(first)[-1:]], 0))
            x, log_det = tau(z, raw, inverse=False)
        else:
            x, log_det = tau(z, self.made(tf.zeros_like(z), cond), inverse=False)
        for _ in range(z.shape[-1] - 1):
            x, log_det = tau(z, self.made(x, cond), inverse=False)
        return x, tf.reduce_sum(log_det, -1)
