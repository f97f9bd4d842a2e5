"""Checks on what users hand to the public API, with errors that name the problem."""

import math
import numbers

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


def real_array(value, name):
    """A NumPy array of real numbers from ``value`` (a tensor is returned as it is, its dtype checked).

    Complex values, strings and other objects are refused with a ValueError
    naming ``name``, instead of losing an imaginary part or failing in a cast.
    """
    if tf.is_tensor(value):
        if not (value.dtype.is_floating or value.dtype.is_integer):
            raise ValueError(f"{name} must hold real numbers, got dtype {value.dtype.name}")
        return value
    try:
        array = np.asarray(value)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers: {err}") from None
    if array.dtype.kind not in "fiu":
        what = "complex numbers" if array.dtype.kind == "c" else f"dtype {array.dtype}"
        raise ValueError(f"{name} must hold real numbers, got {what}")
    return array


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


def positive_int(value, name):
    """``value`` as an int >= 1 (NumPy ints too; a bool or a float such as 2.5 is refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def non_negative_int(value, name):
    """``value`` as an int >= 0 (NumPy ints too; a bool, a float or a string is refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def optional_count(value, name):
    """None, or ``value`` as an int >= 0."""
    return None if value is None else non_negative_int(value, name)


def positive_number(value, name):
    """``value`` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)
