"""CircuitPosterior: amortized posteriors of circuit parameters given a spectrum (simulation-based inference).

A conditional flow (cINN) over the circuit's parameters, conditioned on a
learned summary of the spectrum, trained once on (parameters, spectrum)
pairs simulated on the fly (prior -> circuit -> noise); afterwards one
batched call gives posterior samples for thousands of spectra of that circuit
and frequency grid.

Scale-equivariant by construction: a spectrum Z is divided by its magnitude
s = exp(mean_k log|Z_k|) before the embedding network sees it, and the flow
models the parameters of Z / s; they are mapped back with theta_i s^k_i
(``priors.SCALE_POWERS``: resistances x s, capacitances / s, exponents and
time constants unchanged), so spectra of any magnitude work and the prior
constrains the spectrum's shape, not its size.
"""

import keras
import numpy as np
import tensorflow as tf

from ..flows import make_flow
from ..nn import MLP
from ..train.loop import fit
from .circuits import Circuit, check_frequencies
from .generator import start_from_fits
from .priors import add_noise, as_prior, scale_powers


class CircuitPosterior(keras.Model):
    """p(parameters | spectrum) of one circuit on one frequency grid; see ``make_circuit_posterior``.

    Attributes: ``flow`` (the cINN over scale-free parameters), ``embedding``
    (spectrum features -> condition), ``circuit``, ``frequencies`` (K,) Hz,
    ``parameter_names``, ``prior``, ``noise`` (the simulator's noise level).
    """

    def __init__(self, flow, embedding, circuit, frequencies, feature_mean, feature_std, prior, noise, **kwargs):
        super().__init__(**kwargs)
        self.flow, self.embedding, self.circuit, self.prior = flow, embedding, circuit, prior
        self.frequencies = check_frequencies(frequencies)
        self.noise = float(noise)
        self.parameter_names = tuple(circuit.parameter_names)
        self.feature_mean, self.feature_std = (np.asarray(a, np.float64) for a in (feature_mean, feature_std))
        self.powers = scale_powers(circuit)
        self.embedding(tf.zeros([1, 2 * self.frequencies.size], self.compute_dtype))
        self.built = True

    # -- the simulator and the features, in TensorFlow ------------------------------------------------------------
    def features(self, z):
        """Complex spectra (N, K) -> (log magnitude log s (N,), standardised features of Z / s (N, 2K))."""
        log_s, raw = scale_free_features(z)
        return log_s, (raw - tf.constant(self.feature_mean, raw.dtype)) / tf.constant(self.feature_std, raw.dtype)

    def simulate_tf(self, n, seed):
        """(parameters (n, P), noisy complex spectra (n, K)) from prior, circuit and noise; a [2] seed."""
        return simulate_pairs(self.prior, self.frequencies, self.noise, n, seed, self.compute_dtype)

    def training_pairs(self, n, seed):
        """(scale-free parameters (n, P), features (n, 2K)) of n fresh simulations: the training batch."""
        params, z = self.simulate_tf(n, seed)
        log_s, feats = self.features(z)
        return scale_free(params, log_s, self.powers), feats

    def simulate(self, n, seed=0):
        """NumPy (parameters (n, P), noisy spectra (n, K)) from the posterior's own simulator (e.g. held-out tests)."""
        params, z = self.simulate_tf(int(n), [int(seed), 7])
        return params.numpy(), z.numpy()

    # -- inference -------------------------------------------------------------------------------------------------
    def log_prob(self, parameters, spectra):
        """log p(parameters | spectrum) (N,) for parameters (N, P) and spectra (N, K), in the parameters' units."""
        z = self._spectra_tensor(spectra)
        values = np.asarray(parameters, np.float64)
        if values.shape != (z.shape[0], self.circuit.num_parameters):
            raise ValueError(f"parameters must have shape ({z.shape[0]}, {self.circuit.num_parameters}), "
                             f"one row per spectrum, got {values.shape}")
        unit = np.array([support == "unit" for support in self.circuit.parameter_supports()])
        if not np.all(np.isfinite(values)) or np.any(values <= 0) or np.any(values[:, unit] > 1):
            raise ValueError("parameters must be finite and on their supports (positive; exponents in (0, 1])")
        params = tf.constant(values, self.compute_dtype)
        log_s, feats = self.features(z)
        log_jacobian = tf.reduce_sum(tf.constant(self.powers, log_s.dtype)) * log_s
        return self.flow.log_prob(scale_free(params, log_s, self.powers), self.embedding(feats)) - log_jacobian

    def sample(self, spectra, n, seed=None, chunk_size=None):
        """(N, n, P) posterior samples for spectra (N, K) (a (K,) spectrum counts as N = 1).

        Interchangeable blocks come fastest first (``Circuit.in_order``), as
        in training. Works in chunks of spectra (``chunk_size``, default so
        that a chunk holds about 2^18 samples).
        """
        z = self._spectra_tensor(spectra)
        n = _count(n)
        chunk_size = chunk_size or chunk_for(n)
        parts = [self._sample_chunk(z[i:i + chunk_size], tf.constant(n), _chunk_seed(seed, i // chunk_size))
                 for i in range(0, z.shape[0], chunk_size)]
        return tf.concat(parts, 0)

    def summary(self, spectra, quantiles=(0.05, 0.5, 0.95), n=1000, seed=0):
        """NumPy (N, Q, P): each parameter's posterior ``quantiles`` per spectrum, from n samples."""
        return posterior_quantiles(self.sample(spectra, n, seed).numpy(), quantiles)

    @tf.function(reduce_retracing=True, autograph=False)  # our code: no tensor control flow to convert
    def _sample_chunk(self, z, n, seed):
        return self.sample_graph(z, n, seed)

    def sample_graph(self, z, n, seed=None):
        """The sampler as TensorFlow ops (also the SavedModel's): z (N, K) complex, n scalar -> (N, n, P)."""
        log_s, feats = self.features(z)
        x = self.flow.sample(n, self.embedding(feats), seed=seed)  # (n, N, P), scale-free
        x = x * tf.exp(tf.constant(self.powers, x.dtype) * log_s[:, None])
        x = tf.reshape(self.circuit.in_order(tf.reshape(x, [-1, self.circuit.num_parameters])), tf.shape(x))
        return tf.transpose(x, [1, 0, 2])

    def _spectra_tensor(self, spectra):
        z = check_spectra(spectra, self.frequencies.size)
        return tf.constant(z.astype(np.complex64 if self.compute_dtype == "float32" else np.complex128))


def check_spectra(spectra, num_frequencies):
    """Complex spectra (N, K) (a (K,) spectrum counts as N = 1), checked with messages that name the problem."""
    z = np.asarray(spectra)
    z = z[None] if z.ndim == 1 else z
    if z.ndim != 2 or z.shape[1] != num_frequencies:
        raise ValueError(f"spectra must have shape (N, {num_frequencies}), one impedance per training "
                         f"frequency, got {np.shape(spectra)}")
    if not np.iscomplexobj(z):
        raise ValueError(f"spectra must be complex impedances (Z' + j Z''), got dtype {z.dtype}")
    if not len(z):
        raise ValueError("spectra is empty: give at least one spectrum")
    if not np.all(np.isfinite(z)) or np.any(z == 0):
        raise ValueError("spectra contain NaN, inf or zero values")
    return z


def chunk_for(n):
    """Spectra per sampling call: about 2^18 samples at a time."""
    return max(1, 2 ** 18 // max(n, 1))


def posterior_quantiles(samples, quantiles):
    """(N, n, P) samples -> (N, Q, P) quantiles over the sample axis."""
    q = np.asarray(quantiles, np.float64)
    if q.ndim != 1 or np.any((q < 0) | (q > 1)):
        raise ValueError(f"quantiles must be numbers in [0, 1], got {quantiles!r}")
    return np.moveaxis(np.quantile(samples, q, axis=1), 0, 1)


def make_circuit_posterior(circuit, frequencies, prior=None, *, noise=0.01, embedding_dim=32,
                           embedding_units=(256, 256), num_layers=8, hidden_units=(128, 128), dtype="float32",
                           seed=0, calibration_size=8192):
    """Builds an untrained ``CircuitPosterior``; train it with ``fit_circuit_posterior``.

    Args:
      circuit: circuit string or ``Circuit``.
      frequencies: (K,) Hz of every spectrum it will see (the grid is fixed).
      prior: None (a box from the frequency band: ``BoxPrior``), a
        {parameter: (low, high)} dict overriding that box per parameter, a
        ``BoxPrior``/``GeneratorPrior``, or a trained ``PhysicsFlow`` (its
        parameter flow, learned from unlabeled spectra, becomes the prior).
      noise: relative complex Gaussian noise of the simulator,
        Z + noise |Z| (e1 + j e2); match it to the measurements.
      embedding_dim, embedding_units: the summary network (features of the
        spectrum -> embedding_dim numbers the flow is conditioned on).
      num_layers, hidden_units: the cINN (affine couplings).
      calibration_size: simulations that set the feature standardisation and
        the flow's starting scale and spread (``start_from_fits``).
    Example:
      >>> post = make_circuit_posterior("R0-p(R1,C1)", np.geomspace(1, 1e4, 30), num_layers=2, calibration_size=512)
      >>> params, spectra = post.simulate(5)
      >>> post.sample(spectra, 100).shape
      TensorShape([5, 100, 3])
    """
    circuit = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
    frequencies = check_frequencies(frequencies)
    if not 0 < noise < 1:
        raise ValueError(f"noise is a relative level in (0, 1), got {noise!r}")
    prior = as_prior(prior, circuit, frequencies)
    params, z = simulate_pairs(prior, frequencies, noise, calibration_size, [seed, 11], "float64")
    log_s, raw = (t.numpy() for t in scale_free_features(z))
    start = start_from_fits(scale_free(params, log_s, scale_powers(circuit)).numpy(), circuit)
    unit = [i for i, s in enumerate(circuit.parameter_supports()) if s == "unit"]
    flow = make_flow("cinn", circuit.num_parameters, embedding_dim, num_layers=num_layers, hidden_units=hidden_units,
                     positive="exp", unit=unit, **start, dtype=dtype, seed=seed)
    embedding = MLP(embedding_dim, embedding_units, activation="gelu", zero_init_output=False, seed=seed + 1,
                    dtype=dtype)
    return CircuitPosterior(flow, embedding, circuit, frequencies, raw.mean(0), np.maximum(raw.std(0), 1e-6), prior,
                            noise, name="circuit_posterior", dtype=dtype)


def scale_free_features(z):
    """Complex spectra (N, K) -> (log s (N,), [log|Z / s|, phase] (N, 2K)) with s = exp(mean_k log|Z_k|)."""
    log_abs = tf.math.log(tf.abs(z))
    log_s = tf.reduce_mean(log_abs, -1)
    return log_s, tf.concat([log_abs - log_s[:, None], tf.math.angle(z)], -1)


def scale_free(parameters, log_s, powers):
    """Parameters of Z / s from those of Z: theta_i s^-k_i."""
    return parameters * tf.exp(-tf.constant(powers, parameters.dtype) * log_s[..., None])


def simulate_pairs(prior, frequencies, noise, n, seed, dtype="float32"):
    """(parameters (n, P) in ``Circuit.in_order``, noisy complex spectra (n, K)); ``seed`` a [2] int pair."""
    seed = tf.convert_to_tensor(seed, tf.int64)
    params = prior.circuit.in_order(prior.sample(n, seed=seed, dtype=dtype))
    z = prior.circuit.impedance(params, frequencies)
    return params, add_noise(z, noise, seed + tf.constant([0, 1], tf.int64))


class SimulatedPairsNLL:
    """-log q(scale-free parameters | embedding(features)) of a batch of simulated pairs."""

    def __call__(self, model, batch, training=True):
        params, feats = batch
        return -model.flow.log_prob(params, model.embedding(feats))


def fit_circuit_posterior(posterior, *, epochs=40, steps_per_epoch=200, batch_size=512, validation_size=8192,
                          learning_rate=1e-3, optimizer=None, seed=0, verbose=True, **fit_kwargs):
    """Trains ``posterior`` on pairs simulated on the fly; returns the loop's ``History``.

    Every step draws ``batch_size`` fresh parameter vectors from the prior,
    their spectra and noise (a new stream each epoch; ``epochs *
    steps_per_epoch * batch_size`` simulations in all), and minimises the
    negative log posterior density. The validation loss is on a fixed set of
    ``validation_size`` simulations. The default optimizer is Adam with a
    cosine decay of the learning rate to 1 % over the run. Other keywords go
    to ``train.fit`` (patience, checkpoint_dir, jit_compile, ...).
    """
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch), ("batch_size", batch_size),
                        ("validation_size", validation_size)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")

    def pairs(seeds):
        return posterior.training_pairs(batch_size, seeds)

    train = (tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2).take(steps_per_epoch)
             .map(pairs).prefetch(tf.data.AUTOTUNE))
    val_batches = max(1, validation_size // batch_size)
    val = tf.data.Dataset.random(seed=seed + 1).batch(2).take(val_batches).map(pairs).cache()
    if optimizer is None:
        schedule = keras.optimizers.schedules.CosineDecay(learning_rate, epochs * steps_per_epoch, alpha=0.01)
        optimizer = keras.optimizers.Adam(schedule)
    return fit(posterior, SimulatedPairsNLL(), train, validation_data=val, epochs=epochs, optimizer=optimizer,
               seed=seed, verbose=verbose, **fit_kwargs)


def _count(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (samples per spectrum) must be a positive int, got {n!r}")
    return int(n)


def _chunk_seed(seed, index):
    return None if seed is None else tf.constant([int(seed), index], tf.int64)
