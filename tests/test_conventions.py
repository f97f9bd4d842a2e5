"""The conventions users of Keras, TFP and scikit-learn rely on: saving, pickling, summaries, single events."""

import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfp_physflow as pf

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3)).astype("float32")
C = RNG.standard_normal((6, 2)).astype("float32")
FLOWS = {  # id: (make_flow arguments, conditional)
    "diagonal": (dict(kind="diagonal"), False),
    "linear": (dict(kind="linear"), False),
    "linear, random seed": (dict(kind="linear", seed=None), False),
    "realnvp": (dict(kind="realnvp", num_layers=2), False),
    "realnvp resnet, conditional": (dict(kind="realnvp", num_layers=2, network="resnet", condition_dim=2), True),
    "maf": (dict(kind="maf", num_layers=2), False),
    "maf spline, conditional": (dict(kind="maf", num_layers=2, transformer="spline", condition_dim=2), True),
    "nsf": (dict(kind="nsf", num_layers=2), False),
    "nsf positive with scale": (dict(kind="nsf", num_layers=2, positive="exp", scale=[1.0, 2.0, 3.0]), False),
    "cinn": (dict(kind="cinn", num_layers=2, condition_dim=2), True),
}


def _flow(case):
    kwargs, conditional = FLOWS[case]
    flow = pf.make_flow(event_dim=3, hidden_units=(8,), **kwargs)
    for i, v in enumerate(flow.trainable_variables):  # away from the identity start, so that outputs differ
        v.assign(v + 0.1 * tf.random.stateless_normal(v.shape, [7, i], dtype=v.dtype))
    x = np.abs(X) if kwargs.get("positive") else X
    return flow, (x, C) if conditional else (x,)


@pytest.mark.parametrize("case", list(FLOWS))
def test_every_flow_kind_reloads_with_keras_and_pickle_with_identical_outputs(case, tmp_path):
    flow, args = _flow(case)
    expected = flow.log_prob(*args).numpy()
    assert np.all(np.isfinite(expected)) and np.ptp(expected) > 0
    flow.save(tmp_path / "flow.keras")
    reloaded = keras.saving.load_model(tmp_path / "flow.keras")  # no custom_objects: registered on import
    unpickled = pickle.loads(pickle.dumps(flow))
    for other in (reloaded, unpickled):
        assert type(other) is pf.Flow
        np.testing.assert_array_equal(other.log_prob(*args).numpy(), expected)
    seed = tf.constant([1, 2])
    np.testing.assert_array_equal(reloaded.sample(4, *args[1:2], seed=seed), flow.sample(4, *args[1:2], seed=seed))


def test_a_model_holding_an_impedance_layer_reloads_with_identical_outputs(tmp_path):
    layer = pf.ImpedanceLayer("R0-p(R1,CPE1)", np.geomspace(1, 1e4, 10), representation="bode",
                              finite_differences=True)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(layer(inputs)))
    p = np.array([[10.0, 100.0, 1e-4, 0.8], [12.0, 90.0, 2e-4, 0.9]], "float32")
    model.save(tmp_path / "m.keras")
    for other in (keras.saving.load_model(tmp_path / "m.keras"), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(np.asarray(other(p)), np.asarray(model(p)))
        assert other.layers[1].circuit.text == "R0-p(R1,CPE1)"


@pytest.mark.parametrize("case", list(FLOWS))
def test_one_unbatched_event_has_the_log_prob_of_its_batch_of_one(case):
    flow, args = _flow(case)
    batched = flow.log_prob(*(a[:1] for a in args)).numpy()
    single = flow.log_prob(*(a[0] for a in args)).numpy()
    assert single.shape == () and np.isclose(single, batched[0], rtol=1e-5)
    distribution = flow.distribution(*(a[0] for a in args[1:]))
    assert np.isclose(distribution.log_prob(args[0][0]).numpy(), batched[0], rtol=1e-5)


def test_the_distribution_trains_through_its_trainable_variables():
    flow, (x,) = _flow("realnvp")
    distribution = flow.distribution()
    assert len(distribution.trainable_variables) == len(flow.trainable_variables)
    before = flow.log_prob(x).numpy()
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(distribution.log_prob(x))
    grads = tape.gradient(loss, distribution.trainable_variables)
    assert all(g is not None for g in grads)
    for v, g in zip(distribution.trainable_variables, grads):
        v.assign_sub(0.05 * g)  # a plain gradient step, as a TFP user would take on distribution variables
    assert flow.log_prob(x).numpy().mean() > before.mean()  # the flow's own weights moved


def test_summary_counts_every_parameter_and_numpy_sizes_are_accepted():
    flow = pf.make_flow("maf", np.int64(3), num_layers=np.int32(2), hidden_units=(8,))
    lines = []
    flow.summary(print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)
    assert "unbuilt" not in text and f"Total params: {flow.count_params():,}" in text


@pytest.mark.slow
def test_flow_classifier_passes_check_estimator_in_full():
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(pf.FlowClassifier("diagonal", epochs=2), on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert len(results) > 40 and not failed, failed
