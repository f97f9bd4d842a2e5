"""Taking an event apart along its last axis, in the form each compiler runs best.

Why two forms: without XLA, a slice's gradient is ``StridedSliceGrad``, a
scatter into a zero tensor (2.3 ms of a 25 ms cINN train step); ``tf.split``
and ``tf.unstack`` have one concatenation as their gradient. Under XLA the
slices stay: splitting there changed XLA's float32 rounding of trained flows
(every README table trained with XLA would have moved) and made the compile
of a deep spline step explode (d = 8, 16 layers: 15 s -> 37 s). The values
are the same either way, and so are the gradients without XLA, bit for bit
(docs/design.md, "Measured pitfalls").
"""

import tensorflow as tf
# TensorFlow's own test for an XLA trace (not public API; TFP and TF's gradients use it too).
from tensorflow.python.framework import ops
from tensorflow.python.ops import control_flow_util


def in_xla_trace():
    """True while a function that XLA will compile is being traced (TFP's ``implementation_selection.is_xla``)."""
    return not tf.executing_eagerly() and control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph())


def split_last(x, num_first):
    """``(x[..., :num_first], x[..., num_first:])``."""
    if in_xla_trace():
        return x[..., :num_first], x[..., num_first:]
    return tuple(tf.split(x, [num_first, -1], axis=-1))


def unstack_last(x, num):
    """``[x[..., i] for i in range(num)]``: the ``num`` entries of the last axis, known or not at trace time."""
    if in_xla_trace():
        return [x[..., i] for i in range(num)]
    return tf.unstack(x, num=num, axis=-1)
