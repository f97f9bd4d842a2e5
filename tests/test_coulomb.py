"""Coulomb explosion simulator, the CVAE, and inverse-problem export and metrics."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfp_physflow import CVAE, export_conditional_sampler, fit_cvae, fit_flow, make_flow, metrics
from tfp_physflow.data import simulate_coulomb
from tfp_physflow.physics.coulomb import (ANGSTROM, DALTON, MASSES, OCS_BONDS, coulomb_explosion, ocs_geometries,
                                          random_rotations)


@pytest.fixture(scope="module")
def ocs():
    return simulate_coulomb(1500, seed=0)


# -- simulator -------------------------------------------------------------------------------------------

def test_total_momentum_stays_zero_and_energy_is_converted(ocs):
    p = ocs.momenta.reshape(-1, 3, 3)
    scale = np.abs(p).max()
    assert np.abs(p.sum(1)).max() < 1e-9 * scale
    geometries = ocs.positions.reshape(-1, 3, 3)[:50]
    tight = coulomb_explosion(geometries, energy_tolerance=1e-6, eta=0.002)
    masses = np.array([MASSES[s] for s in "OCS"]) * DALTON
    kinetic = 0.5 * np.sum(tight ** 2 / masses[None, :, None], axis=(1, 2))
    r = geometries * ANGSTROM
    potential = sum(1.0 / np.linalg.norm(r[:, i] - r[:, j], axis=-1) for i, j in ((0, 1), (0, 2), (1, 2)))
    np.testing.assert_allclose(kinetic, potential, rtol=2e-6)  # energy conserved: all of it ends kinetic


def test_a_diatomic_matches_the_closed_form_asymptotic_momentum():
    distance = 2.0  # angstrom
    positions = np.array([[[0.0, 0.0, 0.0], [0.0, 0.0, distance]]])
    p = coulomb_explosion(positions, charges=(2.0, 1.0), masses=("C", "O"), energy_tolerance=1e-6)
    m1, m2 = MASSES["C"] * DALTON, MASSES["O"] * DALTON
    mu = m1 * m2 / (m1 + m2)
    expected = np.sqrt(2.0 * mu * 2.0 / (distance * ANGSTROM))  # (1/2) p^2 / mu = q1 q2 / r0
    np.testing.assert_allclose(np.linalg.norm(p[0], axis=-1), expected, rtol=1e-5)
    np.testing.assert_allclose(p[0, 1, :2], 0.0, atol=1e-9)  # along the bond, O away from C
    assert p[0, 1, 2] > 0


def test_geometries_are_ocs_at_rest_in_random_orientations():
    r = ocs_geometries(4000, vibration=0.0, seed=1)
    np.testing.assert_allclose(np.linalg.norm(r[:, 0] - r[:, 1], axis=-1), OCS_BONDS["CO"], rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(r[:, 2] - r[:, 1], axis=-1), OCS_BONDS["CS"], rtol=1e-12)
    axis = (r[:, 2] - r[:, 0]) / np.linalg.norm(r[:, 2] - r[:, 0], axis=-1, keepdims=True)
    np.testing.assert_allclose(axis.mean(0), 0.0, atol=0.05)  # isotropic
    np.testing.assert_allclose((axis ** 2).mean(0), 1 / 3, atol=0.03)
    rot = random_rotations(10, np.random.default_rng(0))
    np.testing.assert_allclose(rot @ rot.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (10, 3, 3)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0)
    shaken = ocs_geometries(4000, vibration=0.05, seed=1)
    assert 0.02 < np.std(np.linalg.norm(shaken[:, 0] - shaken[:, 1], axis=-1)) < 0.1


@pytest.mark.parametrize("call, message", [
    (lambda: coulomb_explosion(np.zeros((2, 3))), "3A"),
    (lambda: coulomb_explosion(np.zeros((2, 1, 3))), "A >= 2"),
    (lambda: coulomb_explosion(np.full((1, 2, 3), np.nan), (1, 1), ("C", "O")), "NaN"),
    (lambda: coulomb_explosion(np.zeros((1, 2, 3)), (1, 1), ("C", "O")), "coincide"),
    (lambda: coulomb_explosion(np.eye(3)[None], (1, 1), ("C", "O", "S")), "3 charges"),
    (lambda: coulomb_explosion(np.array([[[0, 0, 0], [0, 0, 1.0]]]), (1, -1), ("C", "O")), "repel"),
    (lambda: coulomb_explosion(np.array([[[0, 0, 0], [0, 0, 1.0]]]), (1, 1), ("C", "O"), max_steps=3), "max_steps"),
    (lambda: ocs_geometries(0), "positive int"),
])
def test_bad_simulator_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_split_is_seventy_fifteen_fifteen_and_disjoint(ocs):
    train, val, test = ocs.split(seed=3)
    assert (len(train.positions), len(val.positions), len(test.positions)) == (1050, 225, 225)
    rows = {tuple(r) for part in (train, val, test) for r in part.positions.round(9)}
    assert len(rows) == 1500


# -- CVAE ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(ocs):
    train, val, test = ocs.split(seed=0)
    mean, std = train.momenta.mean(0), train.momenta.std(0)
    cond = [((d.momenta - mean) / std).astype("float32") for d in (train, val, test)]
    tf.keras.utils.set_random_seed(0)
    cvae = CVAE(9, 9, hidden_units=(64, 64))
    history = fit_cvae(cvae, train.positions.astype("float32"), cond[0],
                       validation_data=(val.positions.astype("float32"), cond[1]), learning_rate=3e-3,
                       batch_size=128, epochs=25, verbose=False)
    return cvae, history, (train, val, test), cond, (mean, std)


def test_cvae_learns_positions_from_momenta(trained):
    cvae, history, (train, _, test), cond, _ = trained
    assert history["val_loss"][-1] < 0.5 * history["val_loss"][0]
    mean_prediction = cvae.sample(50, cond[2], seed=1).numpy().mean(0)
    baseline = metrics.mse(test.positions, np.broadcast_to(train.positions.mean(0), test.positions.shape))
    assert metrics.mse(test.positions, mean_prediction) < 0.2 * baseline


def test_cvae_test_positions_never_reach_the_model(trained, monkeypatch):
    cvae, _, _, cond, _ = trained

    def leak(*args, **kwargs):
        raise AssertionError("the encoder was called while sampling")

    monkeypatch.setattr(cvae, "encode", leak)
    monkeypatch.setattr(cvae.encoder, "call", leak)
    samples = cvae.sample(5, cond[2], seed=2)  # sample() takes momenta only; the encoder stays unused
    assert samples.shape == (5, len(cond[2]), 9)
    np.testing.assert_array_equal(samples, cvae.sample(5, cond[2], seed=2))


def test_latent_prior_is_the_aggregate_of_the_training_latents(trained):
    cvae, _, (train, _, _), _, _ = trained
    mu, log_var = (t.numpy() for t in cvae.encode(tf.constant(train.positions.astype("float32"))))
    np.testing.assert_allclose(cvae.latent_mean.numpy(), mu.mean(0), rtol=1e-4, atol=1e-5)
    expected_var = (np.exp(log_var) + mu ** 2).mean(0) - mu.mean(0) ** 2
    np.testing.assert_allclose(cvae.latent_std.numpy() ** 2, expected_var, rtol=1e-3, atol=1e-6)


def test_cvae_input_is_checked():
    cvae = CVAE(3, 2, hidden_units=(8,))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        fit_cvae(cvae, np.zeros((10, 3)), np.zeros((10, 5)))
    with pytest.raises(ValueError, match="CVAE"):
        fit_cvae(make_flow("diagonal", 3), np.zeros((10, 3)), np.zeros((10, 2)))


# -- metrics and export ------------------------------------------------------------------------------------

def test_inverse_problem_metrics():
    truth = np.array([[1.0, -2.0], [4.0, 0.5]])
    assert metrics.mse(truth, truth + 0.1) == pytest.approx(0.01)
    assert metrics.mean_relative_error(truth, truth * 1.1) == pytest.approx(0.1)
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(2000, 3))
    calibrated = truth[None] + rng.normal(size=(200, 2000, 3))  # truth ~ N(sample centre, 1)
    coverage = metrics.interval_coverage(calibrated - (calibrated.mean(0) - truth - rng.normal(size=(2000, 3))),
                                         truth)
    assert coverage[0.68] == pytest.approx(0.68, abs=0.03) and coverage[0.95] == pytest.approx(0.95, abs=0.02)
    overconfident = metrics.interval_coverage(0.2 * (calibrated - truth) + truth + rng.normal(size=(2000, 3)), truth)
    assert overconfident[0.95] < 0.5
    mixed = calibrated.copy()
    mixed[..., 2] = 0.2 * (calibrated[..., 2] - truth[:, 2]) + truth[:, 2] + 1.0  # narrow and off the truth
    per_dimension = metrics.interval_coverage(mixed, truth, per_dimension=True)[0.95]
    assert per_dimension.shape == (3,) and np.all(per_dimension[:2] > 0.9) and per_dimension[2] < 0.5
    with pytest.raises(ValueError, match="undefined"):
        metrics.mean_relative_error(np.zeros(3), np.ones(3))


LOADER = """
import json, sys
import numpy as np, tensorflow as tf
out = {}
for path in sys.argv[2:]:
    m = tf.saved_model.load(path)
    momenta = tf.constant(np.load(sys.argv[1]).astype("float32"))
    out[path] = m.signatures["sample_positions"](momenta=momenta, n=tf.constant(200))["positions"].numpy().tolist()
out["imported"] = "tfp_physflow" in sys.modules
json.dump(out, open(sys.argv[1] + ".json", "w"))
"""


def test_cinn_and_cvae_export_sample_positions_without_tfp_physflow(trained, tmp_path):
    cvae, _, (train, _, test), cond, (mean, std) = trained
    cinn = make_flow("cinn", 9, 9, num_layers=3, hidden_units=(32,))
    fit_flow(cinn, train.positions.astype("float32"), cond[0], epochs=5, batch_size=128, verbose=False)
    paths = [export_conditional_sampler(m, tmp_path / name, mean, std) for name, m in (("cinn", cinn), ("cvae", cvae))]
    np.save(tmp_path / "p.npy", test.momenta[:4])
    result = subprocess.run([sys.executable, "-c", LOADER, str(tmp_path / "p.npy"), *paths], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads((tmp_path / "p.npy.json").read_text())
    assert not got["imported"]
    for path, model in zip(paths, (cinn, cvae)):
        positions = np.array(got[path])
        assert positions.shape == (200, 4, 9) == tuple(model.sample(200, cond[2][:4]).shape)
        # The signature standardises raw momenta exactly as training did.
        expected = model.sample(4000, cond[2][:4], seed=0).numpy().mean(0)
        np.testing.assert_allclose(positions.mean(0), expected, atol=0.15)
    with pytest.raises(ValueError, match="conditional"):
        export_conditional_sampler(make_flow("diagonal", 9), tmp_path / "x", mean, std)
