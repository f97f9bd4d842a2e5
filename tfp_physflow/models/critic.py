"""The Wasserstein critic of the physics-aware adversarial flows: spectral
normalisation, minibatch discrimination and sample packing (PacGAN)."""

import keras
import tensorflow as tf


class SpectralDense(keras.layers.Layer):
    """Dense layer whose kernel is divided by its largest singular value.

    y = act(x W / sigma(W) + b), sigma estimated by one power iteration per
    training call, the vector u kept between calls (Miyato et al. 2018,
    "Spectral normalization for generative adversarial networks"). The
    division is differentiated; u is not. Keras's own SpectralNormalization
    overwrites the kernel variable instead, so its gradient skips the division.
    """

    def __init__(self, units, activation=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation, self.seed = int(units), keras.activations.get(activation), seed

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel",
                                      initializer=keras.initializers.GlorotUniform(self.seed))
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        # One estimate for all replicas: updated by the first replica only.
        self.u = self.add_weight(shape=(1, self.units), trainable=False, name="u",
                                 initializer=keras.initializers.RandomNormal(seed=self.seed + 1),
                                 aggregation="only_first_replica")

    def call(self, x, training=False):
        w = self.kernel
        u = tf.convert_to_tensor(self.u)
        v = tf.stop_gradient(tf.math.l2_normalize(tf.matmul(u, w, transpose_b=True)))
        u_new = tf.stop_gradient(tf.math.l2_normalize(tf.matmul(v, w)))
        sigma = tf.reduce_sum(tf.matmul(v, w) * u_new)
        if training:
            self.u.assign(u_new)
        return self.activation(tf.matmul(x, w) / sigma + self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "seed": self.seed,
                "activation": keras.activations.serialize(self.activation)}


class MinibatchDiscrimination(keras.layers.Layer):
    """Appends to each row how close it is to the other rows of its batch.

    M = x T reshaped to (N, B, C); o_b(x_i) = sum_{j != i} exp(-||M_ib - M_jb||_1);
    returns [x, o] (Salimans et al. 2016, "Improved techniques for training
    GANs"). A collapsed generator gives rows that are all close: the critic sees it.
    """

    def __init__(self, num_kernels=16, kernel_dim=8, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels, self.kernel_dim, self.seed = int(num_kernels), int(kernel_dim), seed

    def build(self, input_shape):
        self.tensor = self.add_weight(shape=(input_shape[-1], self.num_kernels * self.kernel_dim), name="tensor",
                                      initializer=keras.initializers.RandomNormal(stddev=0.1, seed=self.seed))

    def call(self, x):
        m = tf.reshape(tf.matmul(x, self.tensor), [-1, self.num_kernels, self.kernel_dim])
        distance = tf.reduce_sum(tf.abs(m[:, None] - m[None, :]), axis=-1)  # (N, N, B)
        closeness = tf.reduce_sum(tf.exp(-distance), axis=1) - 1.0  # minus the row itself
        return tf.concat([x, closeness], axis=-1)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim,
                "seed": self.seed}


def pack(features, size):
    """PacGAN packing: (N, F) -> (N // size, size * F); rows beyond a multiple of size are dropped."""
    n = tf.shape(features)[0] // size * size
    return tf.reshape(features[:n], [-1, size * features.shape[-1]])


class Critic(keras.Model):
    """MLP critic d(x) of packed spectrum features: spectral-normalised dense
    layers (leaky ReLU), minibatch discrimination after the first, a linear output.

    Args:
      num_features: F, features per spectrum; the critic takes (N, pack * F).
      hidden_units: widths of the hidden layers.
      pack: samples per packed critic input (PacGAN; Lin et al. 2018).
      minibatch_kernels: B of minibatch discrimination (0 turns it off).
      spectral_norm: use SpectralDense (else plain Dense).
    """

    def __init__(self, num_features, hidden_units=(128, 128), pack=2, minibatch_kernels=16,
                 spectral_norm=True, seed=0, **kwargs):
        super().__init__(**kwargs)
        if pack < 1 or not hidden_units:
            raise ValueError(f"pack must be >= 1 and hidden_units non-empty, got {pack}, {hidden_units}")
        self.num_features, self.pack = int(num_features), int(pack)

        dtype = self.dtype_policy  # every sub-layer computes in the critic's dtype (float64 too)

        def dense(units, activation, i):
            if spectral_norm:
                return SpectralDense(units, activation, seed=seed + 10 * i, dtype=dtype)
            return keras.layers.Dense(units, activation, kernel_initializer=keras.initializers.GlorotUniform(seed + i),
                                      dtype=dtype)

        act = keras.layers.LeakyReLU(0.2, dtype=dtype)
        self.hidden = [dense(u, act, i) for i, u in enumerate(hidden_units)]
        self.minibatch = (MinibatchDiscrimination(minibatch_kernels, seed=seed + 99, dtype=dtype)
                          if minibatch_kernels else None)
        self.out = dense(1, None, len(hidden_units))
        self(tf.zeros([2, self.pack * self.num_features], self.compute_dtype))  # create the variables now

    def call(self, x, training=False):
        h = x
        for i, layer in enumerate(self.hidden):
            h = layer(h, training=training) if isinstance(layer, SpectralDense) else layer(h)
            if i == 0 and self.minibatch is not None:
                h = self.minibatch(h)
        out = self.out(h, training=training) if isinstance(self.out, SpectralDense) else self.out(h)
        return out[:, 0]

    def packed(self, features):
        """Features (N, F) -> the critic's input (N // pack, pack * F)."""
        return pack(features, self.pack)

    def score(self, features, training=False):
        """d of the packed features (N, F) -> (N // pack,)."""
        return self(self.packed(features), training=training)
