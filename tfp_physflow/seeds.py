"""Seeded sampling shared by flows and VAEs: one way to turn a user's seed into noise."""

import numbers

import tensorflow as tf


def standard_normal(shape, seed=None, dtype="float32"):
    """N(0, 1) noise of ``shape``; ``seed`` is None, an int or a shape-[2] tensor.

    With a seed the draw is stateless and repeatable. Philox is named
    explicitly: the auto-selected algorithm differs under XLA, and a seed must
    give the same samples in every mode (eager, tf.function, XLA).
    """
    if seed is None:
        return tf.random.normal(shape, dtype=dtype)
    seed = _seed_pair(seed)
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype, alg="philox")


def uniform(shape, seed=None, dtype="float32"):
    """U(0, 1) noise of ``shape``, seeded as ``standard_normal``."""
    if seed is None:
        return tf.random.uniform(shape, dtype=dtype)
    seed = _seed_pair(seed)
    return tf.random.stateless_uniform(shape, seed=seed, dtype=dtype, alg="philox")


def _seed_pair(seed):
    """A stateless seed: an int becomes [seed, 0]; a tensor or pair of ints is kept; anything else is refused."""
    if tf.is_tensor(seed):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return [int(seed), 0]
    if isinstance(seed, (list, tuple)) and len(seed) == 2 and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in seed):
        return [int(s) for s in seed]
    raise ValueError(f"seed must be None, an int or a pair of ints (a shape-[2] tensor), got {seed!r}")
