"""Checks on what users hand to the public API, with errors that name the problem."""

import numpy as np
import tensorflow as tf


def as_real_tensor(value, name, dtype, last_dim):
    """Converts ``value`` to a ``dtype`` tensor of shape (..., last_dim).

    Raises ValueError for a non-real dtype, a wrong last dimension, or, for
    concrete (eager) values, NaN or inf. Inside a traced graph only the static
    shape is checked: the training loop validates its data once up front.
    """
    if not tf.is_tensor(value):
        value = np.asarray(value)
        if value.dtype.kind not in "fiu":
            raise ValueError(f"{name} must hold real numbers, got dtype {value.dtype}")
    elif not (value.dtype.is_floating or value.dtype.is_integer):
        raise ValueError(f"{name} must hold real numbers, got dtype {value.dtype.name}")
    value = tf.cast(value, dtype)
    shape = value.shape
    if shape.rank is not None and (shape.rank == 0 or shape[-1] not in (None, last_dim)):
        raise ValueError(f"{name} must have shape (..., {last_dim}), got {tuple(shape)}")
    if hasattr(value, "numpy"):  # concrete (eager) values only
        check_finite_array(value.numpy(), name)
    return value


def check_finite_array(array, name):
    """Raises ValueError naming ``name`` when ``array`` holds NaN or inf."""
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} contains NaN or inf ({int(bad.sum())} of {bad.size} values)")


def check_batch_compatible(x, condition):
    """Raises ValueError when the batch shapes of x and condition cannot broadcast."""
    xs, cs = x.shape[:-1], condition.shape[:-1]
    if xs.is_fully_defined() and cs.is_fully_defined():
        try:
            np.broadcast_shapes(tuple(xs), tuple(cs))
        except ValueError:
            raise ValueError(f"x batch shape {tuple(xs)} and condition batch shape {tuple(cs)} "
                             "do not broadcast") from None
