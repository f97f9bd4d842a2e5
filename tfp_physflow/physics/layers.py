"""ImpedanceLayer: positive circuit parameters -> real spectrum features for a network."""

import keras
import numpy as np
import tensorflow as tf

from .circuits import DEFAULT_CIRCUIT, Circuit, check_frequencies

REPRESENTATIONS = ("cartesian", "bode")


def default_frequencies(num=48, low=1.3, high=16e3):
    """``num`` log-spaced frequencies in Hz (default: the HT-29/B6 set, 48 from 1.3 Hz to 16 kHz)."""
    return np.geomspace(low, high, num)


def spectrum_features(z, representation="cartesian", finite_differences=False):
    """Real features of complex spectra z (N, K).

    cartesian: [Re Z, Im Z] (N, 2K); bode: [log10 |Z|, phase in radians] (N, 2K).
    With ``finite_differences`` the differences along frequency of each block
    are appended (N, 2K + 2(K-1)), as the physics-aware flows paper feeds its critic.
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
    z = z if tf.is_tensor(z) else np.asarray(z)
    if not (z.dtype.is_complex if tf.is_tensor(z) else np.iscomplexobj(z)):
        raise ValueError(f"spectra must be complex impedances Z' + jZ'' (N, K), got real dtype "
                         f"{getattr(z.dtype, 'name', z.dtype)}: combine the real and imaginary parts "
                         "(|Z| or one part alone is not a spectrum)")
    if representation == "cartesian":
        blocks = [tf.math.real(z), tf.math.imag(z)]
    else:
        blocks = [tf.math.log(tf.abs(z)) / np.log(10.0), tf.math.angle(z)]
    if finite_differences:
        blocks += [b[:, 1:] - b[:, :-1] for b in blocks]
    return tf.concat(blocks, axis=-1)


@keras.saving.register_keras_serializable(package="tfp_physflow")
class ImpedanceLayer(keras.layers.Layer):
    """Keras layer: positive circuit parameters (N, P) -> spectrum features (N, F).

    Computes Z(omega) of ``circuit`` at ``frequencies`` (Hz), then the real
    features of ``spectrum_features``, then optionally a fixed normalisation
    (features - mean) / std. Differentiable; works in a ``keras.Model``, under
    ``tf.function`` and XLA; serialisable with ``get_config``.

    Args:
      circuit: circuit string (default the paper's ``Rs-p(Re,Ce)``).
      frequencies: (K,) Hz (default 48 log-spaced from 1.3 Hz to 16 kHz).
      representation: "cartesian" or "bode".
      finite_differences: append differences along frequency.
      normalization: None or (mean, std), each of length F; see
        ``ImpedanceLayer.fit_normalization``.
    Reference: Schindler & Schmid, "Physics-aware normalizing flows", Eq. (4)-(5).
    Example:
      >>> layer = ImpedanceLayer("Rs-p(Re,Ce)", representation="bode")
      >>> features = layer(tf.constant([[20.0, 400.0, 3e-6]]))   # (1, 96)
    """

    def __init__(self, circuit=DEFAULT_CIRCUIT, frequencies=None, representation="cartesian",
                 finite_differences=False, normalization=None, **kwargs):
        super().__init__(**kwargs)
        self.circuit = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
        self.frequencies = check_frequencies(default_frequencies() if frequencies is None else frequencies)
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
        self.representation, self.finite_differences = representation, bool(finite_differences)
        k = len(self.frequencies)
        self.num_features = 2 * k + (2 * (k - 1) if self.finite_differences else 0)
        self.normalization = None
        if normalization is not None:
            mean, std = (np.asarray(a, dtype=np.float64) for a in normalization)
            if mean.shape != (self.num_features,) or std.shape != (self.num_features,):
                raise ValueError(f"normalization must be (mean, std) of length {self.num_features}, "
                                 f"got shapes {mean.shape}, {std.shape}")
            if not np.all(std > 0):
                raise ValueError("normalization std must be positive")
            self.normalization = (mean, std)

    def impedance(self, parameters):
        """Complex spectra (N, K) for parameters (N, P)."""
        return self.circuit.impedance(parameters, self.frequencies)

    def features(self, z):
        """Features of complex spectra z (N, K) exactly as ``call`` makes them: use on measured data."""
        z = z if tf.is_tensor(z) else np.asarray(z)
        k = len(self.frequencies)
        if len(z.shape) == 0 or z.shape[-1] not in (None, k):
            raise ValueError(f"spectra must have shape (N, {k}), one value per frequency, got {tuple(z.shape)}")
        out = spectrum_features(z, self.representation, self.finite_differences)
        if self.normalization is not None:
            mean, std = (tf.constant(a, out.dtype) for a in self.normalization)
            out = (out - mean) / std
        return out

    def fit_normalization(self, z):
        """(mean, std) of the un-normalised features of spectra z, for ``normalization=``."""
        raw = spectrum_features(tf.convert_to_tensor(z), self.representation, self.finite_differences).numpy()
        return raw.mean(0), np.maximum(raw.std(0), 1e-12)

    def call(self, parameters):
        return self.features(self.impedance(parameters))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_features)

    def get_config(self):
        normalization = None if self.normalization is None else [a.tolist() for a in self.normalization]
        return {**super().get_config(), "circuit": self.circuit.text, "frequencies": self.frequencies.tolist(),
                "representation": self.representation, "finite_differences": self.finite_differences,
                "normalization": normalization}
