"""fit_flow: maximum-likelihood training of a Flow through the one loop."""

import numpy as np
import tensorflow as tf

from .loop import fit
from .losses import NegativeLogLikelihood


def fit_flow(flow, x, condition=None, **kwargs):
    """Fits ``flow`` to samples ``x`` (N, d) [given ``condition`` (N, c)] by maximum likelihood.

    Minimises the mean negative log-likelihood with ``train.loop.fit``; every
    keyword argument of ``fit`` applies (validation, early stopping,
    schedule, strategy, checkpoints, ...). ``validation_data`` for a
    conditional flow is a tuple (x_val, condition_val).

    Example:
      >>> flow = make_flow("nsf", 2, num_layers=2)
      >>> x = pf.data.two_moons(1000, seed=0)
      >>> history = fit_flow(flow, x, epochs=3, validation_split=0.1, patience=5, verbose=False)
      >>> len(history), history.stop_reason
      (3, 'reached 3 epochs')
    """
    if (condition is None) != (flow.condition_dim is None):
        raise ValueError("a conditional flow needs condition=, an unconditional one takes none "
                         f"(condition_dim={flow.condition_dim})")
    arrays = []
    for name, array, dim in (("x", x, flow.event_dim), ("condition", condition, flow.condition_dim)):
        if array is None:
            if name == "x":
                raise ValueError(f"x is None: give the samples, an array (N, {dim})")
            continue
        array = _as_array(array, name)
        shape = getattr(array, "shape", None)
        if shape is None or len(shape) != 2 or shape[1] != dim:
            raise ValueError(f"{name} must have shape (N, {dim}), got {shape}")
        arrays.append(array)
    return fit(flow, NegativeLogLikelihood(), tuple(arrays), **kwargs)


def _as_array(array, name):
    if tf.is_tensor(array) or isinstance(array, np.ndarray):
        return array
    try:
        return np.asarray(array, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers (N, d), got {type(array).__name__}") from None
