"""Physics-aware adversarial training: a flow of circuit parameters, through
the circuit layer, against a Wasserstein critic on measured spectra.

Only spectra reach the trainer; the flow learns the distribution of the
circuit parameters without ever seeing one (Schindler & Schmid, "Physics-aware
normalizing flows", Eq. 6).
"""

import keras
import numpy as np
import tensorflow as tf

from .critic import Critic, pack
from .loop import Phase, fit


class AdversarialModel(keras.Model):
    """The trained pair: ``generator`` (a PhysicsFlow) and ``critic`` (a Critic).

    One Keras model owning both, so that the loop's checkpoints and best
    weights cover the pair.
    """

    def __init__(self, generator, critic=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.critic = critic or Critic(generator.layer.num_features)
        if self.critic.num_features != generator.layer.num_features:
            raise ValueError(f"the critic takes {self.critic.num_features} features per spectrum, "
                             f"the generator makes {generator.layer.num_features}")
        self.built = True


class WassersteinObjective:
    """WGAN-GP phases for the loop: ``critic_steps`` critic updates, then one generator update.

    Critic loss per packed sample: d(fake) - d(real) + lambda (||grad d(x^)|| - 1)^2
    with x^ uniformly between real and fake (Gulrajani et al. 2017). Both
    real and fake features get Gaussian instance noise of std
    ``instance_noise * max(0, 1 - t / noise_steps)``, t the critic update count
    (Mescheder et al. 2018). Generator loss: -d(fake) plus
      positivity_weight * mean(relu(-p / mean|p|))  (zero when positive by construction),
      spread_weight * sum_d relu(min_spread - std(log p_d))  (against collapsed, peaked
      parameter distributions; std of log p is a relative spread).
    Validation loss (``__call__``): d(real) - d(fake) without noise, the
    critic's estimate of the Wasserstein-1 distance (lower is better).
    """

    def __init__(self, critic_steps=5, gradient_penalty=10.0, instance_noise=0.1, noise_steps=2000,
                 positivity_weight=1.0, spread_weight=1.0, min_spread=0.02, critic_optimizer=None,
                 critic_learning_rate=1e-3, seed=0):
        if critic_steps < 1 or gradient_penalty < 0 or instance_noise < 0 or noise_steps < 1:
            raise ValueError("critic_steps and noise_steps must be >= 1, gradient_penalty and instance_noise >= 0")
        self.critic_steps, self.gradient_penalty = int(critic_steps), float(gradient_penalty)
        self.instance_noise, self.noise_steps = float(instance_noise), int(noise_steps)
        self.positivity_weight, self.spread_weight = float(positivity_weight), float(spread_weight)
        self.min_spread, self.seed = float(min_spread), int(seed)
        self.critic_optimizer = critic_optimizer
        self.critic_learning_rate = critic_learning_rate

    def phases(self, model, optimizer):
        if self.critic_optimizer is None:
            self.critic_optimizer = keras.optimizers.Adam(self.critic_learning_rate, beta_1=0.5, beta_2=0.9)
        self.generator_optimizer = optimizer
        return [Phase("critic", self.critic_loss, model.critic.trainable_variables, self.critic_optimizer,
                      self.critic_steps),
                Phase("generator", self.generator_loss, model.generator.trainable_variables, optimizer)]

    # -- seeds: stateless, from the update counters, so that runs (and resumed runs) repeat --
    def _seeds(self, optimizer, count):
        replica = tf.distribute.get_replica_context()
        replica_id = 0 if replica is None else replica.replica_id_in_sync_group
        base = tf.stack([tf.cast(optimizer.iterations, tf.int64),
                         tf.cast(replica_id, tf.int64) * 1000003 + self.seed])
        return tf.unstack(tf.random.experimental.stateless_split(base, count))

    def _noisy(self, features, seed):
        t = tf.cast(self.critic_optimizer.iterations, features.dtype)
        std = self.instance_noise * tf.maximum(0.0, 1.0 - t / self.noise_steps)
        return features + std * tf.random.stateless_normal(tf.shape(features), seed, dtype=features.dtype, alg="philox")

    def critic_loss(self, model, batch, training=True):
        real = batch[0]
        s = self._seeds(self.critic_optimizer, 4)
        _, fake = model.generator.sample_features(tf.shape(real)[0], seed=s[0])
        real, fake = pack(self._noisy(real, s[1]), model.critic.pack), pack(self._noisy(fake, s[2]), model.critic.pack)
        loss = model.critic(fake, training=True) - model.critic(real, training=True)
        if self.gradient_penalty:
            eps = tf.random.stateless_uniform([tf.shape(real)[0], 1], s[3], dtype=real.dtype, alg="philox")
            between = eps * real + (1.0 - eps) * fake
            with tf.GradientTape() as tape:
                tape.watch(between)
                d = model.critic(between, training=True)
            grad = tape.gradient(d, between)
            norm = tf.sqrt(tf.reduce_sum(grad * grad, axis=-1) + 1e-12)
            loss += self.gradient_penalty * (norm - 1.0) ** 2
        return loss

    def generator_loss(self, model, batch, training=True):
        real = batch[0]
        s = self._seeds(self.generator_optimizer, 2)
        params, fake = model.generator.sample_features(tf.shape(real)[0], seed=s[0])
        loss = -model.critic(pack(self._noisy(fake, s[1]), model.critic.pack))
        return loss + self.penalty(params)

    def penalty(self, params):
        """The paper's extra terms: positive parameters and no collapsed parameter distribution."""
        magnitude = tf.stop_gradient(tf.reduce_mean(tf.abs(params), axis=0)) + 1e-30
        positivity = tf.reduce_mean(tf.nn.relu(-params / magnitude))
        spread = tf.math.reduce_std(tf.math.log(tf.abs(params) + 1e-30 * magnitude), axis=0)
        collapse = tf.reduce_sum(tf.nn.relu(self.min_spread - spread))
        return self.positivity_weight * positivity + self.spread_weight * collapse

    def __call__(self, model, batch, training=False):
        real = batch[0]
        _, fake = model.generator.sample_features(tf.shape(real)[0], seed=tf.constant([self.seed, 7919], tf.int64))
        return model.critic.score(real) - model.critic.score(fake)


def fit_adversarial(model, spectra, *, validation_spectra=None, validation_split=0.0, objective=None,
                    batch_size=256, epochs=200, learning_rate=1e-3, optimizer=None, restore_best=False,
                    **fit_kwargs):
    """Trains ``model.generator`` so that its spectra match measured ``spectra``; labels are never used.

    Args:
      model: an ``AdversarialModel`` (a PhysicsFlow and its Critic).
      spectra: complex (N, K) measured spectra; the ONLY training input.
      validation_spectra: optional complex (M, K) held-out spectra.
      validation_split: fraction of ``spectra`` held out instead.
      objective: a ``WassersteinObjective`` (default settings if None).
      batch_size, epochs, learning_rate, optimizer: for the generator (the
        critic's optimizer belongs to the objective).
      restore_best: keep the weights of the epoch with the lowest validation
        estimate. Off by default: the critic grows stronger during training,
        so its estimates of different epochs are not comparable (measured:
        the estimate was lowest early, when the parameter ranges were still
        far off, and rose as they improved).
      **fit_kwargs: of ``train.loop.fit`` (patience, checkpoint_dir, strategy, verbose, ...).
    Returns:
      The ``History``: ``critic_loss``, ``generator_loss`` per epoch and
      ``val_loss``, the critic's Wasserstein estimate on held-out spectra.
    Example:
      >>> generator = make_physics_flow("linear", spectra, frequencies)
      >>> history = fit_adversarial(AdversarialModel(generator), spectra, epochs=100)
    """
    if not isinstance(model, AdversarialModel):
        raise ValueError(f"model must be an AdversarialModel (a PhysicsFlow and a Critic), got {type(model).__name__}")
    if optimizer is None:
        with (fit_kwargs.get("strategy") or tf.distribute.get_strategy()).scope():
            optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9)
    features = _features(model.generator, spectra, "spectra")
    validation = None if validation_spectra is None else _features(model.generator, validation_spectra,
                                                                     "validation_spectra")
    objective = objective or WassersteinObjective()
    return fit(model, objective, (features,), validation_data=None if validation is None else (validation,),
               validation_split=validation_split, batch_size=batch_size, epochs=epochs, optimizer=optimizer,
               restore_best=restore_best, **fit_kwargs)


def _features(generator, spectra, name):
    spectra = np.asarray(spectra)
    k = len(generator.layer.frequencies)
    if spectra.ndim != 2 or spectra.shape[1] != k or not np.iscomplexobj(spectra):
        raise ValueError(f"{name} must be complex spectra of shape (N, {k}), got {spectra.dtype} {spectra.shape}")
    return generator.features(spectra).numpy()
