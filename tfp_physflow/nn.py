"""Keras 3 conditioner networks: MLP, ResidualMLP and MaskedMLP (MADE).

Every network's output layer is zero-initialised by default, so the flows
built on them start at (close to) the identity map. TFP's
``tfb.AutoregressiveNetwork`` is Keras 2 only; ``MaskedMLP`` is our own MADE.
"""

import functools

import keras
import numpy as np
import tensorflow as tf


def _output_initializer(zero_init, seed=None, index=0):
    return "zeros" if zero_init else _kernel_initializer(seed, index)


def _kernel_initializer(seed, index):
    """Glorot uniform; seeded per layer (``seed``, ``index``) when ``seed`` is given.

    Why: without a seed Keras draws from its global generator, so a
    repeatable model would need ``keras.utils.set_random_seed`` (global state).
    """
    if seed is None:
        return "glorot_uniform"
    return keras.initializers.GlorotUniform(seed=int(seed) * 1009 + index)


def _unbatched_ok(call):
    """Lets a network's call take one unbatched input (shape (d,)), as TFP's log_prob of one event does."""

    @functools.wraps(call)  # Keras reads call's signature
    def wrapped(self, x, *args, **kwargs):
        if x.shape.rank != 1:
            return call(self, x, *args, **kwargs)
        args = [a if a is None or a.shape.rank != 1 else a[None] for a in args]
        kwargs = {k: a if a is None or a.shape.rank != 1 else a[None] for k, a in kwargs.items()}
        return call(self, x[None], *args, **kwargs)[0]

    return wrapped


@keras.saving.register_keras_serializable(package="tfp_physflow")
class MLP(keras.layers.Layer):
    """A dense network: hidden layers with ``activation``, then a linear output.

    Args:
      out_dim: int, output width.
      hidden_units: sequence of hidden widths.
      activation: Keras activation name for the hidden layers.
      zero_init_output: start with a zero output (identity flows).
      seed: optional int, seeds the initial weights (None: Keras's global generator).
    Example:
      >>> net = MLP(4, hidden_units=(64, 64)); net(tf.zeros([8, 3])).shape
      TensorShape([8, 4])
    """

    def __init__(self, out_dim, hidden_units=(64, 64), activation="relu",
                 zero_init_output=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.out_dim = int(out_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.zero_init_output = bool(zero_init_output)
        self.hidden = [keras.layers.Dense(u, activation=activation, dtype=self.dtype_policy,
                                          kernel_initializer=_kernel_initializer(seed, i))
                       for i, u in enumerate(self.hidden_units)]
        self.out = keras.layers.Dense(self.out_dim, dtype=self.dtype_policy,
                                      kernel_initializer=_output_initializer(zero_init_output, seed, 999))

    @_unbatched_ok
    def call(self, x):
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "out_dim": self.out_dim, "hidden_units": self.hidden_units,
                "activation": self.activation, "zero_init_output": self.zero_init_output, "seed": self.seed}


@keras.saving.register_keras_serializable(package="tfp_physflow")
class ResidualMLP(keras.layers.Layer):
    """A dense ResNet: h = W_in x; h += W2 act(W1 act(h)) per block; out = W_out act(h).

    Args:
      out_dim: int, output width.
      hidden_dim: int, width of the residual stream.
      num_blocks: int, number of residual blocks.
      activation: Keras activation name.
      zero_init_output: start with a zero output (identity flows).
      seed: optional int, seeds the initial weights.
    Reference: He et al., "Identity mappings in deep residual networks", 2016;
      the dense ResNets of Durkan et al. 2019 (neural spline flows).
    """

    def __init__(self, out_dim, hidden_dim=64, num_blocks=2, activation="relu",
                 zero_init_output=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.out_dim, self.hidden_dim, self.num_blocks = int(out_dim), int(hidden_dim), int(num_blocks)
        self.activation = activation
        self.zero_init_output = bool(zero_init_output)
        self.act = keras.activations.get(activation)
        def dense(n, initializer):
            return keras.layers.Dense(n, dtype=self.dtype_policy, kernel_initializer=initializer)

        self.inp = dense(self.hidden_dim, _kernel_initializer(seed, 0))
        self.blocks = [(dense(self.hidden_dim, _kernel_initializer(seed, 2 * i + 1)),
                        dense(self.hidden_dim, _kernel_initializer(seed, 2 * i + 2))) for i in range(self.num_blocks)]
        self.out = dense(self.out_dim, _output_initializer(zero_init_output, seed, 999))

    @_unbatched_ok
    def call(self, x):
        h = self.inp(x)
        for first, second in self.blocks:
            h = h + second(self.act(first(self.act(h))))
        return self.out(self.act(h))

    def get_config(self):
        return {**super().get_config(), "out_dim": self.out_dim, "hidden_dim": self.hidden_dim,
                "num_blocks": self.num_blocks, "activation": self.activation,
                "zero_init_output": self.zero_init_output, "seed": self.seed}


def made_masks(event_dim, hidden_units, params_per_dim, conditional=False):
    """MADE masks (Germain et al. 2015) for the natural order 1..d.

    Hidden unit k gets degree m_k in 1..d-1 (cyclic); a connection from degree
    a to a hidden unit of degree b is kept when b >= a; to an output of degree
    i when i > b. Output unit i*P + p (dimension i, parameter p) has degree i+1,
    so outputs for dimension i depend on inputs < i only.
    With ``conditional=True`` hidden degrees run over 0..d-1: degree-0 units
    see no input dimension, only the condition, which is how the first
    dimension's parameters come to depend on the condition.
    Returns a list of 0/1 float arrays (fan_in, fan_out), one per layer.
    """
    degrees = [np.arange(1, event_dim + 1)]
    for units in hidden_units:
        if conditional:
            degrees.append(np.arange(units) % event_dim)
        else:
            degrees.append(np.arange(units) % max(1, event_dim - 1) + 1)
    masks = [(d_out[None, :] >= d_in[:, None]).astype("float32")
             for d_in, d_out in zip(degrees[:-1], degrees[1:])]
    out_degrees = np.repeat(np.arange(1, event_dim + 1), params_per_dim)
    masks.append((out_degrees[None, :] > degrees[-1][:, None]).astype("float32"))
    return masks


class MaskedDense(keras.layers.Layer):
    """A Dense layer whose kernel is multiplied by a fixed 0/1 mask."""

    def __init__(self, mask, activation=None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.mask = np.asarray(mask, dtype="float32")
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = kernel_initializer

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=self.mask.shape, initializer=self.kernel_initializer, name="kernel")
        self.bias = self.add_weight(shape=self.mask.shape[1:], initializer="zeros", name="bias")

    def call(self, x, extra=None):
        """``extra``, if given, is added to the pre-activation (an unmasked input)."""
        z = tf.matmul(x, self.kernel * tf.cast(self.mask, self.kernel.dtype)) + self.bias
        if extra is not None:
            z = z + extra
        return self.activation(z)


@keras.saving.register_keras_serializable(package="tfp_physflow")
class MaskedMLP(keras.layers.Layer):
    """MADE: an autoregressive dense network, optionally conditional.

    For input x (..., d) it returns (..., d, params_per_dim), where the
    parameters of dimension i depend only on x[..., :i] (and the condition).
    The condition enters the first hidden layer through an unmasked Dense.

    Args:
      event_dim: int, d.
      params_per_dim: int, parameters per dimension (2 for affine).
      hidden_units: sequence of hidden widths (each >= d - 1 is advisable).
      condition_dim: optional int, width of the condition input.
      activation: Keras activation name.
      zero_init_output: start with a zero output (identity flows).
      seed: optional int, seeds the initial weights.
    Reference: Germain et al., "MADE", ICML 2015; Papamakarios et al., "Masked
      autoregressive flow for density estimation", NeurIPS 2017.
    """

    def __init__(self, event_dim, params_per_dim, hidden_units=(64, 64), condition_dim=None,
                 activation="relu", zero_init_output=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        if condition_dim is not None and not hidden_units:
            raise ValueError("MaskedMLP with a condition_dim needs at least one hidden layer")
        self.event_dim, self.params_per_dim = int(event_dim), int(params_per_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.condition_dim = None if condition_dim is None else int(condition_dim)
        self.activation = activation
        self.zero_init_output = bool(zero_init_output)
        masks = made_masks(self.event_dim, self.hidden_units, self.params_per_dim,
                           conditional=self.condition_dim is not None)
        self.hidden = [MaskedDense(m, activation=activation, dtype=self.dtype_policy,
                                   kernel_initializer=_kernel_initializer(seed, i)) for i, m in enumerate(masks[:-1])]
        self.out = MaskedDense(masks[-1], dtype=self.dtype_policy,
                               kernel_initializer=_output_initializer(zero_init_output, seed, 999))
        self.condition_in = None
        if self.condition_dim is not None:
            self.condition_in = keras.layers.Dense(masks[0].shape[1], use_bias=False, dtype=self.dtype_policy,
                                                   kernel_initializer=_kernel_initializer(seed, 998))

    @_unbatched_ok
    def call(self, x, condition=None):
        h = x
        for i, layer in enumerate(self.hidden):
            extra = self.condition_in(condition) if i == 0 and self.condition_in is not None else None
            h = layer(h, extra)
        out = self.out(h)
        return tf.reshape(out, tf.concat([tf.shape(out)[:-1], [self.event_dim, self.params_per_dim]], 0))

    def get_config(self):
        return {**super().get_config(), "event_dim": self.event_dim, "params_per_dim": self.params_per_dim,
                "hidden_units": self.hidden_units, "condition_dim": self.condition_dim,
                "activation": self.activation, "zero_init_output": self.zero_init_output, "seed": self.seed}
