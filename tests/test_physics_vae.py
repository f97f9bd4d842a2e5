"""Pendulum physics, the locomotion loader and the physics-integrated VAE with planar flows."""

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from scipy.integrate import solve_ivp

from tfp_physflow.data import load_locomotion
from tfp_physflow.physics.pendulum import PENDULUM_RANGES, forced_damped_pendulum, pendulum_rk4
from tfp_physflow.models import PhysicsVAE, fit_physics_vae

LOCOMOTION = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomotion"


def test_rk4_solves_the_harmonic_oscillator_and_the_small_angle_pendulum():
    theta0 = tf.constant([[0.3, -0.1]], tf.float64)
    omega = tf.constant([[2.0, 3.0]], tf.float64)
    t = 0.05 * np.arange(50)
    exact = theta0.numpy()[..., None] * np.cos(omega.numpy()[..., None] * t)
    harmonic = pendulum_rk4(theta0, tf.zeros_like(theta0), omega, 50, 0.05, "harmonic")
    np.testing.assert_allclose(harmonic.numpy(), exact, atol=1e-6)
    small = pendulum_rk4(theta0 * 1e-3, tf.zeros_like(theta0), omega, 50, 0.05, "pendulum")
    np.testing.assert_allclose(small.numpy(), exact * 1e-3, atol=1e-9)


def test_rk4_is_differentiable_in_the_frequency():
    omega = tf.Variable([[2.0]])
    with tf.GradientTape() as tape:
        path = pendulum_rk4(tf.constant([[1.0]]), tf.constant([[0.0]]), omega, 50, 0.05)
        loss = tf.reduce_sum(path)
    grad = tape.gradient(loss, omega)
    eps = 1e-3
    numeric = (tf.reduce_sum(pendulum_rk4(tf.constant([[1.0]]), tf.constant([[0.0]]), omega + eps, 50, 0.05))
               - tf.reduce_sum(pendulum_rk4(tf.constant([[1.0]]), tf.constant([[0.0]]), omega - eps, 50, 0.05))) / (2 * eps)
    np.testing.assert_allclose(grad.numpy()[0, 0], numeric.numpy(), rtol=1e-2)


def test_forced_damped_pendulum_follows_the_recipe():
    x, p = forced_damped_pendulum(4, noise=0.0, seed=1234)
    assert x.shape == (4, 1, 50)
    for k, (lo, hi) in PENDULUM_RANGES.items():
        assert np.all((p[k] >= lo) & (p[k] <= hi))
    i = 0
    w2, a, f, g = p["omega"][i] ** 2, p["A"][i], p["f"][i], p["gamma"][i]
    sol = solve_ivp(lambda t, y: [y[1], a * w2 * np.cos(2 * np.pi * f * t) - g * y[1] - w2 * np.sin(y[0])],
                    (0, 2.45), [p["theta0"][i], 0.0], t_eval=0.05 * np.arange(50), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(x[i, 0], sol.y[0], atol=1e-5)
    noisy, _ = forced_damped_pendulum(4, seed=1234)
    assert 0.005 < np.std(noisy - x) < 0.02
    np.testing.assert_array_equal(noisy, forced_damped_pendulum(4, seed=1234)[0])


@pytest.mark.shared_data("locomotion")
def test_locomotion_loader_reads_the_processed_walking_data():
    sizes = {s: load_locomotion(LOCOMOTION, s).shape for s in ("train", "valid", "test")}
    assert sizes == {"train": (400, 3, 101), "valid": (100, 3, 101), "test": (344, 3, 101)}


def test_locomotion_loader_names_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="data_train.mat not found"):
        load_locomotion(tmp_path, "train")
    with pytest.raises(ValueError, match="split"):
        load_locomotion(tmp_path, "dev")


@pytest.fixture(scope="module")
def pendulum():
    return forced_damped_pendulum(300, seed=1234), forced_damped_pendulum(100, seed=1236)


def test_untrained_physics_decoder_is_the_solver(pendulum):
    (x, _), _ = pendulum
    model = PhysicsVAE(1, 50, 0.05, physics="pendulum", flows=2)
    mean, _, initial = model.encode(tf.constant(x[:5], tf.float32))
    z, _ = model.flow(mean)
    expected = pendulum_rk4(initial[:, :1], tf.zeros_like(initial[:, :1]), model.omega(z), 50, 0.05)
    np.testing.assert_allclose(model.decode(z, initial).numpy(), expected.numpy(), atol=1e-6)  # zero correction


def test_planar_log_dets_enter_the_elbo(pendulum):
    (x, _), _ = pendulum
    model = PhysicsVAE(1, 50, 0.05, physics="pendulum", flows=2, aux_dim=3)
    z0 = tf.random.stateless_normal([7, 4], [0, 1])
    for i, layer in enumerate(model.flows_p + model.flows_a):
        layer.u.assign((0.8 - 0.3 * i) * tf.ones_like(layer.u))  # each layer its own map
        layer.w.assign(tf.ones_like(layer.w))
    z, log_det = model.flow(z0)
    manual = 0.0
    for group, layers in ((z0[:, :1], model.flows_p), (z0[:, 1:], model.flows_a)):
        for layer in layers:
            jac = []
            with tf.GradientTape() as tape:
                tape.watch(group)
                out = layer.bijector().forward_and_log_det(group)[0]
            jac = tape.batch_jacobian(out, group)
            manual += tf.math.log(tf.abs(tf.linalg.det(jac)))
            group = out
    np.testing.assert_allclose(log_det.numpy(), manual.numpy(), rtol=1e-4, atol=1e-5)
    assert np.all(np.abs(log_det.numpy()) > 1e-3)


# The physics-integrated one is slow (RK4 in the decoder, 15-25 s); its gradient and log-dets are tested by default.
@pytest.mark.parametrize("flags", [dict(physics=None), pytest.param(dict(physics="pendulum", flows=2, attention=True),
                                                                   marks=pytest.mark.slow)])
def test_training_improves_the_reconstruction(pendulum, flags):
    (x, _), (test, params) = pendulum
    tf.keras.utils.set_random_seed(0)
    model = PhysicsVAE(1, 50, 0.05, hidden_units=(64, 64), **flags)
    before = np.mean(np.abs(model.reconstruct(test)[0].numpy() - test))
    history = fit_physics_vae(model, x, epochs=15, batch_size=50, verbose=False)
    after, omega = model.reconstruct(test)
    assert history["loss"][-1] < history["loss"][0]
    assert np.mean(np.abs(after.numpy() - test)) < 0.7 * before
    assert (omega is None) == (flags["physics"] is None)
    noisy = np.mean(np.abs(model.reconstruct(test, feature_dropout=0.25)[0].numpy() - test))
    assert noisy > np.mean(np.abs(after.numpy() - test))  # the encoder sees a quarter of its input zeroed


def test_bad_configuration_and_input_are_refused():
    with pytest.raises(ValueError, match="physics"):
        PhysicsVAE(1, 50, 0.05, physics="spring")
    model = PhysicsVAE(1, 50, 0.05, physics=None, hidden_units=(8,))
    with pytest.raises(ValueError, match=r"shape \(N, 1, 50\)"):
        fit_physics_vae(model, np.zeros((10, 50)))
