"""Physics-aware adversarial training: a flow of circuit parameters, through
the circuit layer, against a Wasserstein critic on measured spectra.

Only spectra reach the trainer; the flow learns the distribution of the
circuit parameters without ever seeing one (Schindler & Schmid, "Physics-aware
normalizing flows", Eq. 6).
"""

import keras
import numpy as np
import tensorflow as tf

from ..physics.generator import make_physics_flow
from ..train.loop import fit
from ..train.losses import WassersteinObjective
from .critic import Critic


class AdversarialModel(keras.Model):
    """The trained pair: ``generator`` (a PhysicsFlow) and ``critic`` (a Critic).

    One Keras model owning both, so that the loop's checkpoints and best
    weights cover the pair.
    """

    def __init__(self, generator, critic=None, **kwargs):
        # The pair computes in the generator's dtype: the loop casts the
        # measured features to the model's dtype (float64 stays float64).
        super().__init__(**{"dtype": generator.compute_dtype, **kwargs})
        self.generator = generator
        self.critic = critic or Critic(generator.layer.num_features, dtype=generator.compute_dtype)
        if self.critic.num_features != generator.layer.num_features:
            raise ValueError(f"the critic takes {self.critic.num_features} features per spectrum, "
                             f"the generator makes {generator.layer.num_features}")
        if self.critic.compute_dtype != generator.compute_dtype:
            raise ValueError(f"the critic computes in {self.critic.compute_dtype}, the generator in "
                             f"{generator.compute_dtype}: build the Critic with dtype={generator.compute_dtype!r}")
        self.built = True


def fit_adversarial(model, spectra, *, validation_spectra=None, validation_split=0.0, objective=None,
                    batch_size=256, epochs=200, learning_rate=1e-3, optimizer=None, ema=0.99, restore_best=False,
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
      ema: the generator ends with the exponential moving average of its
        weights over the training steps, with this momentum (Keras's
        ``use_ema``); None keeps the last step's weights. Ignored when an
        ``optimizer`` is given (its own ``use_ema`` applies). The average
        steadies what the adversarial game's last steps leave: measured on
        L0-R0-p(R1,CPE1)-p(R2,CPE2), 1,000 spectra, 20 epochs, nsf started
        from the fits, the worst learned 5/95 % quantile was off the truth's
        by x1.3-1.5 over 6 seeds with it, by up to x7.8 without.
      restore_best: keep the weights of the epoch with the lowest validation
        estimate. Off by default: the critic grows stronger during training,
        so its estimates of different epochs are not comparable (measured:
        the estimate was lowest early, when the parameter ranges were still
        far off, and rose as they improved).
      **fit_kwargs: of ``fit`` (patience, checkpoint_dir, strategy, verbose, ...).
    Returns:
      The ``History``: ``critic_loss``, ``generator_loss`` per epoch and
      ``val_loss``, the critic's Wasserstein estimate on held-out spectra.
    Example:
      >>> data = pf.data.simulate_impedance(256, seed=1)
      >>> generator = make_physics_flow("linear", data.spectra, data.frequencies)
      >>> # One short epoch: plain tf.function, as XLA's compile would take longer than the run.
      >>> history = fit_adversarial(AdversarialModel(generator), data.spectra, epochs=1, verbose=False,
      ...                           jit_compile=False)
      >>> sorted(history.rows[-1])[:3]
      ['critic_loss', 'epoch', 'generator_loss']
    """
    if not isinstance(model, AdversarialModel):
        raise ValueError(f"model must be an AdversarialModel (a PhysicsFlow and a Critic), got {type(model).__name__}")
    if optimizer is None:
        with (fit_kwargs.get("strategy") or tf.distribute.get_strategy()).scope():
            optimizer = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=0.9, use_ema=ema is not None,
                                              ema_momentum=0.99 if ema is None else ema)
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


def train_physics_flow(kind, spectra, frequencies, circuit=None, *, epochs=150, seed=0, validation_spectra=None,
                       verbose=True, flow_options=None, critic_options=None, objective_options=None, **fit_kwargs):
    """Builds and trains a physics-aware flow on unlabeled ``spectra``: (generator, history).

    ``make_physics_flow(kind, spectra, frequencies, circuit, **flow_options)``, a
    ``Critic(**critic_options)`` and ``WassersteinObjective(**objective_options)``,
    all seeded with ``seed``, trained by ``fit_adversarial`` for ``epochs``.

    Args:
      kind: flow kind of the parameters (``make_flow``).
      spectra: complex (N, K) measured spectra; the only training input.
      frequencies: (K,) Hz.
      circuit: circuit string (default: ``Rs-p(Re,Ce)``).
      epochs, seed, validation_spectra, verbose: of the run.
      flow_options, critic_options, objective_options: dicts of further arguments.
      **fit_kwargs: of ``fit_adversarial`` (batch_size, learning_rate, checkpoint_dir, ...).
    Example:
      >>> data = pf.data.simulate_impedance(256, seed=1)
      >>> generator, history = train_physics_flow("diagonal", data.spectra, data.frequencies, epochs=1,
      ...                                         verbose=False, jit_compile=False)  # as fit_adversarial's
      >>> generator.sample_parameters(5, seed=0).shape
      TensorShape([5, 3])
    """
    circuit_kwargs = {} if circuit is None else {"circuit": circuit}
    generator = make_physics_flow(kind, spectra, frequencies, **circuit_kwargs, **(flow_options or {}))
    critic = Critic(generator.layer.num_features, **{"seed": seed, "dtype": generator.compute_dtype,
                                                     **(critic_options or {})})
    objective = WassersteinObjective(**{"seed": seed, **(objective_options or {})})
    history = fit_adversarial(AdversarialModel(generator, critic), spectra, validation_spectra=validation_spectra,
                              objective=objective, epochs=epochs, seed=seed, verbose=verbose, **fit_kwargs)
    return generator, history
