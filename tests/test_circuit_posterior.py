"""Amortized circuit posteriors: priors, scale equivariance, training, fit_circuit from the posterior, export."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import tfp_physflow as pf
from tfp_physflow.physics import BoxPrior, GeneratorPrior
from tfp_physflow.physics.priors import SCALE_POWERS, scale_powers

F = np.geomspace(0.5, 2e4, 24)
CIRCUIT = "R0-p(R1,C1)"


@pytest.fixture(scope="module")
def trained():
    posterior = pf.make_circuit_posterior(CIRCUIT, F, num_layers=4, hidden_units=(64, 64), embedding_units=(64,),
                                          embedding_dim=16, calibration_size=2048)
    history = pf.fit_circuit_posterior(posterior, epochs=6, steps_per_epoch=60, batch_size=256, validation_size=1024,
                                       learning_rate=3e-3, verbose=False)
    return posterior, history


def test_every_element_kind_scales_with_the_spectrum_as_scale_powers_say():
    # Z(theta_i s^k_i) = s Z(theta): the identity the posterior's scale equivariance rests on.
    circuit = pf.Circuit("L0-R0-p(R1,CPE1)-p(R2,C2)-W1-Wo1-Ws1")
    assert {p for _, p in circuit.parameter_kinds()} == set(SCALE_POWERS)
    theta = BoxPrior(circuit, F).sample(5, seed=1, dtype="float64").numpy()
    s = 37.5
    z = circuit.impedance(theta, F).numpy()
    z_scaled = circuit.impedance(theta * s ** scale_powers(circuit), F).numpy()
    np.testing.assert_allclose(z_scaled, s * z, rtol=1e-12)


def test_box_prior_is_log_uniform_in_its_ranges_and_takes_overrides():
    prior = BoxPrior("R0-p(R1,CPE1)", F, ranges={"R0": (1.0, 100.0)})
    x = prior.sample(20000, seed=0, dtype="float64").numpy()
    assert np.all((x >= prior.low) & (x <= prior.high))
    np.testing.assert_allclose(np.median(np.log10(x[:, 0])), 1.0, atol=0.03)  # log-uniform on 1..100
    alpha = x[:, 3]
    np.testing.assert_allclose(np.mean(alpha), np.mean(prior.ranges["CPE1.alpha"]), atol=0.01)  # uniform
    np.testing.assert_array_equal(prior.sample(3, seed=4), prior.sample(3, seed=4))
    with pytest.raises(ValueError, match="not parameters of"):
        BoxPrior("R0-p(R1,CPE1)", F, ranges={"R9": (1.0, 2.0)})
    fits = prior.sample(500, seed=1, dtype="float64").numpy()
    boxed = BoxPrior.from_fits(fits, "R0-p(R1,CPE1)", widen=2.0)
    assert boxed.ranges["R0"][0] < 1.0 and boxed.ranges["R0"][1] > 100.0 and boxed.ranges["CPE1.alpha"][1] <= 1.0


def test_prior_must_match_the_circuit_and_be_a_prior():
    with pytest.raises(ValueError, match="prior is over"):
        pf.make_circuit_posterior(CIRCUIT, F, prior=BoxPrior("R0-p(R1,CPE1)", F))
    with pytest.raises(ValueError, match="prior must be"):
        pf.make_circuit_posterior(CIRCUIT, F, prior=[1, 2, 3])


def test_a_physics_generator_becomes_the_prior():
    data = pf.data.simulate_impedance(64, "R0-p(R1,C1)-p(R2,C2)", F, seed=0)
    generator = pf.make_physics_flow("linear", data.spectra, F, "R0-p(R1,C1)-p(R2,C2)", scale=None)
    posterior = pf.make_circuit_posterior("R0-p(R1,C1)-p(R2,C2)", F, prior=generator, num_layers=2,
                                          calibration_size=512)
    assert isinstance(posterior.prior, GeneratorPrior)
    params, _ = posterior.simulate(300, seed=0)
    tau = params[:, [1, 3]] * params[:, [2, 4]]
    assert np.all(tau[:, 0] <= tau[:, 1])  # the simulator puts the arcs in order, fastest first


def test_posterior_density_and_samples_are_scale_equivariant():
    posterior = pf.make_circuit_posterior("R0-p(R1,CPE1)-Wo1", F, num_layers=2, dtype="float64",
                                          calibration_size=512, seed=3)
    tf.random.set_seed(0)
    for v in posterior.trainable_variables:  # a random, not an identity-like, posterior
        v.assign(v + 0.05 * tf.random.normal(v.shape, dtype=v.dtype))
    theta, z = posterior.simulate(6, seed=2)
    s, k = 1e3, scale_powers(posterior.circuit)
    lp = posterior.log_prob(theta, z).numpy()
    lp_scaled = posterior.log_prob(theta * s ** k, s * z).numpy()
    np.testing.assert_allclose(lp_scaled, lp - k.sum() * np.log(s), rtol=1e-9)  # density of theta s^k
    np.testing.assert_allclose(posterior.sample(s * z, 5, seed=1), posterior.sample(z, 5, seed=1) * s ** k,
                               rtol=1e-9)


def test_training_concentrates_the_posterior_on_the_truth(trained):
    posterior, history = trained
    assert history["val_loss"][-1] < history["val_loss"][0] - 1.0
    theta, z = posterior.simulate(400, seed=5)
    samples = posterior.sample(z, 200, seed=0).numpy()
    assert samples.shape == (400, 200, 3)
    error = np.median(np.abs(np.median(samples, 1) / theta - 1), 0)
    prior_error = np.median(np.abs(np.median(theta, 0) / theta - 1), 0)  # guessing the prior's median
    assert np.all(error < 0.3 * prior_error), (error, prior_error)
    inside = (np.quantile(samples, 0.05, 1) <= theta) & (theta <= np.quantile(samples, 0.95, 1))
    assert np.all(np.abs(inside.mean(0) - 0.9) < 0.15), inside.mean(0)  # roughly calibrated after a short run
    summary = posterior.summary(z[:7], quantiles=(0.05, 0.5, 0.95), n=300)
    assert summary.shape == (7, 3, 3) and np.all(np.diff(summary, axis=1) >= 0)


def test_sample_and_log_prob_reject_bad_spectra(trained):
    posterior, _ = trained
    _, z = posterior.simulate(2, seed=0)
    assert posterior.sample(z[0], 4).shape == (1, 4, 3)  # one spectrum (K,)
    for bad, match in ((np.abs(z), "complex"), (z[:, :5], r"shape \(N, 24\)"), (np.where(z == z[0, 0], np.nan, z),
                                                                                    "NaN"), (z * 0, "zero")):
        with pytest.raises(ValueError, match=match):
            posterior.sample(bad, 3)
    for n in (0, 2.5, "3", True):
        with pytest.raises(ValueError, match="positive int"):
            posterior.sample(z, n)
    with pytest.raises(ValueError, match="one row per spectrum"):
        posterior.log_prob(np.ones((3, 3)), z)
    with pytest.raises(ValueError, match="on their supports"):
        posterior.log_prob(-np.ones((2, 3)), z)
    with pytest.raises(ValueError, match="empty"):
        posterior.sample(z[:0], 3)


def test_fit_circuit_from_the_posterior_is_as_accurate_as_from_random_starts(trained):
    posterior, _ = trained
    data = pf.data.simulate_impedance(60, CIRCUIT, F, noise=0.0, seed=7, ranges=posterior.prior.ranges)
    default = pf.fit_circuit(data.spectra, CIRCUIT, F)
    initial = pf.fit_circuit(data.spectra, CIRCUIT, F, initial=posterior)
    assert np.median(initial.residuals) < 1e-8 and np.max(initial.residuals) <= max(10 * np.max(default.residuals),
                                                                                     1e-6)
    np.testing.assert_allclose(initial.parameters, data.parameters, rtol=1e-5)
    with pytest.raises(ValueError, match="not of"):
        pf.fit_circuit(data.spectra, "R0-p(R1,CPE1)", F, initial=posterior)
    with pytest.raises(ValueError, match="another frequency grid"):
        pf.fit_circuit(data.spectra[:, :20], CIRCUIT, F[:20], initial=posterior)
    with pytest.raises(ValueError, match="restarts must be a positive int"):
        pf.fit_circuit(data.spectra, CIRCUIT, F, restarts=0)


def test_exported_posterior_serves_without_the_package_and_checks_input(trained, tmp_path):
    posterior, _ = trained
    path = pf.export_circuit_posterior(posterior, tmp_path / "posterior")
    theta, z = posterior.simulate(5, seed=9)
    np.save(tmp_path / "z.npy", z)
    script = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({str(path)!r}); z = np.load({str(tmp_path / 'z.npy')!r})\n"
        "out = m.signatures['sample_parameters'](real=tf.constant(z.real, tf.float32), "
        "imag=tf.constant(z.imag, tf.float32), n=tf.constant(2000))['parameters'].numpy()\n"
        "print(json.dumps({'shape': out.shape, 'median': np.median(out, 1).tolist(), "
        "'circuit': json.loads(m.description.numpy())['circuit'], 'frequencies': m.frequencies.numpy().tolist(), "
        "'imported': 'tfp_physflow' in sys.modules or 'tensorflow_probability' in sys.modules}))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["shape"] == [5, 2000, 3] and report["circuit"] == CIRCUIT and not report["imported"]
    np.testing.assert_allclose(report["frequencies"], F)
    reference = np.median(posterior.sample(z, 2000, seed=0).numpy(), 1)
    np.testing.assert_allclose(report["median"], reference, rtol=0.1)
    served = pf.load_circuit_posterior(path)
    assert served.sample(z, 10).shape == (5, 10, 3) and served.summary(z, (0.5,), n=50).shape == (5, 1, 3)
    fit = pf.fit_circuit(z, CIRCUIT, F, initial=served)
    assert np.median(fit.residuals) < 0.02
    signature = tf.saved_model.load(str(path)).signatures["sample_parameters"]
    good = dict(real=tf.constant(z.real, tf.float32), imag=tf.constant(z.imag, tf.float32), n=tf.constant(3))
    for change, match in (({"real": tf.constant(z.real[:, :5], tf.float32)}, "shape"),
                          ({"real": tf.constant(np.full(z.shape, np.nan), tf.float32)}, "NaN"),
                          ({"real": tf.zeros(z.shape), "imag": tf.zeros(z.shape)}, "impedance of 0"),
                          ({"n": tf.constant(-1)}, "n must be >= 0")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=match):
            signature(**{**good, **change})
    with pytest.raises(ValueError, match="not a circuit posterior"):
        flow = pf.make_flow("linear", 2)
        pf.load_circuit_posterior(pf.export_flow(flow, tmp_path / "flow"))


def test_rank_and_recovery_figures_have_a_panel_per_parameter():
    rng = np.random.default_rng(0)
    fig = pf.plots.plot_rank_histograms(rng.integers(0, 100, (200, 3)), 99, ["a", "b", "c"])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3
    truth = rng.uniform(1, 100, (50, 2))
    q = np.stack([truth * 0.9, truth, truth * 1.1])
    fig = pf.plots.plot_recovery(truth, q, ["R0", "C1"], ["Ohm", "F"])
    assert [ax.get_xscale() for ax in fig.axes] == ["log", "log"] and "ohm" in fig.axes[0].get_xlabel()
