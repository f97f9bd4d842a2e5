"""Losses for the training loop: objects called as ``loss(model, batch, training)``.

Each returns a per-example loss of shape (batch,), so that the loop can
average it over the global batch under any ``tf.distribute`` strategy, and
each is named for what it returns. They hold settings only, no state: the
same loss object can train any number of runs.
"""

import keras
import tensorflow as tf

from .phases import Phase


class NegativeLogLikelihood:
    """-log p(x | condition) of a Flow; ``batch`` is (x,) or (x, condition)."""

    def __call__(self, model, batch, training=True):
        x, *rest = batch
        return -model.log_prob(x, rest[0] if rest else None)


class NegativeELBO:
    """The negative evidence lower bound of a VAE: ``model.negative_elbo(*batch, kl_weight=...)``.

    For a CVAE the batch is (x, condition), for a PhysicsVAE (x,).
    """

    def __init__(self, kl_weight=1.0):
        self.kl_weight = float(kl_weight)

    def __call__(self, model, batch, training=True):
        return model.negative_elbo(*batch, kl_weight=self.kl_weight)


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

    Stateless: ``phases`` creates the critic's optimizer for each run
    (``critic_optimizer``, if given, is a function returning a new one).
    ``model`` is anything with a ``generator`` (``sample_features``) and a
    ``critic`` (``score``, ``packed``), e.g. an ``AdversarialModel``.
    """

    def __init__(self, critic_steps=5, gradient_penalty=10.0, instance_noise=0.1, noise_steps=2000,
                 positivity_weight=1.0, spread_weight=1.0, min_spread=0.02, critic_optimizer=None,
                 critic_learning_rate=1e-3, seed=0):
        is_factory = callable(critic_optimizer) and not isinstance(critic_optimizer, keras.optimizers.Optimizer)
        if critic_optimizer is not None and not is_factory:
            raise ValueError("critic_optimizer must be a function returning a new Keras optimizer (one per run), "
                             f"e.g. lambda: keras.optimizers.RMSprop(1e-4); got {critic_optimizer!r}")
        if critic_steps < 1 or gradient_penalty < 0 or instance_noise < 0 or noise_steps < 1:
            raise ValueError("critic_steps and noise_steps must be >= 1, gradient_penalty and instance_noise >= 0")
        self.critic_steps, self.gradient_penalty = int(critic_steps), float(gradient_penalty)
        self.instance_noise, self.noise_steps = float(instance_noise), int(noise_steps)
        self.positivity_weight, self.spread_weight = float(positivity_weight), float(spread_weight)
        self.min_spread, self.seed = float(min_spread), int(seed)
        self.critic_optimizer = critic_optimizer
        self.critic_learning_rate = critic_learning_rate

    def phases(self, model, optimizer):
        """The two phases of one run; their optimizers live in the returned phases only,
        so a reused objective starts every run afresh."""
        critic_optimizer = self.critic_optimizer() if self.critic_optimizer else keras.optimizers.Adam(
            self.critic_learning_rate, beta_1=0.5, beta_2=0.9)

        def critic(model, batch, training=True):
            return self.critic_loss(model, batch, critic_optimizer)

        def generator(model, batch, training=True):
            return self.generator_loss(model, batch, optimizer, critic_optimizer)

        return [Phase("critic", critic, model.critic.trainable_variables, critic_optimizer, self.critic_steps),
                Phase("generator", generator, model.generator.trainable_variables, optimizer)]

    # -- seeds: stateless, from the update counters, so that runs (and resumed runs) repeat --
    def _seeds(self, optimizer, count):
        replica = tf.distribute.get_replica_context()
        replica_id = 0 if replica is None else replica.replica_id_in_sync_group
        base = tf.stack([tf.cast(optimizer.iterations, tf.int64),
                         tf.cast(replica_id, tf.int64) * 1000003 + self.seed])
        return tf.unstack(tf.random.experimental.stateless_split(base, count))

    def _noisy(self, features, seed, critic_optimizer):
        t = tf.cast(critic_optimizer.iterations, features.dtype)
        std = self.instance_noise * tf.nn.relu(1.0 - t / self.noise_steps)  # in the features' dtype (float64 too)
        return features + std * tf.random.stateless_normal(tf.shape(features), seed, dtype=features.dtype, alg="philox")

    def critic_loss(self, model, batch, critic_optimizer):
        """Per packed sample; seeds and the noise level follow ``critic_optimizer``'s update count."""
        real = batch[0]
        s = self._seeds(critic_optimizer, 4)
        _, fake = model.generator.sample_features(tf.shape(real)[0], seed=s[0])
        real, fake = (model.critic.packed(self._noisy(real, s[1], critic_optimizer)),
                      model.critic.packed(self._noisy(fake, s[2], critic_optimizer)))
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

    def generator_loss(self, model, batch, generator_optimizer, critic_optimizer):
        """Per packed sample; seeds follow ``generator_optimizer``'s update count."""
        real = batch[0]
        s = self._seeds(generator_optimizer, 2)
        params, fake = model.generator.sample_features(tf.shape(real)[0], seed=s[0])
        loss = -model.critic.score(self._noisy(fake, s[1], critic_optimizer))
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
