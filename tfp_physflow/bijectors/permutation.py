"""Volume-preserving reorderings of the event: Reverse and Permutation."""

import numpy as np
import tensorflow as tf

from .base import FlowBijector


class Permutation(FlowBijector):
    """A fixed permutation of the event dimensions: y[..., i] = x[..., perm[i]].

    log|det J| = 0. Placed between couplings so that every dimension is
    transformed; use ``Permutation.random(d, seed)`` for a fixed random order.

    Args:
      permutation: int sequence, a permutation of range(d).
    Example:
      >>> Permutation([2, 0, 1]).forward(tf.constant([[1., 2., 3.]])).numpy().tolist()
      [[3.0, 1.0, 2.0]]
    """

    def __init__(self, permutation, name="permutation"):
        parameters = dict(locals())
        perm = np.asarray(permutation, dtype=np.int64)
        if perm.ndim != 1 or sorted(perm.tolist()) != list(range(perm.size)):
            raise ValueError(f"permutation must be a permutation of range(d), got {perm.tolist()}")
        self.permutation = tf.constant(perm, tf.int32)
        self.inverse_permutation = tf.constant(np.argsort(perm), tf.int32)
        super().__init__(parameters, name, is_constant_jacobian=True)

    @classmethod
    def random(cls, event_dim, seed):
        """A fixed random permutation drawn from ``numpy.random.default_rng(seed)``."""
        return cls(np.random.default_rng(seed).permutation(event_dim))

    def forward_and_log_det(self, x):
        return tf.gather(x, self.permutation, axis=-1), tf.zeros(tf.shape(x)[:-1], x.dtype)

    def inverse_and_log_det(self, y):
        return tf.gather(y, self.inverse_permutation, axis=-1), tf.zeros(tf.shape(y)[:-1], y.dtype)


class Reverse(FlowBijector):
    """Reverses the event dimensions (the 'flip' between cINN blocks).

    y = x[..., ::-1],   log|det J| = 0.
    """

    def __init__(self, name="reverse"):
        super().__init__(dict(name=name), name, is_constant_jacobian=True)

    def forward_and_log_det(self, x):
        return tf.reverse(x, [-1]), tf.zeros(tf.shape(x)[:-1], x.dtype)

    def inverse_and_log_det(self, y):
        return self.forward_and_log_det(y)
