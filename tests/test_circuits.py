"""Equivalent circuits: parsing, closed forms, limits, gradients, precision."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_physflow.physics import Circuit

F = np.geomspace(0.1, 1e5, 25)
W = 2 * np.pi * F


def z_of(text, params, f=F, dtype=np.float64):
    return Circuit(text).impedance(np.asarray([params], dtype=dtype), f).numpy()[0]


@pytest.mark.parametrize("text, params, expected", [
    ("R1", [50.0], 50.0 + 0 * W),
    ("C1", [2e-6], 1 / (1j * W * 2e-6)),
    ("L1", [1e-3], 1j * W * 1e-3),
    ("CPE1", [3e-5, 0.8], 1 / (3e-5 * (1j * W) ** 0.8)),
    ("W1", [40.0], 40.0 * (1 - 1j) / np.sqrt(W)),
    ("Wo1", [30.0, 0.2], 30.0 / (np.sqrt(1j * W * 0.2) * np.tanh(np.sqrt(1j * W * 0.2)))),
    ("Ws1", [30.0, 0.2], 30.0 * np.tanh(np.sqrt(1j * W * 0.2)) / np.sqrt(1j * W * 0.2)),
    ("R1-C1", [50.0, 2e-6], 50.0 + 1 / (1j * W * 2e-6)),
    ("p(R1,C1)", [50.0, 2e-6], 50.0 / (1 + 1j * W * 50.0 * 2e-6)),
    ("p(R1,L1,C1)", [50.0, 1e-3, 2e-6], 1 / (1 / 50.0 + 1 / (1j * W * 1e-3) + 1j * W * 2e-6)),
    ("Rs-p(Re,Ce)", [20.0, 400.0, 3e-6], 400.0 / (1 + 1j * W * 3e-6 * 400.0) + 20.0),  # the paper's Eq. (4)
    ("R0-p(R1,p(C1,R2-C2))-L1", [5.0, 100.0, 1e-6, 20.0, 1e-5, 1e-6],
     5.0 + 1 / (1 / 100.0 + 1j * W * 1e-6 + 1 / (20.0 + 1 / (1j * W * 1e-5))) + 1j * W * 1e-6),
])
def test_closed_forms(text, params, expected):
    np.testing.assert_allclose(z_of(text, params), expected, rtol=1e-12)


def test_the_default_circuit_tends_to_rs_plus_re_at_low_and_rs_at_high_frequency():
    rs, re_, ce = 20.0, 400.0, 3e-6
    z = z_of("Rs-p(Re,Ce)", [rs, re_, ce], f=np.array([1e-9, 1e12]))
    np.testing.assert_allclose(z, [rs + re_, rs], rtol=1e-6)


def test_finite_warburgs_have_their_limits_and_stay_finite_at_extreme_omega_tau():
    f = np.array([1e-9, 1e3, 1e15])
    short, open_ = z_of("Ws1", [30.0, 0.2], f), z_of("Wo1", [30.0, 0.2], f)
    assert np.all(np.isfinite(short)) and np.all(np.isfinite(open_))
    np.testing.assert_allclose(short[0], 30.0, rtol=1e-6)  # short: a resistance Z0 at DC
    assert abs(open_[0]) > 1e7 and open_[0].imag < 0  # open: a capacitor at DC
    semi = z_of("W1", [30.0 / np.sqrt(0.2) / np.sqrt(2)], f)  # high frequency: the semi-infinite Warburg
    np.testing.assert_allclose(short[2], semi[2], rtol=1e-6)
    np.testing.assert_allclose(open_[2], semi[2], rtol=1e-6)


def test_a_cpe_with_alpha_one_is_a_capacitor():
    np.testing.assert_allclose(z_of("CPE1", [2e-6, 1.0]), z_of("C1", [2e-6]), rtol=1e-12)


def test_gradients_match_finite_differences():
    text, p0 = "R0-p(R1,CPE1)-Ws1-L1", np.array([5.0, 100.0, 3e-5, 0.8, 30.0, 0.2, 1e-6])
    circuit = Circuit(text)
    params = tf.constant([p0])
    with tf.GradientTape() as tape:
        tape.watch(params)
        z = circuit.impedance(params, F)
        loss = tf.reduce_sum(tf.math.real(z) ** 2 + 3.0 * tf.math.imag(z))
    grad = tape.gradient(loss, params).numpy()[0]

    def value(p):
        z = circuit.impedance(np.array([p]), F).numpy()
        return np.sum(z.real ** 2 + 3.0 * z.imag)

    for i in range(len(p0)):
        h = 1e-6 * p0[i]
        up, down = p0.copy(), p0.copy()
        up[i] += h
        down[i] -= h
        np.testing.assert_allclose(grad[i], (value(up) - value(down)) / (2 * h), rtol=1e-5,
                                   err_msg=circuit.parameter_names[i])


def test_float32_and_float64_agree_and_give_complex64_and_complex128():
    circuit = Circuit("R0-p(R1,CPE1)-Wo1")
    p = np.array([[5.0, 100.0, 3e-5, 0.8, 30.0, 0.2]])
    z32, z64 = circuit.impedance(p.astype("float32"), F), circuit.impedance(p, F)
    assert z32.dtype == tf.complex64 and z64.dtype == tf.complex128
    np.testing.assert_allclose(z32.numpy(), z64.numpy(), rtol=1e-5)


def test_batches_and_xla_give_the_same_spectra():
    circuit = Circuit("Rs-p(Re,Ce)")
    p = tf.constant(np.random.default_rng(0).uniform([10, 200, 1e-6], [40, 700, 6e-6], (64, 3)), tf.float32)
    z = circuit.impedance(p, F)
    assert z.shape == (64, len(F))
    np.testing.assert_allclose(tf.function(lambda q: circuit.impedance(q, F), jit_compile=True)(p), z, rtol=1e-5)
    np.testing.assert_allclose(circuit.impedance(p[5:6], F)[0], z[5], rtol=1e-6)


def test_parameter_names_units_and_order():
    c = Circuit(" R0 - p(R_1, CPE_1) - Wo1 - W2 - Ws3 - L0 ")
    assert c.parameter_names == ("R0", "R_1", "CPE_1.Q", "CPE_1.alpha", "Wo1.Z0", "Wo1.tau", "W2",
                                 "Ws3.Z0", "Ws3.tau", "L0")
    assert c.parameter_units == ("Ohm", "Ohm", "F s^(alpha-1)", "1", "Ohm", "s", "Ohm s^-1/2", "Ohm", "s", "H")
    assert Circuit().parameter_names == ("Rs", "Re", "Ce")


@pytest.mark.parametrize("text, message", [
    ("", "position 0: empty circuit"),
    ("R1-X2", "position 3: unknown circuit element 'X2'"),
    ("R1-p(R2,C2", "position 3: unbalanced parenthesis"),
    ("R1-p(R2,C2))", r"position 11: unexpected '\)' \(unbalanced parenthesis\)"),
    ("R1-p()", r"position 3: empty parallel group 'p\(\)'"),
    ("p(R1,,C1)", "position 5: empty parallel branch"),
    ("R1-C1-R1", "position 6: duplicate element name 'R1' \\(first at position 0\\)"),
    ("R1-", "position 3: missing element"),
    ("R1 + C1", "position 3: unexpected character '\\+'"),
    ("R1(C1)", "position 2: 'R1' is not 'p'"),
])
def test_malformed_circuits_raise_value_errors_naming_position_and_problem(text, message):
    with pytest.raises(ValueError, match=message):
        Circuit(text)


@pytest.mark.parametrize("frequencies, message", [
    ([1.0, 0.0, 10.0], "frequencies must be positive"),
    ([1.0, -5.0], "frequencies must be positive"),
    ([1.0, np.nan], "frequencies contains NaN"),
    ([1.0, np.inf], "frequencies contains NaN or inf"),
    ([], "non-empty"),
])
def test_bad_frequencies_raise(frequencies, message):
    with pytest.raises(ValueError, match=message):
        Circuit().impedance([[20.0, 400.0, 3e-6]], frequencies)


@pytest.mark.parametrize("params, message", [
    (np.ones((2, 4)), r"parameters must have shape \(N, 3\)"),
    (np.ones(3), r"parameters must have shape \(N, 3\)"),
    ([[20.0, -400.0, 3e-6]], "must be positive: Re"),
    ([[20.0, np.nan, 3e-6]], "parameters contains NaN"),
])
def test_bad_parameters_raise(params, message):
    with pytest.raises(ValueError, match=message):
        Circuit().impedance(params, F)


def test_interchangeable_arcs_are_put_in_order_fastest_first_without_changing_a_spectrum():
    c = Circuit("L0-R0-p(R1,CPE1)-p(R2,CPE2)")
    assert c.interchangeable == (([2, 3, 4], [5, 6, 7]),)
    slow, fast = [1.0, 1e-2, 0.8], [0.5, 1e-5, 0.9]  # tau = (R Q)^(1/alpha): 3e-3 s and 2e-6 s
    params = np.array([[1e-6, 0.3, *slow, *fast], [1e-6, 0.3, *fast, *slow]])
    ordered = c.in_order(params)
    np.testing.assert_array_equal(ordered, [[1e-6, 0.3, *fast, *slow]] * 2)
    np.testing.assert_allclose(c.impedance(ordered, F).numpy(), c.impedance(params, F).numpy(), rtol=1e-12)
    tensor = tf.constant(params)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        total = tf.reduce_sum(c.in_order(tensor)[:, 2])
    np.testing.assert_array_equal(tape.gradient(total, tensor).numpy()[:, [2, 5]], [[0, 1], [1, 0]])
    # Different structures, or no R with a C/CPE: nothing to order.
    three = params[:, :3]
    for text in ("R0-p(R1,CPE1)-p(R2-Wo1,CPE2)", "Rs-p(Re,Ce)", "R0-C1-C2"):
        assert Circuit(text).interchangeable == () and Circuit(text).in_order(three) is three


def test_fits_of_two_arcs_come_back_fastest_first():
    from tfp_physflow import fit_circuit

    c = Circuit("R0-p(R1,C1)-p(R2,C2)")
    truth = np.array([[10.0, 100.0, 1e-7, 50.0, 1e-4]])  # taus 1e-5 s and 5e-3 s
    fit = fit_circuit(c.impedance(truth, F).numpy(), c, F, restarts=8)
    np.testing.assert_allclose(fit.parameters, truth, rtol=1e-4)


def test_unconstrained_values_are_log_and_logit_and_round_trip():
    c = Circuit("R0-p(R1,CPE1)")
    params = np.array([[10.0, 100.0, 1e-5, 0.8]])
    np.testing.assert_allclose(c.unconstrained(params), [[np.log(10), np.log(100), np.log(1e-5), np.log(4.0)]])
    np.testing.assert_allclose(c.constrained(c.unconstrained(params)), params, rtol=1e-12)


def test_fit_baselines_resample_the_fits_and_fit_a_log_gaussian():
    from tfp_physflow.physics import fit_baselines

    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")
    rng = np.random.default_rng(0)
    log_mean = np.array([np.log(10), np.log(100), np.log(1e-7), 1.5, np.log(50), np.log(1e-4), 1.0])
    fits = c.constrained(log_mean + 0.2 * rng.standard_normal((3000, 7)))  # fastest arc first already
    baselines = fit_baselines(fits, c, 4000, seed=1)
    resampled, gaussian = baselines["fit resample"], baselines["Gaussian of fits"]
    assert set(map(tuple, resampled)) <= set(map(tuple, fits))
    np.testing.assert_allclose(c.unconstrained(gaussian).mean(0), log_mean, atol=0.02)
    np.testing.assert_allclose(c.unconstrained(gaussian).std(0), 0.2, rtol=0.05)


@pytest.mark.slow  # trains an nsf flow for 30 epochs (15-20 s); physflow eis learn runs flow_of_fits by default
def test_a_flow_of_fits_learns_the_fits_distribution_on_each_support():
    from tfp_physflow.physics import flow_of_fits

    c = Circuit("R0-p(R1,CPE1)")
    rng = np.random.default_rng(0)
    log_mean, log_std = np.array([np.log(10), np.log(100), np.log(1e-5), 1.5]), np.array([0.1, 0.5, 1.0, 0.3])
    fits = c.constrained(log_mean + log_std * rng.standard_normal((2000, 4)))
    fits[:, 1] *= np.where(rng.random(2000) < 0.5, 1.0, 20.0)  # R1 bimodal: a Gaussian of the fits cannot follow it
    draws, history = flow_of_fits(fits, c, "nsf", 4000, seed=1, epochs=30)
    assert draws.shape == (4000, 4) and np.all(draws > 0) and np.all(draws[:, 3] < 1)
    assert history.stop_reason
    values = c.unconstrained(draws)
    np.testing.assert_allclose(np.delete(values, 1, 1).mean(0), np.delete(log_mean, 1), atol=0.1)
    np.testing.assert_allclose(np.delete(values, 1, 1).std(0), np.delete(log_std, 1), rtol=0.15)
    middle = np.mean(np.abs(values[:, 1] - (np.log(100) + np.log(20) / 2)) < 0.3)  # the gap between the modes
    assert middle < 0.1, middle
    with pytest.raises(ValueError, match=r"\(M >= 10, 4\)"):
        flow_of_fits(fits[:5], c, "linear", 10)
