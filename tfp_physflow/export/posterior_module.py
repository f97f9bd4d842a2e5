"""The exported CircuitPosterior, and the loaded one: posterior samples of circuit parameters as a service."""

import json
import os

import numpy as np
import tensorflow as tf

from .saving import check_count, require, save_module, serving_function, weight_copies


class CircuitPosteriorModule(tf.Module):
    """The exported ``CircuitPosterior``.

    Signature (``real``, ``imag`` float32/float64 as the posterior, ``n`` int32):
      sample_parameters(real (N, K), imag (N, K), n) -> {"parameters": (N, n, P)}
        posterior samples given the spectra Z = real + j imag (Ohm) on the
        training frequency grid, interchangeable blocks fastest first.
    ``frequencies`` (K,) Hz and ``description`` (JSON: circuit, parameter names
    and units, noise level, prior) are variables of the module.
    """

    def __init__(self, posterior):
        super().__init__(name="physflow_posterior")
        self.weights, frozen = weight_copies([posterior])
        dtype = tf.as_dtype(posterior.compute_dtype)
        k = posterior.frequencies.size
        self.frequencies = tf.Variable(posterior.frequencies, trainable=False, name="frequencies")
        self.description = tf.Variable(json.dumps({
            "format": "tfp_physflow.circuit_posterior/1", "circuit": posterior.circuit.text,
            "parameter_names": list(posterior.parameter_names),
            "parameter_units": list(posterior.circuit.parameter_units), "dtype": dtype.name,
            "noise": posterior.noise, "prior": repr(posterior.prior)}), trainable=False, name="description")
        spec = tf.TensorSpec([None, k], dtype)

        @serving_function(spec, spec, tf.TensorSpec([], tf.int32, name="n"))
        def sample_parameters(real, imag, n):
            z = _checked_spectra(real, imag, k)
            with frozen():
                return {"parameters": posterior.sample_graph(z, check_count(n, "sample_parameters"))}

        self.sample_parameters = sample_parameters


def _checked_spectra(real, imag, k):
    name = "sample_parameters"
    message = f"{name}: real and imag must both have shape (N, {k}), one value per training frequency; got"
    checks = [require(tf.reduce_all(tf.equal(tf.shape(real), tf.shape(imag))) & tf.equal(tf.shape(real)[-1], k),
                      message, tf.shape(real), tf.shape(imag))]
    with tf.control_dependencies(checks):
        real = tf.debugging.check_numerics(real, f"{name}: real contains NaN or inf")
        imag = tf.debugging.check_numerics(imag, f"{name}: imag contains NaN or inf")
    z = tf.complex(real, imag)
    nonzero = require(tf.reduce_all(tf.abs(z) > 0), f"{name}: a spectrum has an impedance of 0 at some frequency")
    with tf.control_dependencies([nonzero]):
        return tf.identity(z)


def export_circuit_posterior(posterior, path):
    """Writes a trained ``CircuitPosterior`` as a SavedModel with the ``sample_parameters`` signature
    (atomic; see ``CircuitPosteriorModule``); it serves without tfp_physflow.

    Example:
      >>> import os, tempfile
      >>> post = make_circuit_posterior("R0-p(R1,C1)", np.geomspace(1, 1e4, 20), num_layers=2,
      ...                               calibration_size=512)  # then trained
      >>> path = export_circuit_posterior(post, os.path.join(tempfile.mkdtemp(), "posterior"))
      >>> _, z = post.simulate(3)
      >>> m = tf.saved_model.load(path)                        # no tfp_physflow needed from here on
      >>> real, imag = tf.constant(z.real, tf.float32), tf.constant(z.imag, tf.float32)
      >>> m.signatures["sample_parameters"](real=real, imag=imag, n=tf.constant(100))["parameters"].shape
      TensorShape([3, 100, 3])
    """
    from ..physics.posterior import CircuitPosterior

    if not isinstance(posterior, CircuitPosterior):
        raise TypeError(f"export_circuit_posterior takes a CircuitPosterior (make_circuit_posterior), got "
                        f"{type(posterior).__name__}")
    module = CircuitPosteriorModule(posterior)
    return save_module(module, path, signatures={"sample_parameters": module.sample_parameters})


class ServedPosterior:
    """A ``CircuitPosterior`` SavedModel loaded for use as one: ``sample``, ``summary``, ``circuit``,
    ``frequencies``, ``parameter_names`` (so ``fit_circuit(initial=...)`` and the CLI take either)."""

    def __init__(self, path):
        from ..physics.circuits import Circuit

        self.path = str(path)
        if not os.path.isfile(os.path.join(self.path, "saved_model.pb")):
            raise ValueError(f"{self.path!r} is not a SavedModel folder (no saved_model.pb): give the folder "
                             "export_circuit_posterior wrote")
        self.module = tf.saved_model.load(self.path)
        try:
            self.description = json.loads(self.module.description.numpy().decode())
        except AttributeError:
            raise ValueError(f"{self.path} is a SavedModel but not a circuit posterior (no description)") from None
        if self.description.get("format") != "tfp_physflow.circuit_posterior/1":
            raise ValueError(f"{self.path} holds a {self.description.get('format')!r}, not a circuit posterior")
        self.circuit = Circuit(self.description["circuit"])
        self.parameter_names = tuple(self.description["parameter_names"])
        self.frequencies = self.module.frequencies.numpy()
        self.dtype = np.float32 if self.description["dtype"] == "float32" else np.float64

    def sample(self, spectra, n, seed=None):
        """(N, n, P) posterior samples (NumPy) for complex spectra (N, K); ``seed`` is accepted
        for the same call as ``CircuitPosterior.sample`` but the served sampler is not seeded."""
        from ..physics.posterior import _count, check_spectra, chunk_for

        z = check_spectra(spectra, self.frequencies.size)
        chunk = chunk_for(_count(n))
        sample = self.module.signatures["sample_parameters"]
        return np.concatenate([sample(real=tf.constant(z[i:i + chunk].real.astype(self.dtype)),
                                      imag=tf.constant(z[i:i + chunk].imag.astype(self.dtype)),
                                      n=tf.constant(int(n)))["parameters"].numpy()
                               for i in range(0, len(z), chunk)])

    def summary(self, spectra, quantiles=(0.05, 0.5, 0.95), n=1000, seed=0):
        """NumPy (N, Q, P): each parameter's posterior ``quantiles`` per spectrum."""
        from ..physics.posterior import posterior_quantiles

        return posterior_quantiles(self.sample(spectra, n, seed), quantiles)


def load_circuit_posterior(path):
    """Loads an exported circuit posterior (``export_circuit_posterior``) as a ``ServedPosterior``."""
    return ServedPosterior(path)
