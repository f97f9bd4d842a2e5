"""The exported modules (flow, physics generator, conditional sampler, classifier) and their export functions."""

import json

import numpy as np
import tensorflow as tf

from ..models.classifier import bayes_rule, class_log_density
from .saving import check_count, check_rows, require, save_module, serving_function, weight_copies


class FlowModule(tf.Module):
    """The exported object: a snapshot of the flow's weights and its serving functions.

    Signatures (all inputs float32/float64 as the flow, ``n`` int32):
      log_prob(x [, condition]) -> {"log_prob": (batch,)}
      sample(n [, condition])   -> {"samples": ..., "log_prob": ...}
        unconditional: samples (n, d); conditional: condition (batch, c) ->
        samples (n, batch, d) and log_prob (n, batch), [:, i] drawn given
        condition[i]: the sample axis first, exactly as ``Flow.sample`` and
        TFP's ``Distribution.sample`` (docs/design.md, "Contracts").
    ``description`` is a JSON string: kind, shapes, configuration, and the
    names of the data's columns when given (``physflow sample`` writes them).

    Keras 3 gives the tf.Variables of nested layers ambiguous names ("mlp/kernel"
    for every Dense of an MLP). ``tf.saved_model.load`` does not mind, but the
    session-based loader of ``saved_model_cli run`` and TF Serving does ("Could
    not find variable", keras-team/keras#20095). So the serving functions are
    traced against uniquely named copies of the weights, substituted for the
    Keras variables with ``keras.StatelessScope``; the Keras model itself is
    not part of the SavedModel.
    """

    def __init__(self, flow, columns=None):
        from ..flows import Flow

        if not isinstance(flow, Flow):
            raise TypeError(f"export_flow takes a Flow (make_flow), got {type(flow).__name__}")
        super().__init__(name="physflow")
        self.weights, frozen = weight_copies([flow])
        d, c, dtype = flow.event_dim, flow.condition_dim, tf.as_dtype(flow.compute_dtype)
        config = flow.config or {}
        if columns is not None and len(columns) != d:
            raise ValueError(f"columns must name the flow's {d} dimensions, got {len(columns)}: {list(columns)}")
        self.description = tf.Variable(json.dumps({
            "format": "tfp_physflow.flow/1", "event_dim": d, "condition_dim": c, "dtype": dtype.name,
            "config": config, "columns": None if columns is None else [str(n) for n in columns]}, default=str),
            trainable=False, name="description")
        self.log_prob, self.sample = _serving_functions(flow, frozen)


def _serving_functions(flow, frozen):
    """The ``log_prob`` and ``sample`` tf.functions, reading the exported weights."""
    d, c, dtype = flow.event_dim, flow.condition_dim, tf.as_dtype(flow.compute_dtype)
    x_spec = tf.TensorSpec([None, None], dtype, name="x")
    n_spec = tf.TensorSpec([], tf.int32, name="n")
    c_spec = tf.TensorSpec([None, None], dtype, name="condition")

    if c is None:
        @serving_function(x_spec)
        def log_prob(x):
            with frozen():
                return {"log_prob": flow.log_prob(check_rows(x, d, "x", "log_prob"))}

        @serving_function(n_spec)
        def sample(n):
            with frozen():
                samples, lp = flow.sample_and_log_prob(check_count(n, "sample"))
            return {"samples": samples, "log_prob": lp}
        return log_prob, sample

    @serving_function(x_spec, c_spec)
    def log_prob_conditional(x, condition):
        x = check_rows(x, d, "x", "log_prob")
        condition = check_rows(condition, c, "condition", "log_prob")
        same = require(tf.equal(tf.shape(x)[0], tf.shape(condition)[0]),
                       "log_prob: x and condition must have the same batch size")
        with tf.control_dependencies([same]), frozen():
            return {"log_prob": flow.log_prob(x, condition)}

    @serving_function(n_spec, c_spec)
    def sample_conditional(n, condition):
        condition = check_rows(condition, c, "condition", "sample")
        with frozen():
            samples, lp = flow.sample_and_log_prob(check_count(n, "sample"), condition)
        return {"samples": samples, "log_prob": lp}
    return log_prob_conditional, sample_conditional


def export_flow(flow, path, columns=None):
    """Writes ``flow`` as a SavedModel at ``path`` with ``log_prob`` and ``sample`` signatures.

    ``columns``: optional names of the data's dimensions, kept in the description.

    The write is atomic: the model is saved to a temporary folder beside
    ``path`` and swapped in only when complete, so a failed export leaves the
    previous model at ``path`` intact and loadable.

    Example:
      >>> import os, tempfile
      >>> path = export_flow(make_flow("realnvp", 2, num_layers=2), os.path.join(tempfile.mkdtemp(), "moons"))
      >>> m = tf.saved_model.load(path)      # no tfp_physflow needed
      >>> m.signatures["log_prob"](x=tf.zeros([4, 2]))["log_prob"].shape
      TensorShape([4])
    """
    module = FlowModule(flow, columns)
    return save_module(module, path, signatures={"log_prob": module.log_prob, "sample": module.sample})


class PhysicsFlowModule(tf.Module):
    """The exported PhysicsFlow: generated circuit parameters and their spectra.

    Signatures (``n`` int32):
      sample_parameters(n) -> {"parameters": (n, P), "log_prob": (n,)}, interchangeable
        blocks fastest first (``Circuit.in_order``); log_prob is the flow's density there
      sample_spectra(n)    -> {"parameters": (n, P), "real": (n, K), "imag": (n, K)},
        the impedance Z = real + j imag (Ohm) at ``frequencies``, row i from parameters[i].
    ``frequencies`` (K,) Hz and ``description`` (JSON: circuit, parameter
    names and units, flow configuration) are variables of the module.
    """

    def __init__(self, generator):
        super().__init__(name="physflow_generator")
        flow, layer = generator.flow, generator.layer
        self.weights, frozen = weight_copies([flow])
        dtype = tf.as_dtype(flow.compute_dtype)
        self.frequencies = tf.Variable(layer.frequencies, trainable=False, name="frequencies")
        self.description = tf.Variable(json.dumps({
            "format": "tfp_physflow.physics_flow/1", "circuit": layer.circuit.text,
            "parameter_names": list(layer.circuit.parameter_names),
            "parameter_units": list(layer.circuit.parameter_units), "dtype": dtype.name,
            "config": flow.get_config()}, default=str), trainable=False, name="description")
        n_spec = tf.TensorSpec([], tf.int32, name="n")

        @serving_function(n_spec)
        def sample_parameters(n):
            with frozen():
                params, lp = flow.sample_and_log_prob(check_count(n, "sample_parameters"))
                if layer.circuit.interchangeable:  # the flow's density at the parameters as returned
                    params = layer.circuit.in_order(params)
                    lp = flow.log_prob(params)
            return {"parameters": params, "log_prob": lp}

        @serving_function(n_spec)
        def sample_spectra(n):
            with frozen():
                params = layer.circuit.in_order(flow.sample(check_count(n, "sample_spectra")))
            z = layer.impedance(params)
            return {"parameters": params, "real": tf.math.real(z), "imag": tf.math.imag(z)}

        self.sample_parameters, self.sample_spectra = sample_parameters, sample_spectra


def export_physics_flow(generator, path):
    """Writes a ``PhysicsFlow`` as a SavedModel with ``sample_parameters`` and
    ``sample_spectra`` signatures (atomic; see ``PhysicsFlowModule``)."""
    from ..physics.generator import PhysicsFlow

    if not isinstance(generator, PhysicsFlow):
        raise TypeError(f"export_physics_flow takes a PhysicsFlow (make_physics_flow), got {type(generator).__name__}")
    module = PhysicsFlowModule(generator)
    return save_module(module, path, signatures={"sample_parameters": module.sample_parameters,
                                                 "sample_spectra": module.sample_spectra})


class ConditionalSamplerModule(tf.Module):
    """An exported inverse-problem solver: samples of x given a raw condition.

    ``<signature>(<condition_name> (batch, c), n) -> {<output_name>: (n, batch, d)}``
    (the sample axis first, as ``model.sample``):
    the condition is standardised with the training ``condition_mean`` and
    ``condition_std`` inside the signature, then ``model.sample(n, condition)``
    (a conditional Flow or a CVAE) draws n x per row.
    """

    def __init__(self, model, condition_mean, condition_std, signature, condition_name, output_name, kind):
        super().__init__(name="physflow_sampler")
        self.weights, frozen = weight_copies([model])
        dtype = tf.as_dtype(model.compute_dtype)
        c = model.condition_dim
        mean, std = (np.asarray(a, np.float64).reshape(-1) for a in (condition_mean, condition_std))
        if mean.shape != (c,) or std.shape != (c,) or not np.all(std > 0):
            raise ValueError(f"condition_mean and condition_std must have {c} entries (std > 0)")
        self.description = tf.Variable(json.dumps({
            "format": "tfp_physflow.sampler/1", "model": kind, "signature": signature,
            "condition": condition_name, "output": output_name, "condition_dim": c,
            "output_dim": getattr(model, "event_dim", getattr(model, "data_dim", None)),
            "condition_mean": mean.tolist(), "condition_std": std.tolist()}), trainable=False, name="description")
        mean, std = tf.constant(mean, dtype), tf.constant(std, dtype)

        @serving_function(tf.TensorSpec([None, None], dtype, name=condition_name),
                          tf.TensorSpec([], tf.int32, name="n"))
        def sample(condition, n):
            condition = check_rows(condition, c, condition_name, signature)
            with frozen():
                x = model.sample(check_count(n, signature), (condition - mean) / std)
            return {output_name: x}

        self.sample = sample


def export_conditional_sampler(model, path, condition_mean, condition_std, signature="sample_positions",
                               condition_name="momenta", output_name="positions"):
    """Writes a conditional Flow (cINN) or a CVAE as a SavedModel with one sampling signature (atomic).

    Example (Coulomb explosion imaging):
      >>> import os, tempfile
      >>> cinn = make_flow("cinn", 9, 9, num_layers=2)        # trained with fit_flow(cinn, positions, momenta)
      >>> mean, std = np.zeros(9), np.full(9, 50.0)          # of the training momenta
      >>> path = export_conditional_sampler(cinn, os.path.join(tempfile.mkdtemp(), "ocs_cinn"), mean, std)
      >>> m = tf.saved_model.load(path)
      >>> momenta = tf.zeros([3, 9])                          # raw, standardised inside the signature
      >>> m.signatures["sample_positions"](momenta=momenta, n=tf.constant(100))["positions"].shape
      TensorShape([100, 3, 9])
    """
    if getattr(model, "condition_dim", None) is None:
        raise ValueError("export_conditional_sampler needs a conditional model (a cINN flow or a CVAE)")
    module = ConditionalSamplerModule(model, condition_mean, condition_std, signature, condition_name, output_name,
                                      type(model).__name__)
    return save_module(module, path, signatures={signature: module.sample})


class ClassifierModule(tf.Module):
    """The exported FlowClassifier: ``classify(x)`` with x (batch, d) in the original features.

    Outputs: log_density (batch, K) = log p(x | k); log_posterior (batch, K);
    label (batch,) the predicted class; with two classes also statistic
    (batch,) t = ln p(0|x) - ln p(1|x), label = classes[1] where t < cut.
    """

    def __init__(self, classifier):
        super().__init__(name="physflow_classifier")
        flows = classifier.flows_
        self.weights, frozen = weight_copies(flows)
        d, dtype = classifier.n_features_in_, tf.as_dtype(flows[0].compute_dtype)
        classes = np.asarray(classifier.classes_)
        self.description = tf.Variable(json.dumps({
            "format": "tfp_physflow.classifier/1", "n_features": d, "classes": classes.tolist(),
            "cut": classifier.cut_, "kind": classifier.kind}, default=str), trainable=False, name="description")
        log_priors, labels = tf.constant(classifier.log_priors_, dtype), tf.constant(classes)

        @serving_function(tf.TensorSpec([None, None], dtype, name="x"))
        def classify(x):
            x = check_rows(x, d, "x", "classify")
            with frozen():
                log_density = class_log_density(flows, x, classifier.mean_, classifier.whitening_,
                                                classifier.log_det_)
            log_density, log_posterior, statistic, index = bayes_rule(log_density, log_priors, classifier.cut_)
            out = {"log_density": log_density, "log_posterior": log_posterior, "label": tf.gather(labels, index)}
            if statistic is not None:
                out["statistic"] = statistic
            return out

        self.classify = classify


def export_classifier(classifier, path):
    """Writes a fitted ``FlowClassifier`` as a SavedModel with a ``classify`` signature (atomic).

    Loadable and callable without tfp_physflow: see ``ClassifierModule`` for the outputs.
    """
    from sklearn.utils.validation import check_is_fitted

    from ..models.classifier import FlowClassifier

    if not isinstance(classifier, FlowClassifier):
        raise TypeError(f"export_classifier takes a FlowClassifier, got {type(classifier).__name__}")
    check_is_fitted(classifier, "flows_")
    module = ClassifierModule(classifier)
    return save_module(module, path, signatures={"classify": module.classify})
