"""Seeded sampling shared by flows and VAEs: one way to turn a user's seed into noise."""

import tensorflow as tf


def standard_normal(shape, seed=None, dtype="float32"):
    """N(0, 1) noise of ``shape``; ``seed`` is None, an int or a shape-[2] tensor.

    With a seed the draw is stateless and repeatable. Philox is named
    explicitly: the auto-selected algorithm differs under XLA, and a seed must
    give the same samples in every mode (eager, tf.function, XLA).
    """
    if seed is None:
        return tf.random.normal(shape, dtype=dtype)
    if isinstance(seed, int):
        seed = [seed, 0]
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype, alg="philox")


def uniform(shape, seed=None, dtype="float32"):
    """U(0, 1) noise of ``shape``, seeded as ``standard_normal``."""
    if seed is None:
        return tf.random.uniform(shape, dtype=dtype)
    if isinstance(seed, int):
        seed = [seed, 0]
    return tf.random.stateless_uniform(shape, seed=seed, dtype=dtype, alg="philox")
