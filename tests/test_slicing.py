"""Taking an event apart: slices under XLA, tf.split and tf.unstack elsewhere (bijectors/slicing.py)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from bijector_registry import BY_NAME, built

import tfp_physflow as pf
from tfp_physflow.bijectors import slicing

X = tf.constant(np.arange(24.0).reshape(4, 6))


def parts(x):
    return (*slicing.split_last(x, 2), *slicing.unstack_last(x, 6))


@pytest.mark.parametrize("mode", ["eager", "tf.function", "XLA"])
def test_both_forms_give_the_slices(mode):
    run = {"eager": parts, "tf.function": tf.function(parts), "XLA": tf.function(parts, jit_compile=True)}[mode]
    expected = (X[:, :2], X[:, 2:], *(X[:, i] for i in range(6)))
    for got, want in zip(run(X), expected, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_affine_takes_parameters_whose_last_axis_is_unknown_at_trace_time(jit_compile):
    spec = [tf.TensorSpec([None, None], tf.float64), tf.TensorSpec([None, None, None], tf.float64)]
    affine = tf.function(pf.Affine(2.0), input_signature=spec, jit_compile=jit_compile)
    raw = tf.constant(np.stack([np.full((4, 6), 1.0), np.zeros((4, 6))], -1))
    y, log_det = affine(X, raw)
    np.testing.assert_array_equal(y, X + 1.0)
    np.testing.assert_array_equal(log_det, np.zeros((4, 6)))


def gradient_op_types(case_name, jit_compile):
    bijector, variables = built(BY_NAME[case_name])

    @tf.function(jit_compile=jit_compile)
    def gradients(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y, log_det = bijector.forward_and_log_det(x)
            loss = tf.reduce_sum(y * y) + tf.reduce_sum(log_det)
        return tape.gradient(loss, [x, *variables])

    graph = gradients.get_concrete_function(tf.TensorSpec([None, 5], tf.float64)).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("case_name", ["affine_coupling", "affine_coupling_conditional", "maf_affine"])
def test_xla_traces_slices_and_tf_function_splits(case_name):
    plain, xla = gradient_op_types(case_name, jit_compile=False), gradient_op_types(case_name, jit_compile=True)
    assert "Unpack" in plain and "Unpack" not in xla  # Affine's (shift, log-scale)
    if "coupling" in case_name:  # the event itself: a MAF does not take it apart
        assert "SplitV" in plain and "SplitV" not in xla
        assert "StridedSliceGrad" not in plain and "StridedSliceGrad" in xla


def trained_weights(monkeypatch, force_slices):
    if force_slices:
        monkeypatch.setattr(slicing, "in_xla_trace", lambda: True)
    keras.utils.set_random_seed(0)
    flow = pf.make_flow("cinn", 4, condition_dim=2, num_layers=3, hidden_units=(16,))
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((64, 4)), tf.float32)
    c = tf.constant(rng.standard_normal((64, 2)), tf.float32)
    flow.log_prob(x[:1], c[:1])
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(x, c))
        optimizer.apply_gradients(zip(tape.gradient(loss, flow.trainable_variables), flow.trainable_variables))

    for _ in range(5):
        step()
    return [v.numpy() for v in flow.trainable_variables]


def test_training_without_xla_is_bit_for_bit_that_of_slicing(monkeypatch):
    split = trained_weights(monkeypatch, force_slices=False)
    sliced = trained_weights(monkeypatch, force_slices=True)
    for a, b in zip(split, sliced, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(split[-1], 0.0)  # the output layer moved away from its zero init
