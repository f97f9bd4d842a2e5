"""Conditional VAE for inverse problems, trained through the one loop.

x (e.g. molecular positions) is encoded to q(z | x) = N(mu, diag sigma^2) by
two dense ELU layers; the decoder maps [z, c] (c the condition, e.g. the
measured momenta) through two dense ELU layers back to x. Loss per example:
mean squared error of the reconstruction plus KL(q(z | x) || N(0, I)).

At inference x is unknown, so it is never encoded: latents are drawn from the
aggregate of the TRAINING latents (a Gaussian with their pooled mean and
variance, ``fit_latent_prior``) and decoded with the test condition, so no
test x ever reaches the model (A. Ghanaatian, "Proposal for conditional
variational autoencoder and conditional invertible neural network
implementations", 2024; docs/design.md, "Reference experiments").
"""

import keras
import numpy as np
import tensorflow as tf

from ..nn import MLP
from ..seeds import standard_normal
from ..train.loop import fit
from ..train.losses import NegativeELBO
from ..validation import as_real_tensor


class CVAE(keras.Model):
    """Conditional variational autoencoder p(x | c) = int p(x | z, c) p(z) dz.

    Args:
      data_dim: dimension of x.
      condition_dim: dimension of c.
      latent_dim: dimension of z.
      hidden_units: widths of the two dense ELU layers of encoder and decoder.
    Example:
      >>> ocs = pf.data.simulate_coulomb(100, seed=0)
      >>> cvae = CVAE(9, 9, hidden_units=(16, 16))
      >>> history = fit_cvae(cvae, ocs.positions, ocs.momenta / 100, epochs=2, verbose=False)
      >>> cvae.sample(100, condition=ocs.momenta[:5] / 100).shape   # (n, batch, 9)
      TensorShape([100, 5, 9])
    """

    def __init__(self, data_dim, condition_dim, latent_dim=9, hidden_units=(128, 128), seed=0, **kwargs):
        super().__init__(**kwargs)
        self.data_dim, self.condition_dim, self.latent_dim = int(data_dim), int(condition_dim), int(latent_dim)
        self.encoder = MLP(2 * self.latent_dim, hidden_units, "elu", zero_init_output=False, name="encoder")
        self.decoder = MLP(self.data_dim, hidden_units, "elu", zero_init_output=False, name="decoder")
        self.latent_mean = self.add_weight(shape=(self.latent_dim,), initializer="zeros", trainable=False,
                                           name="latent_mean")
        self.latent_std = self.add_weight(shape=(self.latent_dim,), initializer="ones", trainable=False,
                                          name="latent_std")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_terms(tf.zeros([1, self.data_dim]), tf.zeros([1, self.condition_dim]))  # build now
        self.built = True

    def encode(self, x):
        """(mean, log-variance) of q(z | x), each (batch, latent_dim)."""
        out = self.encoder(x)
        return out[:, :self.latent_dim], out[:, self.latent_dim:]

    def decode(self, z, condition):
        return self.decoder(tf.concat([z, condition], axis=-1))

    def loss_terms(self, x, condition):
        """Per-example (reconstruction MSE, KL) with one reparameterised latent draw."""
        mean, log_var = self.encode(x)
        eps = keras.random.normal(tf.shape(mean), seed=self.seed_generator, dtype=mean.dtype)
        x_hat = self.decode(mean + tf.exp(0.5 * log_var) * eps, condition)
        reconstruction = tf.reduce_mean(tf.square(x - x_hat), axis=-1)
        kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=-1)
        return reconstruction, kl

    def negative_elbo(self, x, condition, kl_weight=1.0):
        """Per example: reconstruction MSE + kl_weight * KL (one reparameterised draw)."""
        reconstruction, kl = self.loss_terms(x, condition)
        return reconstruction + kl_weight * kl

    def fit_latent_prior(self, x, batch_size=4096):
        """Sets the sampling distribution of z to the aggregate posterior of training data x:
        per dimension, mean = E[mu], variance = E[sigma^2 + mu^2] - E[mu]^2."""
        x = np.asarray(x, np.float32)
        moments = []
        for start in range(0, len(x), batch_size):
            mean, log_var = self.encode(tf.constant(x[start:start + batch_size]))
            moments.append((mean.numpy(), np.exp(log_var.numpy())))
        mu = np.concatenate([m for m, _ in moments])
        var = np.concatenate([v for _, v in moments])
        center = mu.mean(0)
        self.latent_mean.assign(center)
        self.latent_std.assign(np.sqrt(np.maximum((var + mu ** 2).mean(0) - center ** 2, 1e-12)))

    def sample(self, n, condition, seed=None):
        """Draws n x per condition row: condition (B, c) -> (n, B, data_dim), sample axis
        first as in ``Flow.sample`` and TFP; the encoder is not used."""
        condition = as_real_tensor(condition, "condition", self.compute_dtype, self.condition_dim)
        batch = tf.shape(condition)[0]
        shape = tf.stack([tf.cast(n, tf.int32), batch, self.latent_dim])
        eps = standard_normal(shape, seed, condition.dtype)
        z = self.latent_mean + self.latent_std * eps
        tiled = tf.broadcast_to(condition[None], tf.stack([shape[0], batch, self.condition_dim]))
        x = self.decode(tf.reshape(z, [-1, self.latent_dim]), tf.reshape(tiled, [-1, self.condition_dim]))
        return tf.reshape(x, tf.stack([shape[0], batch, self.data_dim]))


def fit_cvae(model, x, condition, *, kl_weight=1.0, learning_rate=1e-4, batch_size=512, epochs=1000,
             patience=20, **fit_kwargs):
    """Trains a CVAE through the one loop, then fits its latent sampling distribution to x.

    Defaults follow Ghanaatian's proposal (module docstring): Adam 1e-4, batch 512,
    up to 1000 epochs, early stopping on the validation loss with the best weights kept.
    ``validation_data`` is a tuple (x_val, condition_val); other keywords go to ``fit``.
    """
    if not isinstance(model, CVAE):
        raise ValueError(f"model must be a CVAE, got {type(model).__name__}")
    for name, array, dim in (("x", x, model.data_dim), ("condition", condition, model.condition_dim)):
        shape = np.shape(array)
        if len(shape) != 2 or shape[1] != dim:
            raise ValueError(f"{name} must have shape (N, {dim}), got {shape}")
    history = fit(model, NegativeELBO(kl_weight), (x, condition), learning_rate=learning_rate,
                  batch_size=batch_size, epochs=epochs, patience=patience, **fit_kwargs)
    model.fit_latent_prior(x)
    return history
