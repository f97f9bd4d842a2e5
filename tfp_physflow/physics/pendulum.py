"""Pendulum physics: the forced damped pendulum data of Takeishi & Kalousis
(NeurIPS 2021) and the differentiable incomplete model a physics VAE knows.

Data: theta'' = A w^2 cos(2 pi f t) - gamma theta' - w^2 sin(theta), theta'(0) = 0,
observed every dt = 0.05 for 50 timesteps with Gaussian noise of std 0.01.
The physics model knows only theta'' = -w^2 sin(theta) (``pendulum_rk4``).
"""

import numpy as np
import tensorflow as tf

PENDULUM_RANGES = {"theta0": (-1.57, 1.57), "omega": (0.785, 3.14), "gamma": (0.0, 0.8),
                   "f": (3.14, 6.28), "A": (0.0, 40.0)}


def forced_damped_pendulum(n, timesteps=50, dt=0.05, noise=0.01, seed=1234, substeps=20):
    """n noisy trajectories (n, 1, timesteps) and their parameters {name: (n,)}.

    Integrated with classical RK4 on a grid ``substeps`` times finer than dt;
    parameters drawn uniformly from ``PENDULUM_RANGES`` with ``seed`` (the
    recipe's train / valid / test seeds are 1234 / 1235 / 1236).
    """
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    p = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in PENDULUM_RANGES.items()}
    h = dt / substeps

    def accel(t, theta, v):
        w2 = p["omega"] ** 2
        return p["A"] * w2 * np.cos(2 * np.pi * p["f"] * t) - p["gamma"] * v - w2 * np.sin(theta)

    theta, v, t = p["theta0"].copy(), np.zeros(n), 0.0
    out = np.empty((n, timesteps))
    for i in range(timesteps):
        out[:, i] = theta
        for _ in range(substeps):
            k1t, k1v = v, accel(t, theta, v)
            k2t, k2v = v + h / 2 * k1v, accel(t + h / 2, theta + h / 2 * k1t, v + h / 2 * k1v)
            k3t, k3v = v + h / 2 * k2v, accel(t + h / 2, theta + h / 2 * k2t, v + h / 2 * k2v)
            k4t, k4v = v + h * k3v, accel(t + h, theta + h * k3t, v + h * k3v)
            theta = theta + h / 6 * (k1t + 2 * k2t + 2 * k3t + k4t)
            v = v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
            t += h
    return out[:, None, :] + noise * rng.standard_normal((n, 1, timesteps)), p


def pendulum_rk4(theta0, velocity0, omega, timesteps, dt, model="pendulum", substeps=2):
    """Differentiable RK4 solution of theta'' = -w^2 sin(theta) ("pendulum") or
    -w^2 theta ("harmonic"), batched over (batch, channels); returns (batch, channels, timesteps)."""
    if model not in ("pendulum", "harmonic"):
        raise ValueError(f"model must be 'pendulum' or 'harmonic', got {model!r}")
    w2 = omega * omega
    force = (lambda th: -w2 * tf.sin(th)) if model == "pendulum" else (lambda th: -w2 * th)
    h = dt / substeps

    def step(state, _):
        theta, v = state
        for _ in range(substeps):
            k1t, k1v = v, force(theta)
            k2t, k2v = v + h / 2 * k1v, force(theta + h / 2 * k1t)
            k3t, k3v = v + h / 2 * k2v, force(theta + h / 2 * k2t)
            k4t, k4v = v + h * k3v, force(theta + h * k3t)
            theta, v = theta + h / 6 * (k1t + 2 * k2t + 2 * k3t + k4t), v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
        return theta, v

    # A scan, not a Python loop: the graph stays one step long (an unrolled
    # 50-step solver took XLA minutes to compile).
    thetas, _ = tf.scan(step, tf.range(timesteps - 1), initializer=(theta0, velocity0))
    path = tf.concat([theta0[None], thetas], axis=0)  # (timesteps, batch, channels)
    return tf.transpose(path, [1, 2, 0])
