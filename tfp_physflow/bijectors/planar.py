"""Planar flow (Rezende & Mohamed 2015): forward and log-det only, for VAE posteriors."""

import numpy as np
import tensorflow as tf

from .base import FlowBijector, as_parameter


def _safe_squared_norm(w):
    """|w|^2, floored at the smallest normal float.

    Why: w = 0 would divide 0 by 0 in the u_hat correction; with the floor the
    correction is exactly 0 there (the layer is then a pure shift).
    """
    tiny = np.finfo(tf.as_dtype(w.dtype).as_numpy_dtype).tiny  # Keras variables name their dtype by string
    return tf.maximum(tf.reduce_sum(w * w, -1, keepdims=True), tiny)


class Planar(FlowBijector):
    """Planar flow f(z) = z + u_hat tanh(w.z + b).

    u_hat = u + (m(w.u) - w.u) w / |w|^2 with m(a) = -1 + softplus(a), so that
    w.u_hat > -1 and f is invertible;
    log|det df/dz| = log(1 + (1 - tanh^2(w.z + b)) w.u_hat).

    The parameters may be amortised (one set per sample, from an encoder):
    ``u`` and ``w`` (..., d), ``b`` (...,), broadcast against the input batch.
    The inverse has no closed form and is not provided; use planar flows where
    only sampling and the log-det are needed (variational posteriors).

    Args:
      u, w: tensors (..., d).
      b: tensor (...,).
    Reference: D. Rezende, S. Mohamed, "Variational inference with normalizing
      flows", ICML 2015, Sec. 4.1 and App. A.1.
    Example:
      >>> b = Planar(u=[1., 0.], w=[0.5, 0.5], b=0.)
      >>> z, log_det = b.forward_and_log_det(tf.random.normal([8, 2]))
    """

    def __init__(self, u, w, b, name="planar"):
        parameters = dict(locals())
        self.u = as_parameter(u)
        self.w = as_parameter(w, self.u.dtype)
        self.b = as_parameter(b, self.u.dtype)
        super().__init__(parameters, name)

    def u_hat(self):
        """The constrained u, with w . u_hat > -1."""
        wu = tf.reduce_sum(self.w * self.u, -1, keepdims=True)
        m = -1.0 + tf.nn.softplus(wu)
        return self.u + (m - wu) * self.w / _safe_squared_norm(self.w)

    def forward_and_log_det(self, z):
        u_hat = self.u_hat()
        h = tf.tanh(tf.reduce_sum(self.w * z, -1) + self.b)
        y = z + u_hat * h[..., None]
        log_det = tf.math.log1p((1.0 - h * h) * tf.reduce_sum(self.w * u_hat, -1))
        return y, log_det

    def inverse_and_log_det(self, y):
        raise NotImplementedError(
            "Planar has no closed-form inverse: use it for sampling and log-dets "
            "(variational posteriors), not for density evaluation of data")
