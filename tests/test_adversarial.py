"""Physics-aware adversarial flows: critic layers, the trainer (spectra only), resume, strategies, export."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_physflow import (AdversarialModel, Critic, Flow, WassersteinObjective, export_physics_flow,
                          fit_adversarial, make_flow, make_physics_flow, metrics)
from tfp_physflow.data import simulate_impedance
from tfp_physflow.models import adversarial
from tfp_physflow.physics import start_from_fits
from tfp_physflow.models.critic import MinibatchDiscrimination, SpectralDense, pack

SCRIPT = str(Path(__file__).parent / "scripts" / "train_run.py")
SCALE = [20.0, 400.0, 3e-6]


@pytest.fixture(scope="module")
def data():
    return simulate_impedance(1024, seed=0), simulate_impedance(2000, seed=1)


def small_model(train, kind="linear", seed=0, **kwargs):
    generator = make_physics_flow(kind, train.spectra, train.frequencies, scale=SCALE, **kwargs)
    return AdversarialModel(generator, Critic(generator.layer.num_features, hidden_units=(32, 32), seed=seed))


# -- critic layers ------------------------------------------------------------------------------------

def test_spectral_dense_divides_by_the_largest_singular_value():
    layer = SpectralDense(7, seed=3)
    x = tf.random.stateless_normal([5, 11], seed=[1, 2])
    for _ in range(30):  # power iterations converge across training calls
        layer(x, training=True)
    sigma = np.linalg.svd(layer.kernel.numpy(), compute_uv=False)[0]
    expected = x.numpy() @ layer.kernel.numpy() / sigma
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    u = layer.u.numpy().copy()
    layer(x)  # inference leaves the estimate alone
    np.testing.assert_array_equal(layer.u.numpy(), u)


def test_spectral_dense_differentiates_through_the_normalisation():
    layer = SpectralDense(4, seed=0)
    x = tf.random.stateless_normal([8, 6], seed=[0, 1])
    layer(x, training=True)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x))
    grad = tape.gradient(y, layer.kernel)
    # Scaling the kernel leaves W / sigma(W) unchanged: the gradient is orthogonal to W.
    assert abs(float(tf.reduce_sum(grad * layer.kernel))) < 1e-4 * float(tf.norm(grad) * tf.norm(layer.kernel))


def test_minibatch_discrimination_sees_identical_rows():
    layer = MinibatchDiscrimination(num_kernels=5, kernel_dim=3)
    same = layer(tf.ones([6, 4])).numpy()
    assert same.shape == (6, 9)
    np.testing.assert_allclose(same[:, 4:], 5.0, rtol=1e-6)  # each row is at distance 0 from 5 others
    spread = layer(tf.constant(np.arange(24, dtype="float32").reshape(6, 4) * 10)).numpy()
    assert np.all(spread[:, 4:] < 0.01)


def test_pack_groups_rows_and_drops_the_remainder():
    x = tf.reshape(tf.range(14.0), [7, 2])
    packed = pack(x, 3).numpy()
    np.testing.assert_array_equal(packed, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    critic = Critic(2, hidden_units=(8,), pack=3)
    assert critic.score(x).shape == (2,)


# -- the scale option of make_flow --------------------------------------------------------------------

def test_flow_scale_starts_at_the_given_magnitudes_and_round_trips():
    flow = make_flow("realnvp", 3, positive="exp", scale=SCALE, num_layers=2, hidden_units=(8,))
    median = np.median(flow.sample(4000, seed=0).numpy(), axis=0)
    np.testing.assert_allclose(median, SCALE, rtol=0.1)
    again = Flow.from_config(flow.get_config())
    x = flow.sample(5, seed=1)
    np.testing.assert_allclose(again.log_prob(x), flow.log_prob(x), rtol=1e-5)
    plain = make_flow("diagonal", 2, scale=[5.0, 0.1])
    np.testing.assert_allclose(np.std(plain.sample(4000, seed=0).numpy(), axis=0), [5.0, 0.1], rtol=0.1)


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": [1.0, -2.0, 1.0], "positive": "exp"}, "positive finite"),
    ({"scale": [1.0, 2.0], "positive": "exp"}, "3 positive"),
    ({"scale": [1.0, 2.0, 3.0], "positive": "softplus"}, "softplus"),
    ({"scale": [1.0, 2.0, 3.0], "positive": "exp", "spread": [0.5, 0.0, 1.0]}, "spread must hold 3 positive"),
    ({"positive": "exp", "spread": [0.5, 0.5, 1.0]}, "spread works with positive='exp' and a scale"),
])
def test_bad_flow_scale_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_flow("diagonal", 3, **kwargs)


# -- the trainer ----------------------------------------------------------------------------------------

def test_the_trainer_sees_spectra_only(data, monkeypatch):
    train, _ = data
    seen = {}

    def spy(model, loss, data, **kwargs):
        seen["data"], seen["kwargs"] = data, kwargs
        raise StopIteration

    monkeypatch.setattr(adversarial, "fit", spy)
    model = small_model(train)
    with pytest.raises(StopIteration):
        fit_adversarial(model, train.spectra, validation_spectra=train.spectra[:100])
    (features,) = seen["data"]
    np.testing.assert_array_equal(features, model.generator.features(train.spectra).numpy())
    (val_features,) = seen["kwargs"]["validation_data"]
    assert val_features.shape == (100, model.generator.layer.num_features)
    # No ground-truth value reaches the loop (the features are normalised log-magnitudes and phases).
    for col in train.parameters.T:
        assert not np.isin(np.float32(col), features).any()
    with pytest.raises(ValueError, match="complex spectra"):
        fit_adversarial(model, train)  # the data object with its labels is refused
    with pytest.raises(ValueError, match="complex spectra"):
        fit_adversarial(model, train.parameters)


@pytest.mark.slow  # 30 adversarial epochs (25-35 s); every element kind trains from the first step by default
def test_adversarial_training_recovers_the_parameter_ranges(data):
    train, val = data
    model = small_model(train, "diagonal")
    before = metrics.ks_score(model.generator.sample_parameters(2000, seed=5).numpy(), val.parameters)
    history = fit_adversarial(model, train.spectra, validation_spectra=val.spectra[:512], epochs=30, batch_size=128,
                              learning_rate=3e-3, objective=WassersteinObjective(critic_learning_rate=1e-3),
                              verbose=False)
    after = metrics.ks_score(model.generator.sample_parameters(2000, seed=5).numpy(), val.parameters)
    assert {"critic_loss", "generator_loss", "val_loss"} <= set(history.rows[-1])
    assert after > 0.8 and after > before + 0.1, (before, after)
    assert history.rows[-1]["critic_loss"] == history["loss"][-1]


def test_critic_steps_per_generator_step_and_a_fresh_critic_optimizer_per_run(data):
    train, _ = data
    model = small_model(train)
    critic_optimizers = []

    def critic_optimizer():
        critic_optimizers.append(keras.optimizers.Adam(1e-3))
        return critic_optimizers[-1]

    objective = WassersteinObjective(critic_steps=3, critic_optimizer=critic_optimizer)
    generator_optimizer = keras.optimizers.Adam(1e-3)
    fit_adversarial(model, train.spectra[:512], objective=objective, optimizer=generator_optimizer, epochs=1,
                    batch_size=128, verbose=False, jit_compile=False)  # counts steps; XLA would only compile
    assert int(critic_optimizers[0].iterations) == 3 * 4
    assert int(generator_optimizer.iterations) == 4
    # The objective kept nothing: its next run starts with a new critic optimizer at step 0.
    second = objective.phases(small_model(train), None)[0].optimizer
    assert second is critic_optimizers[1] and int(second.iterations) == 0
    assert not hasattr(objective, "generator_optimizer")
    default = WassersteinObjective()
    assert default.phases(model, None)[0].optimizer is not default.phases(model, None)[0].optimizer


@pytest.mark.slow  # a killed-and-resumed run, as test_loop's and test_cli_interrupts' (two trainings, ~20 s)
def test_an_adversarial_run_resumes_exactly_from_its_checkpoint(data, tmp_path):
    train, _ = data
    ckpt = tmp_path / "ckpt"

    def run(epochs):
        tf.keras.utils.set_random_seed(0)
        model = small_model(train, "realnvp", num_layers=2, hidden_units=(8,))
        history = fit_adversarial(model, train.spectra[:512], validation_split=0.25, epochs=epochs, batch_size=128,
                                  checkpoint_dir=ckpt, verbose=False, restore_best=False,
                                  jit_compile=False)  # resuming does not depend on XLA; its compile costs 2 x 5 s
        return history, model

    whole, model = run(3)
    # As if killed after epoch 3's history.json but before its checkpoint:
    # back to epoch 2's checkpoint (the manager keeps the last two).
    for stale in ckpt.glob("ckpt-3.*"):
        stale.unlink()
    tf.compat.v1.train.update_checkpoint_state(str(ckpt), str(ckpt / "ckpt-2"))
    resumed, again = run(3)
    assert len(resumed["val_loss"]) == 3  # epochs 1-2 from the checkpoint's history, 3 trained again
    np.testing.assert_allclose(resumed["val_loss"], whole["val_loss"], rtol=1e-4)
    np.testing.assert_allclose(resumed["critic_loss"], whole["critic_loss"], rtol=1e-4)
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.slow  # a heavy end-to-end run in subprocesses (pytest -m slow)
def test_adversarial_training_under_a_mirrored_strategy(tmp_path):
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, SCRIPT, "adversarial", str(out)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())["adversarial"]["rows"]
    assert len(rows) == 2 and all(np.isfinite([r["critic_loss"], r["generator_loss"], r["val_loss"]]).all()
                                  for r in rows)


def test_penalties_push_parameters_positive_and_apart():
    objective = WassersteinObjective(positivity_weight=1.0, spread_weight=1.0, min_spread=0.05)
    positive_spread = tf.constant([[1.0, 2.0], [2.0, 4.0], [4.0, 1.0]])
    assert float(objective.penalty(positive_spread)) == 0.0
    negative = tf.constant([[-1.0, 2.0], [2.0, 4.0], [4.0, 1.0]])
    collapsed = tf.constant([[1.0, 2.0], [1.0, 4.0], [1.0, 1.0]])
    assert float(objective.penalty(negative)) > 0.0 and float(objective.penalty(collapsed)) == pytest.approx(0.05)
    with tf.GradientTape() as tape:
        tape.watch(collapsed)
        value = objective.penalty(collapsed + tf.constant([[0.0, 0], [1e-3, 0], [-1e-3, 0]]))
    assert np.all(np.isfinite(tape.gradient(value, collapsed).numpy()))


@pytest.mark.parametrize("call, message", [
    (lambda m, d: fit_adversarial(m.generator, d.spectra), "AdversarialModel"),
    (lambda m, d: fit_adversarial(m, d.spectra[:, :10]), r"shape \(N, 48\)"),
    (lambda m, d: make_physics_flow("linear", np.abs(d.spectra), d.frequencies), "complex"),
    (lambda m, d: make_physics_flow("linear", d.spectra, d.frequencies[:5]), "frequencies"),
    (lambda m, d: make_physics_flow("linear", d.spectra, d.frequencies, scale="big"), "scale"),
    (lambda m, d: AdversarialModel(m.generator, Critic(10)), "features"),
    (lambda m, d: WassersteinObjective(critic_steps=0), "critic_steps"),
    (lambda m, d: WassersteinObjective(critic_optimizer=keras.optimizers.Adam()), "function returning"),
])
def test_bad_input_is_refused_with_a_message(data, call, message):
    train, _ = data
    with pytest.raises(ValueError, match=message):
        call(small_model(train), train)


def test_auto_scale_comes_from_the_spectra(data):
    train, _ = data
    generator = make_physics_flow("diagonal", train.spectra, train.frequencies)
    scale = np.array(generator.flow.get_config()["scale"])
    np.testing.assert_allclose(scale, np.median(train.parameters, axis=0), rtol=0.25)
    # It starts about as wide as the fits (uniform boxes: log-std 0.5-0.9), not e-fold per standard deviation.
    log_std = np.std(np.log(generator.sample_parameters(4000, seed=0).numpy()), axis=0)
    ratio = log_std / np.std(np.log(train.parameters), axis=0)  # 1.5-2.5 without the spread
    assert np.all((1 / 1.5 < ratio) & (ratio < 1.5)), ratio


def test_the_start_spread_is_the_robust_spread_of_log_and_logit_fits():
    rng = np.random.default_rng(0)
    fits = np.column_stack([np.exp(rng.normal(2.0, 0.3, 4000)), 1 / (1 + np.exp(-rng.normal(1.5, 0.2, 4000)))])
    fits[:40, 0] = 1e-12  # a few fits in a distant local minimum barely move it
    start = start_from_fits(fits, "CPE1")
    np.testing.assert_allclose(start["spread"], [0.3, 0.2], rtol=0.1)
    np.testing.assert_allclose(start["scale"], [np.exp(2.0), 1 / (1 + np.exp(-1.5))], rtol=0.05)
    assert start_from_fits(np.tile([5.0, 0.5], (100, 1)), "CPE1")["spread"] == [0.05, 0.05]  # no spread: floor


def test_a_pretrained_flow_starts_as_the_flow_of_the_given_fits(data):
    train, _ = data
    rng = np.random.default_rng(1)
    fits = np.exp(np.log(SCALE) + [0.1, 0.4, 0.8] * rng.standard_normal((1000, 3)))
    fits[:, 0] = np.where(rng.random(1000) < 0.5, 5.0, 50.0) * np.exp(0.05 * rng.standard_normal(1000))  # two modes
    generator = make_physics_flow("realnvp", train.spectra, train.frequencies, fits=fits, pretrain=True,
                                  num_layers=4)
    logs = np.log(generator.sample_parameters(4000, seed=0).numpy())
    np.testing.assert_allclose(logs[:, 1:].mean(0), np.log(SCALE[1:]), atol=0.1)
    near = [np.mean(np.abs(logs[:, 0] - np.log(r)) < 0.5) for r in (5.0, np.sqrt(5.0 * 50.0), 50.0)]
    assert near[0] > 0.35 and near[1] < 0.1 and near[2] > 0.35, near  # both modes, little between them
    plain = make_physics_flow("realnvp", train.spectra, train.frequencies, fits=fits, num_layers=4)
    rs = np.log(plain.sample_parameters(4000, seed=0).numpy()[:, 0])
    assert min(np.mean(np.abs(rs - np.log(r)) < 0.5) for r in (5.0, 50.0)) < 0.1  # a log-normal start: one mode
    with pytest.raises(ValueError, match=r"fits must be \(M >= 2, 3\)"):
        make_physics_flow("linear", train.spectra, train.frequencies, fits=fits[:, :2])
    with pytest.raises(ValueError, match="supports"):
        make_physics_flow("linear", train.spectra, train.frequencies, fits=-fits)


def test_the_noise_level_of_spectra_is_estimated_from_their_fits():
    from tfp_physflow.physics import estimate_noise

    for level in (0.01, 0.05, 0.2):
        data = simulate_impedance(500, noise=level, seed=3)
        estimate = estimate_noise(data.spectra, data.parameters, "Rs-p(Re,Ce)", data.frequencies)
        assert abs(estimate / level - 1) < 0.05, (level, estimate)


def test_generated_spectra_carry_the_noise_level_the_critic_compares_with(data):
    train, _ = data
    seed = tf.constant([3, 4], tf.int64)

    def feature_spread(noise):  # the flow is a point mass: all spread comes from the noise
        generator = make_physics_flow("diagonal", train.spectra, train.frequencies, scale=SCALE, spread=[1e-6] * 3,
                                      noise=noise)
        return generator.sample_features(2000, seed=seed)[1].numpy().std(0)

    clean, small, large = feature_spread(0.0), feature_spread(0.01), feature_spread(0.05)
    assert clean.max() < 1e-3 and small.min() > 1e-3
    np.testing.assert_allclose(np.median(large / small), 5.0, rtol=0.1)  # the spread scales with the level
    with pytest.raises(ValueError, match="noise must be"):
        make_physics_flow("diagonal", train.spectra, train.frequencies, scale=SCALE, noise=-0.1)
    with pytest.raises(ValueError, match="every spectrum"):
        make_physics_flow("diagonal", train.spectra, train.frequencies, fits=train.parameters[:10], noise="auto")
    auto = make_physics_flow("diagonal", train.spectra, train.frequencies, fits=train.parameters, noise="auto")
    assert abs(auto.noise / 0.01 - 1) < 0.05  # simulate_impedance's default: 1 %


# -- export --------------------------------------------------------------------------------------------

LOADER = """
import json, sys
import numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
p = m.signatures["sample_parameters"](n=tf.constant(500))
s = m.signatures["sample_spectra"](n=tf.constant(7))
json.dump({"params": p["parameters"].numpy().tolist(), "log_prob": p["log_prob"].numpy().tolist(),
           "sp": s["parameters"].numpy().tolist(), "real": s["real"].numpy().tolist(),
           "imag": s["imag"].numpy().tolist(), "frequencies": m.frequencies.numpy().tolist(),
           "description": json.loads(m.description.numpy().decode()),
           "imported": "tfp_physflow" in sys.modules}, open(sys.argv[2], "w"))
"""


def test_the_generator_exports_and_runs_without_tfp_physflow(data, tmp_path):
    train, _ = data
    model = small_model(train, "realnvp", num_layers=2, hidden_units=(8,))
    path = export_physics_flow(model.generator, tmp_path / "generator")
    out = tmp_path / "out.json"
    result = subprocess.run([sys.executable, "-c", LOADER, path, str(out)], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(out.read_text())
    assert not got["imported"]
    params = np.array(got["params"])
    assert params.shape == (500, 3) and np.all(params > 0)
    np.testing.assert_allclose(np.median(params, 0), SCALE, rtol=0.2)
    np.testing.assert_allclose(got["log_prob"], model.generator.flow.log_prob(params.astype("float32")), rtol=1e-3,
                               atol=1e-3)
    rs, re, ce = np.array(got["sp"]).T
    omega = 2 * np.pi * np.array(got["frequencies"])
    z = rs[:, None] + re[:, None] / (1 + 1j * omega * ce[:, None] * re[:, None])
    np.testing.assert_allclose(np.array(got["real"]) + 1j * np.array(got["imag"]), z, rtol=1e-4)
    assert got["description"]["parameter_names"] == ["Rs", "Re", "Ce"]
    assert got["description"]["circuit"] == "Rs-p(Re,Ce)"


def test_a_non_finite_critic_step_is_rejected_and_stops_the_run(data):
    train, _ = data
    model = small_model(train)
    before = [v.numpy().copy() for v in model.trainable_variables]
    with pytest.warns(RuntimeWarning, match="non-finite"):
        history = fit_adversarial(model, train.spectra[:256], objective=WassersteinObjective(gradient_penalty=np.nan),
                                  epochs=2, batch_size=128, verbose=False)
    assert "non-finite" in history.stop_reason
    for a, b in zip(before, model.trainable_variables):
        np.testing.assert_array_equal(a, b.numpy())  # no phase applied an update from the bad step


def test_an_exported_two_arc_generator_returns_its_arcs_fastest_first(tmp_path):
    circuit = "R0-p(R1,C1)-p(R2,C2)"
    spectra = simulate_impedance(64, circuit, seed=0).spectra
    # Equal typical arcs and a wide start: about half of the flow's own draws come out of order.
    generator = make_physics_flow("diagonal", spectra, np.geomspace(1, 1e4, 48), circuit,
                                  scale=[10.0, 100.0, 1e-6, 100.0, 1e-6])
    loaded = tf.saved_model.load(export_physics_flow(generator, tmp_path / "generator"))
    out = loaded.signatures["sample_parameters"](n=tf.constant(400))
    params = out["parameters"].numpy()
    tau = params[:, [1, 3]] * params[:, [2, 4]]
    assert np.all(tau[:, 0] <= tau[:, 1])
    raw = generator.flow.sample(400, seed=0).numpy()
    assert 0.2 < np.mean(raw[:, 1] * raw[:, 2] > raw[:, 3] * raw[:, 4]) < 0.8  # the flow alone: unordered
    np.testing.assert_allclose(out["log_prob"].numpy(), generator.flow.log_prob(params).numpy(), rtol=1e-4, atol=1e-4)
    spectra_out = loaded.signatures["sample_spectra"](n=tf.constant(50))
    p = spectra_out["parameters"].numpy()
    assert np.all(p[:, 1] * p[:, 2] <= p[:, 3] * p[:, 4])
