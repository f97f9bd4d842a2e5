"""fit_circuit: the classical baseline, thousands of spectra fitted at once.

Batched Levenberg-Marquardt least squares in log-parameter space (alpha of a
CPE through a logistic map to (0, 1)), from several random starts per
spectrum drawn in ranges scaled to that spectrum's magnitudes and
frequencies; the best start wins. Residuals are relative,
(Z_model - Z_data) / |Z_data|, so that every frequency counts although
impedances span decades.

Measured on noise-free spectra (48 frequencies, 1.3 Hz - 16 kHz, defaults):
``Rs-p(Re,Ce)`` and ``R0-p(R1,CPE1)`` are recovered to 1e-14 relative error;
for ``R0-p(R1,C1)-Ws1`` about 1 % of spectra end in a local minimum, with a
residual of a few percent against 1e-15 for the others. ``residuals`` shows
which: refit those with more ``restarts`` and ``refine``.
"""

import functools
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..validation import check_finite_array
from .circuits import DEFAULT_CIRCUIT, Circuit, check_frequencies


@dataclass
class CircuitFit:
    """Result of ``fit_circuit``.

    parameters: (N, P) best fit, in ``circuit.parameter_names`` order
      (interchangeable blocks fastest first, ``Circuit.in_order``).
    residuals: (N,) root-mean-square relative residual |Z_fit - Z| / |Z| over frequencies.
    circuit: the ``Circuit``.
    """
    parameters: np.ndarray
    residuals: np.ndarray
    circuit: Circuit


def _start_ranges(circuit, z, omega):
    """Per-spectrum (low, high) of each parameter's random start, (N, P) each."""
    mag = np.abs(z)
    zlo, zhi = mag.min(1), mag.max(1)
    wlo, whi = omega.min(), omega.max()
    ranges = {
        "R": (zlo / 100, zhi * 10), "Z0": (zlo / 100, zhi * 10),
        "C": (1 / (whi * zhi) / 10, 10 / (wlo * zlo)), "Q": (1 / (whi * zhi) / 10, 10 / (wlo * zlo)),
        "L": (zlo / whi / 10, zhi / wlo * 10), "sigma": (zlo * np.sqrt(wlo) / 100, zhi * np.sqrt(whi) * 10),
        "tau": (np.full_like(zlo, 0.1 / whi), np.full_like(zlo, 10 / wlo)),
        "alpha": (np.full_like(zlo, 0.5), np.full_like(zlo, 0.99)),
    }
    lows, highs = zip(*(ranges[p] for _, p in circuit.parameter_kinds()))
    return np.stack(lows, 1), np.stack(highs, 1)


def _from_theta(theta, is_alpha):
    return tf.where(is_alpha, tf.sigmoid(theta), tf.exp(theta))


def fit_circuit(spectra, circuit=DEFAULT_CIRCUIT, frequencies=None, *, restarts=None, refine=None, iterations=None,
                seed=0, chunk_size=1024, progress=None, starts=None, initial=None):
    """Fits ``circuit`` to every spectrum by least squares; returns a ``CircuitFit``.

    Args:
      spectra: complex (N, K) impedances in Ohm (or any consistent unit).
      circuit: circuit string or ``Circuit``.
      frequencies: (K,) Hz (default: the layer's 48 from 1.3 Hz to 16 kHz).
      restarts: starts per spectrum (default 32 random ones; 4 with
        ``initial``), each run for ``iterations // 4`` Levenberg-Marquardt
        iterations (exploration).
      refine: how many of the best starts per spectrum continue for
        ``iterations`` more (convergence; default 8, 1 with ``initial``).
      iterations: Levenberg-Marquardt iterations of the refinement (default 60; 20 with ``initial``).
      seed: seed of the random starts.
      chunk_size: spectra fitted together (memory grows with chunk_size * restarts * K).
      progress: optional callable ``progress(done, total)``, called after each chunk
        (with "pilot": first for the pilot's spectra, then for all).
      starts: optional (M, P) parameter vectors, e.g. fits of similar spectra:
        half of each spectrum's starts are drawn from them, the rest at random.
        Or "pilot": every 8th spectrum is fitted first, from 4x the restarts
        (refine 4x, iterations 2x), and those fits are the starts of all.
        Measured on 200 battery spectra, L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3:
        median residual 1.8 % (worst 13 %) at the defaults, 0.52 % (worst
        1.1 %) with "pilot" and iterations=100, in about twice the time.
      initial: a trained ``CircuitPosterior`` (or ``load_circuit_posterior``'s
        served one) of this circuit and frequency grid: each spectrum starts
        from its posterior median and restarts - 1 posterior samples instead
        of random starts. Measured on 500 spectra of R0-p(R1,CPE1), 1 % noise:
        the same parameters as from 32 random starts, 800 against 50 spectra/s.
    Reference: K. Levenberg (1944), D. Marquardt (1963); Marquardt's diagonal scaling.
    Example:
      >>> data = pf.data.simulate_impedance(20, seed=0)
      >>> fit = fit_circuit(data.spectra, "Rs-p(Re,Ce)", data.frequencies)
      >>> bool(np.median(np.abs(fit.parameters / data.parameters - 1)) < 0.05)
      True
    """
    from .layers import default_frequencies

    circuit = circuit if isinstance(circuit, Circuit) else Circuit(circuit)
    f = check_frequencies(default_frequencies() if frequencies is None else frequencies)
    z = np.asarray(spectra)
    if z.ndim != 2 or z.shape[1] != f.size:
        raise ValueError(f"spectra must have shape (N, {f.size}) to match the frequencies, got {z.shape}")
    if len(z) == 0:
        raise ValueError("spectra is empty: give at least one spectrum")
    if not np.iscomplexobj(z):
        raise ValueError(f"spectra must be complex impedances, got dtype {z.dtype}")
    if not np.all(np.isfinite(z)) or np.any(np.abs(z) == 0):
        raise ValueError("spectra contain NaN, inf or zero values")
    z = z.astype(np.complex128)
    omega = 2 * np.pi * f
    is_alpha = np.array([p == "alpha" for _, p in circuit.parameter_kinds()])
    if initial is not None:
        _check_initial(initial, circuit, f, starts)
    restarts = (4 if initial is not None else 32) if restarts is None else restarts
    refine = (1 if initial is not None else 8) if refine is None else refine
    iterations = (20 if initial is not None else 60) if iterations is None else iterations
    for name, value in (("restarts", restarts), ("refine", refine), ("iterations", iterations),
                        ("chunk_size", chunk_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(starts, str):
        if starts != "pilot":
            raise ValueError(f"starts must be (M, P) parameter vectors or 'pilot', got {starts!r}")
        starts = fit_circuit(z[::8], circuit, f, restarts=4 * restarts, refine=4 * refine,
                             iterations=2 * iterations, seed=seed, chunk_size=max(1, chunk_size // 4),
                             progress=progress).parameters
    if starts is not None:
        starts = check_parameter_rows(starts, circuit, "starts")
    rng = np.random.default_rng(seed)
    solve = _solver(circuit, f)
    params, residuals = [], []
    for start in range(0, len(z), chunk_size):
        zc = z[start:start + chunk_size]
        n, p = len(zc), circuit.num_parameters
        lo, hi = _start_ranges(circuit, zc, omega)
        if initial is not None:
            draws = np.asarray(initial.sample(zc, max(restarts - 1, 15), seed=seed + start), np.float64)
            init = np.concatenate([np.median(draws, 1, keepdims=True), draws[:, :restarts - 1]], 1)
        else:
            u = rng.uniform(size=(n, restarts, p))
            log_lo, log_hi = np.log(lo)[:, None], np.log(hi)[:, None]
            init = np.where(is_alpha, lo[:, None] + u * (hi - lo)[:, None], np.exp(log_lo + u * (log_hi - log_lo)))
        if starts is not None:
            init[:, :restarts // 2] = starts[rng.integers(0, len(starts), (n, restarts // 2))]
        # Box: the start range widened 1e3-fold each way (alpha: logit in +-12).
        # Why: in log space a parameter that drifts towards 0 loses its
        # gradient and never comes back (seen: series R at 1e-26).
        low = np.where(is_alpha, -12.0, np.log(lo) - np.log(1e3))
        high = np.where(is_alpha, 12.0, np.log(hi) + np.log(1e3))
        theta = np.clip(circuit.unconstrained(init.reshape(-1, p)).reshape(n, restarts, p), low[:, None], high[:, None])
        for keep, steps in ((restarts, max(1, iterations // 4)), (min(refine, restarts), iterations)):
            theta, cost = solve(tf.constant(theta.reshape(-1, p)), tf.constant(np.repeat(zc, keep, axis=0)),
                                tf.constant(np.repeat(low, keep, axis=0)), tf.constant(np.repeat(high, keep, axis=0)),
                                tf.constant(steps))
            cost = np.where(np.isfinite(cost.numpy()), cost.numpy(), np.inf).reshape(n, keep)
            order = np.argsort(cost, axis=1)[:, :min(refine, restarts)]
            theta = np.take_along_axis(theta.numpy().reshape(n, keep, p), order[..., None], axis=1)
            cost = np.take_along_axis(cost, order, axis=1)
        params.append(_from_theta(tf.constant(theta[:, 0]), is_alpha).numpy())
        residuals.append(np.sqrt(cost[:, 0] / f.size))
        if progress is not None:
            progress(start + n, len(z))
    return CircuitFit(circuit.in_order(np.concatenate(params)), np.concatenate(residuals), circuit)


def _check_initial(initial, circuit, frequencies, starts):
    if not hasattr(initial, "sample") or not hasattr(initial, "circuit"):
        raise ValueError(f"initial must be a CircuitPosterior, got {type(initial).__name__}")
    if initial.circuit.text != circuit.text:
        raise ValueError(f"initial is a posterior of {initial.circuit.text!r}, not of {circuit.text!r}")
    grid = np.asarray(initial.frequencies)
    if grid.shape != frequencies.shape or not np.allclose(grid, frequencies, rtol=1e-6):
        raise ValueError(f"initial was trained on another frequency grid ({grid.size} frequencies, "
                         f"{grid.min():g}-{grid.max():g} Hz) than the spectra's ({frequencies.size}, "
                         f"{frequencies.min():g}-{frequencies.max():g} Hz)")
    if starts is not None:
        raise ValueError("give starts or initial, not both")


def check_parameter_rows(values, circuit, name, min_rows=1):
    """(M, P) parameter vectors of ``circuit`` on their supports, as float64; a ValueError names what is wrong."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or values.shape[1] != circuit.num_parameters or len(values) < min_rows:
        rows = "M" if min_rows == 1 else f"M >= {min_rows}"
        raise ValueError(f"{name} must be ({rows}, {circuit.num_parameters}) parameter vectors of {circuit.text!r}, "
                         f"got shape {values.shape}")
    check_finite_array(values, name)
    unit = np.array([support == "unit" for support in circuit.parameter_supports()])
    if np.any(values <= 0) or np.any(values[:, unit] > 1):
        raise ValueError(f"{name} must lie on the parameters' supports (positive; exponents in (0, 1])")
    return values


def _solver(circuit, frequencies):
    """One traced solver per circuit and frequency set, reused across calls (no retracing)."""
    return _traced_solver(circuit.text, np.asarray(frequencies, np.float64).tobytes())


@functools.lru_cache(maxsize=8)
def _traced_solver(circuit_text, frequency_bytes):
    # Bounded: the 8 most recent circuits and frequency sets keep their traced
    # solver; an unbounded cache would grow with every new frequency grid.
    circuit, frequencies = Circuit(circuit_text), np.frombuffer(frequency_bytes, np.float64)
    is_alpha = tf.constant([p == "alpha" for _, p in circuit.parameter_kinds()])
    # theta, low and high share one spec; any number of rows, so the solver is traced
    # once, not again when the refinement keeps fewer starts.
    theta = tf.TensorSpec([None, circuit.num_parameters], tf.float64)
    target = tf.TensorSpec([None, len(frequencies)], tf.complex128)
    # autograph=False: the loop is an explicit tf.while_loop, so AutoGraph's
    # conversion of the circuit code it calls would only cost time at the first trace.
    return tf.function(lambda theta, target, low, high, steps: _levenberg_marquardt(
        circuit, frequencies, theta, target, low, high, is_alpha, steps), autograph=False,
        input_signature=[theta, target, theta, theta, tf.TensorSpec([], tf.int32)])


def _levenberg_marquardt(circuit, frequencies, theta, target, low, high, is_alpha, iterations):
    scale = tf.cast(tf.abs(target), tf.float64)
    eye = tf.eye(tf.shape(theta)[1], dtype=tf.float64)

    def residual(t):
        z = circuit.impedance(_from_theta(t, is_alpha), frequencies)
        d = z - target
        return tf.concat([tf.math.real(d) / scale, tf.math.imag(d) / scale], axis=1)

    def cost_of(r):
        c = tf.reduce_sum(r * r, axis=1)
        return tf.where(tf.math.is_finite(c), c, tf.constant(np.inf, tf.float64))

    def jacobian(t):
        # One forward-mode pass per column. (One pass over P stacked copies of t
        # cut the first call 4x, but a 1024-spectrum fit took 2x the CPU and
        # 2.4x the memory: the circuit was evaluated for every copy.)
        columns = []
        for p in range(theta.shape[1]):
            tangent = tf.one_hot(tf.fill([tf.shape(t)[0]], p), theta.shape[1], dtype=tf.float64)
            with tf.autodiff.ForwardAccumulator(t, tangent) as acc:
                r = residual(t)
            columns.append(acc.jvp(r))
        return r, tf.stack(columns, axis=-1)  # (M, 2K), (M, 2K, P)

    lam = tf.fill([tf.shape(theta)[0]], tf.constant(1e-3, tf.float64))
    nu = tf.fill([tf.shape(theta)[0]], tf.constant(2.0, tf.float64))
    cost = cost_of(residual(theta))
    done = tf.zeros_like(cost, tf.bool)

    # Until every row has converged (an accepted step that gained < 1e-10 of its cost, or damping at
    # its ceiling) or ``iterations`` are spent; rows that are done keep taking their (tiny) steps.
    def unfinished(i, theta, cost, done, lam, nu):
        return tf.logical_and(i < iterations, tf.logical_not(tf.reduce_all(done)))

    def iteration(i, theta, cost, done, lam, nu):
        r, jac = jacobian(theta)
        # A start that overflows gives non-finite entries: it takes no step.
        finite = tf.reduce_all(tf.math.is_finite(jac), axis=[1, 2]) & tf.reduce_all(tf.math.is_finite(r), 1)
        jac = tf.where(finite[:, None, None], jac, tf.zeros_like(jac))
        r = tf.where(finite[:, None], r, tf.zeros_like(r))
        grad = tf.einsum("mkp,mk->mp", jac, r)
        hess = tf.einsum("mkp,mkq->mpq", jac, jac)
        # Marquardt: damp each direction by its own curvature (scale-free
        # steps); the pseudo-inverse never fails where a parameter has no
        # influence (a zero row), unlike tf.linalg.solve.
        damped = hess + lam[:, None, None] * (tf.linalg.diag(tf.linalg.diag_part(hess)) + 1e-12 * eye)
        step = tf.linalg.matvec(tf.linalg.pinv(damped), -grad)
        step = tf.where(tf.math.is_finite(step), step, tf.zeros_like(step))
        candidate = tf.clip_by_value(theta + step, low, high)
        new_cost = cost_of(residual(candidate))
        better = new_cost < cost
        # Nielsen's damping update (1999): the gain ratio rho of actual to
        # predicted reduction sets how far lambda falls after a good step;
        # after a failed one lambda grows by nu, which doubles each time.
        # (Measured against fixed factors /3, x4 on 50 battery spectra: median
        # residual 2.5 % -> 1.8 % at the defaults, 1.0 % -> 0.6 % from 128 starts.)
        s = candidate - theta
        predicted = -2.0 * tf.reduce_sum(grad * s, 1) - tf.einsum("mp,mpq,mq->m", s, hess, s)
        rho = (cost - new_cost) / tf.maximum(predicted, 1e-300)
        shrink = tf.maximum(tf.constant(1.0 / 3.0, tf.float64), 1.0 - (2.0 * tf.minimum(rho, 1.0) - 1.0) ** 3)
        theta = tf.where(better[:, None], candidate, theta)
        done |= (better & (cost - new_cost <= 1e-10 * cost)) | (~better & (lam >= 1e12)) | (cost == 0)
        cost = tf.where(better, new_cost, cost)
        lam = tf.clip_by_value(tf.where(better, lam * shrink, lam * nu), 1e-12, 1e12)
        nu = tf.where(better, tf.constant(2.0, tf.float64), nu * 2.0)
        return i + 1, theta, cost, done, lam, nu

    _, theta, cost, *_ = tf.while_loop(unfinished, iteration, (tf.constant(0), theta, cost, done, lam, nu))
    return theta, cost
