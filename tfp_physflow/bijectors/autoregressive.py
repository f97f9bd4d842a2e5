"""MaskedAutoregressive: MAF with an affine or a spline transformer, optionally conditional."""

import tensorflow as tf

from .base import FlowBijector, as_parameter, broadcast_condition, elementwise_affine
from .splines import num_spline_params, rational_quadratic

TRANSFORMERS = ("affine", "spline")


class MaskedAutoregressive(FlowBijector):
    """Masked autoregressive flow layer.

    Data x, latent z, theta_i = MADE(x_{<i}, c):
      inverse (density, one MADE pass):   z_i = tau^-1(x_i; theta_i)
      forward (sampling, d MADE passes):  x_i = tau(z_i; theta_i), i = 1..d
    tau is affine, x = z exp(s) + t with s = clamp tanh(s_raw / clamp), or a
    rational-quadratic spline with identity tails.
    log|det dx/dz| = sum_i log tau'(z_i; theta_i).

    Args:
      made: callable ``made(x, condition)`` -> (..., d, params_per_dim), with
        the autoregressive property (e.g. ``nn.MaskedMLP``).
      transformer: "affine" (2 params per dim) or "spline" (3K-1 per dim).
      condition: optional tensor (..., c), broadcast against the input batch.
      clamp: affine only, bound on |s|.
      num_bins, bound: spline only.
    Reference: Papamakarios, Pavlakou, Murray, "Masked autoregressive flow for
      density estimation", NeurIPS 2017; Durkan et al. 2019 (spline variant).
    Example:
      >>> made = MaskedMLP(3, 2, hidden_units=(32,)); b = MaskedAutoregressive(made)
      >>> x, log_det = b.forward_and_log_det(tf.zeros([5, 3]))
    """

    def __init__(self, made, transformer="affine", condition=None, clamp=2.0, num_bins=8,
                 bound=4.0, name="masked_autoregressive"):
        parameters = dict(locals())
        if transformer not in TRANSFORMERS:
            raise ValueError(f"transformer must be one of {TRANSFORMERS}, got {transformer!r}")
        self.made, self.transformer = made, transformer
        self.condition = None if condition is None else as_parameter(condition)
        self.clamp, self.num_bins, self.bound = float(clamp), int(num_bins), float(bound)
        super().__init__(parameters, name)

    @staticmethod
    def params_per_dim(transformer, num_bins=8):
        """Width of the MADE's per-dimension output for a transformer."""
        return 2 if transformer == "affine" else num_spline_params(num_bins)

    def _broadcast(self, x):
        if self.condition is None:
            return x, None
        return broadcast_condition(x, tf.cast(self.condition, x.dtype))

    def _tau(self, x, raw, inverse):
        if self.transformer == "affine":
            return elementwise_affine(x, raw, self.clamp, inverse)
        return rational_quadratic(x, raw, self.bound, inverse)

    def inverse_and_log_det(self, y):
        y, cond = self._broadcast(y)
        z, log_det = self._tau(y, self.made(y, cond), inverse=True)
        return z, tf.reduce_sum(log_det, -1)

    def forward_and_log_det(self, z):
        z, cond = self._broadcast(z)
        # After pass i the first i+1 dimensions of x are final; d passes in all.
        # The first pass sees no input dimension, so without a condition it
        # is one constant row: computed once, not for every sample.
        if cond is None:
            first = self.made(tf.zeros([1, z.shape[-1]], z.dtype))[0]  # (d, params)
            raw = tf.broadcast_to(first, tf.concat([tf.shape(z), tf.shape(first)[-1:]], 0))
            x, log_det = self._tau(z, raw, inverse=False)
        else:
            x, log_det = self._tau(z, self.made(tf.zeros_like(z), cond), inverse=False)
        for _ in range(z.shape[-1] - 1):
            x, log_det = self._tau(z, self.made(x, cond), inverse=False)
        return x, tf.reduce_sum(log_det, -1)
