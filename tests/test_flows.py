"""Flow and make_flow: the public contract, for every kind."""

import numpy as np
import pytest
import tensorflow as tf
from bijector_registry import randomize
from scipy import stats

from tfp_physflow import Flow, make_flow

D, C = 3, 2
SMALL = dict(num_layers=2, hidden_units=(16, 16))
KIND_ARGS = {
    "diagonal": dict(),
    "linear": dict(),
    "realnvp": SMALL,
    "maf": SMALL,
    "maf_spline": dict(SMALL, transformer="spline"),
    "nsf": SMALL,
    "cinn": dict(SMALL, condition_dim=C),
    "realnvp_conditional": dict(SMALL, condition_dim=C),
    "maf_conditional": dict(SMALL, condition_dim=C),
    "nsf_conditional": dict(SMALL, condition_dim=C),
}


def build(name, dtype="float64", positive=None, random=True):
    kind = name.split("_")[0]
    flow = make_flow(kind, D, dtype=dtype, positive=positive, **KIND_ARGS[name])
    if random:
        randomize(flow.variables, seed=len(name))
    return flow


def condition_for(flow, batch=(8,)):
    if flow.condition_dim is None:
        return None
    return np.random.default_rng(5).standard_normal(batch + (C,))


def points(n=8, seed=0):
    return np.random.default_rng(seed).standard_normal((n, D))


@pytest.mark.parametrize("name", KIND_ARGS)
def test_log_prob_agrees_with_the_tfp_distribution_and_with_sampling(name):
    flow = build(name)
    cond = condition_for(flow)
    x = points()
    lp = flow.log_prob(x, cond)
    np.testing.assert_allclose(flow.distribution(cond).log_prob(x), lp, rtol=1e-10, atol=1e-10)
    samples, lp_samples = flow.sample_and_log_prob(8, condition=cond[0] if cond is not None else None, seed=3)
    lp_again = flow.log_prob(samples, cond[0] if cond is not None else None)
    np.testing.assert_allclose(lp_samples, lp_again, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name", KIND_ARGS)
def test_a_fresh_flow_is_a_standard_normal(name):
    flow = build(name, random=False)
    x = points()
    expected = stats.multivariate_normal(np.zeros(D), np.eye(D)).logpdf(x)
    np.testing.assert_allclose(flow.log_prob(x, condition_for(flow)), expected, atol=1e-10)


@pytest.mark.parametrize("name", KIND_ARGS)
def test_eager_graph_and_xla_give_the_same_numbers(name):
    flow = build(name, dtype="float32")
    cond = condition_for(flow)
    x = tf.constant(points(), tf.float32)
    cond1 = None if cond is None else tf.constant(cond[0], tf.float32)
    cond = None if cond is None else tf.constant(cond, tf.float32)

    def run(x, cond, cond1):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(x, cond))
        grads = tape.gradient(loss, flow.trainable_variables)
        return flow.log_prob(x, cond), flow.sample(5, cond1, seed=[1, 2]), grads

    eager = run(x, cond, cond1)
    for compiled in (tf.function(run), tf.function(run, jit_compile=True)):
        got = compiled(x, cond, cond1)
        np.testing.assert_allclose(got[0], eager[0], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(got[1], eager[1], rtol=1e-4, atol=1e-4)
        for g_got, g_eager in zip(got[2], eager[2]):
            np.testing.assert_allclose(g_got, g_eager, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", KIND_ARGS)
def test_every_trainable_variable_gets_a_finite_gradient(name):
    flow = build(name)
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(flow.log_prob(points(), condition_for(flow)))
    grads = tape.gradient(loss, flow.trainable_variables)
    assert flow.trainable_variables and all(g is not None for g in grads)
    assert all(np.all(np.isfinite(g)) for g in grads)
    assert any(np.any(np.asarray(g) != 0) for g in grads)


@pytest.mark.parametrize("positive", ["softplus", "exp"])
@pytest.mark.parametrize("name", ["diagonal", "realnvp", "maf_conditional", "nsf"])
def test_positive_flows_sample_positive_values_and_give_zero_density_outside(name, positive):
    flow = build(name, positive=positive)
    cond = condition_for(flow)
    x = flow.sample(8, None if cond is None else cond[0], seed=0)
    assert np.all(x.numpy() > 0)
    lp = flow.log_prob(x, cond)
    np.testing.assert_allclose(flow.distribution(cond).log_prob(x), lp, rtol=1e-8)
    outside = x.numpy().copy()
    outside[::2, 0] = -outside[::2, 0]
    lp_out = flow.log_prob(outside, cond).numpy()
    assert np.all(lp_out[::2] == -np.inf) and np.all(np.isfinite(lp_out[1::2]))


def test_float32_and_float64_flows_compute_in_their_dtype():
    for dtype in ("float32", "float64"):
        flow = build("realnvp", dtype=dtype)
        assert all(v.dtype == dtype for v in flow.variables)
        assert flow.log_prob(points()).dtype == dtype and flow.sample(2).dtype == dtype


def test_conditional_sample_shapes_follow_the_condition_batch():
    flow = build("cinn")
    assert flow.sample(4, np.zeros(C)).shape == (4, D)
    assert flow.sample(4, np.zeros((6, C))).shape == (4, 6, D)
    assert flow.log_prob(points(6), np.zeros(C)).shape == (6,)
    assert flow.distribution(np.zeros((6, C))).batch_shape == (6,)


def test_config_rebuilds_the_same_flow():
    flow = build("nsf_conditional")
    clone = Flow.from_config(flow.get_config())
    clone.set_weights(flow.get_weights())
    cond = condition_for(flow)
    np.testing.assert_array_equal(clone.log_prob(points(), cond), flow.log_prob(points(), cond))


def nan_points():
    x = points()
    x[2, 1] = np.nan
    return x


@pytest.mark.parametrize("name, call, message", [
    ("realnvp", lambda f: f.log_prob(np.zeros((4, D + 1))), r"x must have shape \(\.\.\., 3\)"),
    ("realnvp", lambda f: f.log_prob(np.zeros(())), "x must have shape"),
    ("cinn", lambda f: f.log_prob(points(), np.zeros((8, C + 1))), "condition must have shape"),
    ("cinn", lambda f: f.log_prob(points()), "conditional"),
    ("cinn", lambda f: f.sample(3), "conditional"),
    ("realnvp", lambda f: f.log_prob(points(), np.zeros((8, C))), "unconditional"),
    ("realnvp", lambda f: f.log_prob(nan_points()), "x contains NaN or inf"),
    ("realnvp", lambda f: f.log_prob(np.full((2, D), np.inf)), "NaN or inf"),
    ("cinn", lambda f: f.log_prob(points(), np.full((8, C), np.nan)), "condition contains NaN"),
    ("realnvp", lambda f: f.log_prob(np.array([["a", "b", "c"]])), "real numbers"),
    ("realnvp", lambda f: f.log_prob(tf.constant([[True, False, True]])), "real numbers"),
    ("cinn", lambda f: f.log_prob(points(8), np.zeros((5, C))), "do not broadcast"),
    ("realnvp", lambda f: f.sample(-1), "non-negative"),
])
def test_bad_input_raises_a_value_error_naming_the_problem(name, call, message):
    with pytest.raises(ValueError, match=message):
        call(build(name, random=False))


@pytest.mark.parametrize("args, kwargs, message", [
    (("glow", 2), {}, "unknown flow kind"),
    (("realnvp", 0), {}, "event_dim"),
    (("realnvp", 2.5), {}, "event_dim"),
    (("realnvp", 1), {}, "event_dim >= 2"),
    (("cinn", 3), {}, "condition_dim"),
    (("realnvp", 3, 0), {}, "condition_dim"),
    (("diagonal", 3, 2), {}, "takes no condition"),
    (("linear", 3, 2), {}, "takes no condition"),
    (("realnvp", 3), dict(num_layers=0), "num_layers"),
    (("realnvp", 3), dict(dtype="float16"), "dtype"),
    (("realnvp", 3), dict(transformer="spline"), "transformer"),
    (("maf", 3), dict(transformer="cubic"), "transformer"),
    (("realnvp", 3), dict(network="cnn"), "network"),
    (("realnvp", 3), dict(positive="square"), "positive"),
])
def test_make_flow_rejects_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_flow(*args, **kwargs)
