"""Physics-integrated VAE with planar-flow posteriors (Takeishi & Kalousis, NeurIPS 2021;
Akhtar, arXiv 2404.12267), trained through the one loop.

Data x: (N, C, T) time series. Latents: physics latents z_P (one angular
frequency w = omega_scale * softplus(z_P) per channel) and auxiliary latents
z_A. Decoder: the physics model theta'' = -w^2 sin(theta) (or -w^2 theta),
solved by RK4 inside the graph from an initial state the encoder estimates,
then an additive neural correction from [physics path, z_A] (zero at
initialisation). Encoder: an MLP over the series, optionally after a
self-attention block over the time axis (the "attentive" encoder). Posterior:
Gaussian q0, then K planar flows, separate stacks for z_P and z_A, their
log-dets in the ELBO. ``physics=None`` gives a plain VAE (MLP decoder of z_A).

Loss per series: sum_t (x - x^)^2 / (2 s^2) + log q(z_K) - log N(z_K; 0, I), one
reparameterised sample, s = ``noise_std``.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from ..bijector_layers import PlanarLayer
from ..nn import MLP
from ..physics.pendulum import pendulum_rk4
from ..train.loop import fit
from ..train.losses import NegativeELBO


def _planar_chain(layers, z):
    total = tf.zeros(tf.shape(z)[:1], z.dtype)
    for layer in layers:
        z, log_det = layer.bijector().forward_and_log_det(z)
        total += log_det
    return z, total


def _normal_log_prob(z, mean=0.0, log_var=0.0):
    return -0.5 * tf.reduce_sum((z - mean) ** 2 * tf.exp(-log_var) + log_var + math.log(2 * math.pi), -1)


class PhysicsVAE(keras.Model):
    """Physics-integrated VAE; see the module docstring.

    Args:
      channels, timesteps: C and T of the series.
      dt: time step of the series (physics solver).
      physics: "pendulum", "harmonic" or None (plain VAE).
      aux_dim: dimension of z_A.
      flows: K planar flows per latent group (0: Gaussian posterior).
      attention: self-attention over time in the encoder.
      omega_scale: w = omega_scale * softplus(z_P).
      noise_std: s of the Gaussian reconstruction likelihood.
    """

    def __init__(self, channels, timesteps, dt, physics="pendulum", aux_dim=4, flows=0, attention=False,
                 hidden_units=(128, 128), omega_scale=2.0, noise_std=0.1, seed=0, **kwargs):
        super().__init__(**kwargs)
        if physics not in ("pendulum", "harmonic", None):
            raise ValueError(f"physics must be 'pendulum', 'harmonic' or None, got {physics!r}")
        if aux_dim < 1 or flows < 0 or timesteps < 2 or channels < 1:
            raise ValueError("channels, aux_dim >= 1, timesteps >= 2 and flows >= 0 are required")
        self.channels, self.timesteps, self.dt, self.physics = int(channels), int(timesteps), float(dt), physics
        self.phys_dim = self.channels if physics else 0
        self.aux_dim, self.omega_scale, self.noise_std = int(aux_dim), float(omega_scale), float(noise_std)
        latent = self.phys_dim + self.aux_dim
        self.init_dim = 0 if not physics else self.channels * (1 if physics == "pendulum" else 2)
        self.attention = None
        if attention:
            self.embed = keras.layers.Dense(32)
            self.attention = keras.layers.MultiHeadAttention(num_heads=2, key_dim=16, seed=seed)
            self.norm = keras.layers.LayerNormalization()
        self.encoder = MLP(2 * latent + self.init_dim, hidden_units, "elu", zero_init_output=False, name="encoder")
        self.flows_p = [PlanarLayer(self.phys_dim, seed + i) for i in range(flows)] if physics else []
        self.flows_a = [PlanarLayer(self.aux_dim, seed + 100 + i) for i in range(flows)]
        self.decoder = MLP(self.channels * self.timesteps, hidden_units, "elu", zero_init_output=bool(physics),
                           name="decoder")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.negative_elbo(tf.zeros([1, self.channels, self.timesteps]))  # create the variables
        self.built = True

    def encode(self, x):
        """(mean, log_var) of q0 over [z_P, z_A], and the initial state (theta0[, theta'0]) per channel."""
        h = tf.transpose(x, [0, 2, 1])  # (B, T, C): attention over time
        if self.attention is not None:
            e = self.embed(h)
            h = self.norm(e + self.attention(e, e))
        out = self.encoder(tf.reshape(h, [tf.shape(x)[0], -1]))
        latent = self.phys_dim + self.aux_dim
        return out[:, :latent], out[:, latent:2 * latent], out[:, 2 * latent:]

    def flow(self, z0):
        """z_K and the summed log-dets of both planar stacks."""
        zp, ldp = _planar_chain(self.flows_p, z0[:, :self.phys_dim])
        za, lda = _planar_chain(self.flows_a, z0[:, self.phys_dim:])
        return tf.concat([zp, za], -1), ldp + lda

    def omega(self, z):
        return self.omega_scale * tf.nn.softplus(z[:, :self.phys_dim])

    def decode(self, z, initial):
        batch = tf.shape(z)[0]
        z_aux = z[:, self.phys_dim:]
        if not self.physics:
            return tf.reshape(self.decoder(z_aux), [batch, self.channels, self.timesteps])
        theta0 = initial[:, :self.channels]
        velocity0 = tf.zeros_like(theta0) if self.physics == "pendulum" else initial[:, self.channels:]
        path = pendulum_rk4(theta0, velocity0, self.omega(z), self.timesteps, self.dt, self.physics)
        correction = self.decoder(tf.concat([tf.reshape(path, [batch, -1]), z_aux], -1))
        return path + tf.reshape(correction, [batch, self.channels, self.timesteps])

    def negative_elbo(self, x, kl_weight=1.0):
        """Per series: reconstruction term + kl_weight * (log q(z_K) - log p(z_K)), one draw."""
        mean, log_var, initial = self.encode(x)
        eps = keras.random.normal(tf.shape(mean), seed=self.seed_generator, dtype=mean.dtype)
        z0 = mean + tf.exp(0.5 * log_var) * eps
        z, log_det = self.flow(z0)
        x_hat = self.decode(z, initial)
        reconstruction = tf.reduce_sum(tf.square(x - x_hat), axis=[1, 2]) / (2 * self.noise_std ** 2)
        kl = _normal_log_prob(z0, mean, log_var) - log_det - _normal_log_prob(z)
        return reconstruction + kl_weight * kl

    def reconstruct(self, x, feature_dropout=0.0, seed=0):
        """x^ from the posterior mean (pushed through the flows), with a fraction
        ``feature_dropout`` of the encoder's input values set to 0 (the paper's input noise).
        Returns (x^, w^) with w^ the physics frequencies (None for a plain VAE)."""
        x = tf.convert_to_tensor(x, self.compute_dtype)
        if feature_dropout:
            keep = tf.random.stateless_uniform(tf.shape(x), [seed, 1], dtype=x.dtype) >= feature_dropout
            x = tf.where(keep, x, tf.zeros_like(x))
        mean, _, initial = self.encode(x)
        z, _ = self.flow(mean)
        return self.decode(z, initial), (self.omega(z) if self.physics else None)


def fit_physics_vae(model, x, **fit_kwargs):
    """Trains a PhysicsVAE on series x (N, C, T) through ``train.loop.fit``
    (``validation_data=(x_val,)``, epochs, patience, ...)."""
    if not isinstance(model, PhysicsVAE):
        raise ValueError(f"model must be a PhysicsVAE, got {type(model).__name__}")
    if np.ndim(x) != 3 or np.shape(x)[1:] != (model.channels, model.timesteps):
        raise ValueError(f"x must have shape (N, {model.channels}, {model.timesteps}), got {np.shape(x)}")
    return fit(model, NegativeELBO(), (np.asarray(x, np.float32),), **fit_kwargs)
