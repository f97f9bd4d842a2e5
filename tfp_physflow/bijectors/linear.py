"""Element-wise and linear bijectors: DiagonalAffine and LULinear."""

import tensorflow as tf

from .base import FlowBijector, as_parameter


class DiagonalAffine(FlowBijector):
    """Dimension-wise scale and shift (the DiagonalFlow of Schindler & Schmid).

    y = x * exp(log_scale) + shift,   log|det J| = sum(log_scale).

    Args:
      shift: tensor (d,) (or broadcastable to the input).
      log_scale: tensor (d,), the logarithm of the positive scale.
    Reference: Papamakarios et al., "Normalizing flows for probabilistic
      modeling and inference", JMLR 2021, Sec. 3.
    Example:
      >>> b = DiagonalAffine(shift=[1., 0.], log_scale=[0., 1.])
      >>> y, log_det = b.forward_and_log_det(tf.zeros([5, 2]))
    """

    def __init__(self, shift, log_scale, name="diagonal_affine"):
        parameters = dict(locals())
        self.shift = as_parameter(shift)
        self.log_scale = as_parameter(log_scale, self.shift.dtype)
        super().__init__(parameters, name, is_constant_jacobian=True)

    def _log_det(self, x):
        return tf.broadcast_to(tf.reduce_sum(self.log_scale, -1), tf.shape(x)[:-1])

    def forward_and_log_det(self, x):
        return x * tf.exp(self.log_scale) + self.shift, self._log_det(x)

    def inverse_and_log_det(self, y):
        return (y - self.shift) * tf.exp(-self.log_scale), -self._log_det(y)


class LULinear(FlowBijector):
    """An invertible linear map W = P L U, plus an optional shift.

    y = x W^T + shift,   log|det J| = sum(log|diag U|).

    ``lower_upper`` packs L (unit lower triangle, strictly below the diagonal)
    and U (upper triangle with diagonal) in one (d, d) matrix, as in
    ``tf.linalg.lu``; ``permutation`` is a fixed permutation of range(d).

    Args:
      lower_upper: tensor (d, d).
      permutation: int sequence or tensor (d,).
      shift: optional tensor (d,).
    Reference: Kingma & Dhariwal, "Glow", NeurIPS 2018 (LU-decomposed 1x1
      convolution); Oliva et al. 2018.
    Example:
      >>> b = LULinear(tf.eye(3), permutation=[2, 0, 1])
    """

    def __init__(self, lower_upper, permutation, shift=None, name="lu_linear"):
        parameters = dict(locals())
        self.lower_upper = as_parameter(lower_upper)
        self.permutation = tf.convert_to_tensor(permutation, dtype=tf.int32)
        self.shift = None if shift is None else as_parameter(shift, self.lower_upper.dtype)
        super().__init__(parameters, name, is_constant_jacobian=True)

    def _factors(self):
        lu = tf.convert_to_tensor(self.lower_upper)
        d = tf.shape(lu)[-1]
        eye = tf.eye(d, dtype=lu.dtype)
        lower = tf.linalg.band_part(lu, -1, 0) - tf.linalg.band_part(lu, 0, 0) + eye
        upper = tf.linalg.band_part(lu, 0, -1)
        perm = tf.gather(eye, self.permutation)  # rows of the identity: P
        return perm, lower, upper

    def _log_det(self, x):
        diag = tf.linalg.diag_part(tf.convert_to_tensor(self.lower_upper))
        return tf.broadcast_to(tf.reduce_sum(tf.math.log(tf.abs(diag))), tf.shape(x)[:-1])

    def forward_and_log_det(self, x):
        perm, lower, upper = self._factors()
        w = perm @ lower @ upper
        y = _times_transpose(x, w)
        if self.shift is not None:
            y = y + self.shift
        return y, self._log_det(x)

    def inverse_and_log_det(self, y):
        perm, lower, upper = self._factors()
        # W^-1 = U^-1 L^-1 P^T, from two triangular solves on a (d, d) matrix.
        inv = tf.linalg.triangular_solve(lower, tf.transpose(perm), lower=True)
        inv = tf.linalg.triangular_solve(upper, inv, lower=False)
        if self.shift is not None:
            y = y - self.shift
        return _times_transpose(y, inv), -self._log_det(y)


def _times_transpose(x, w):
    """x @ w^T over the last axis: a batch (..., d), or one unbatched x (d,) as TFP's log_prob of one event."""
    if x.shape.rank == 1:
        return tf.linalg.matvec(w, x)
    return tf.matmul(x, w, transpose_b=True)
