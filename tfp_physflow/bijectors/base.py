"""The one protocol every tfp_physflow bijector follows.

Each bijector computes ``(y, log_det)`` in ONE pass of its conditioner
(``forward_and_log_det`` / ``inverse_and_log_det``). The TFP methods
(``_forward``, ``_inverse``, ``_*_log_det_jacobian``) are derived from those, so
the same object works inside ``tfd.TransformedDistribution`` and ``tfb.Chain``,
while ``Flow`` walks the chain through the single-pass methods and never
touches TFP's bijector cache (which can return stale results after an
optimiser step; docs/design.md, "Measured pitfalls").
"""

import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class FlowBijector(tfb.Bijector):
    """Base class: a vector bijector (event rank 1) with single-pass methods.

    Subclasses implement ``forward_and_log_det(x)`` and, when invertible in
    closed form, ``inverse_and_log_det(y)``. Both return the transformed
    tensor and the log-determinant summed over the event, with the batch shape
    of the input.
    """

    def __init__(self, parameters, name, is_constant_jacobian=False):
        super().__init__(
            forward_min_event_ndims=1,
            is_constant_jacobian=is_constant_jacobian,
            validate_args=False,
            parameters=parameters,
            name=name,
        )

    @classmethod
    def _parameter_properties(cls, dtype):
        # Our bijectors broadcast over any batch of inputs and carry no batch
        # shape of their own; a conditional flow puts the condition's batch
        # shape on the base distribution instead (see Flow.distribution).
        return {}

    def forward_and_log_det(self, x):
        """Returns ``(y, log|det dy/dx|)`` for latent ``x``."""
        raise NotImplementedError(f"{type(self).__name__} must define forward_and_log_det")

    def inverse_and_log_det(self, y):
        """Returns ``(x, log|det dx/dy|)`` for data ``y``."""
        raise NotImplementedError(f"{type(self).__name__} must define inverse_and_log_det")

    # TFP's interface, derived from the single-pass methods.
    def _forward(self, x):
        return self.forward_and_log_det(x)[0]

    def _inverse(self, y):
        return self.inverse_and_log_det(y)[0]

    def _forward_log_det_jacobian(self, x):
        return self.forward_and_log_det(x)[1]

    def _inverse_log_det_jacobian(self, y):
        return self.inverse_and_log_det(y)[1]


def broadcast_condition(x, condition):
    """Broadcasts ``x`` (..., d) and ``condition`` (..., c) to one batch shape.

    Returns both tensors with the broadcast batch shape, so that they can be
    concatenated along the last axis.
    """
    batch = tf.broadcast_dynamic_shape(tf.shape(x)[:-1], tf.shape(condition)[:-1])
    x = tf.broadcast_to(x, tf.concat([batch, tf.shape(x)[-1:]], 0))
    condition = tf.broadcast_to(condition, tf.concat([batch, tf.shape(condition)[-1:]], 0))
    return x, condition


def as_parameter(value, dtype=None):
    """Keeps tensors and variables as they are (a variable is read at call time,
    inside the caller's GradientTape); converts anything else to a tensor.

    Why: ``tf.convert_to_tensor(variable)`` at construction would snapshot the
    variable, and a bijector built outside the tape would train nothing.
    """
    if isinstance(value, tf.Variable) or tf.is_tensor(value):
        if dtype is not None and value.dtype != dtype:
            raise ValueError(f"parameter dtype {value.dtype.name} differs from {tf.as_dtype(dtype).name}")
        return value
    return tf.convert_to_tensor(value, dtype=dtype)
