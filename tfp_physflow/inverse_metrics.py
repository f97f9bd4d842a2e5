"""Metrics of inverse problems (Ghanaatian 2024, CVAE/cINN for Coulomb explosions; docs/design.md):
mean squared and relative errors of point estimates, coverage of posterior intervals.
``tfp_physflow.metrics`` re-exports them."""

import numpy as np


def mse(truth, prediction):
    """Mean squared error over samples and components (Eq. 8 of Ghanaatian's CVAE/cINN proposal, 2024)."""
    truth, prediction = np.asarray(truth, np.float64), np.asarray(prediction, np.float64)
    if truth.shape != prediction.shape:
        raise ValueError(f"truth and prediction differ in shape: {truth.shape}, {prediction.shape}")
    return float(np.mean((truth - prediction) ** 2))


def mean_relative_error(truth, prediction):
    """Mean over samples and components of |x - x^| / |x| (Eq. 9 of Ghanaatian's CVAE/cINN proposal, 2024).

    Component-wise, as that proposal defines it: components near 0 weigh
    heavily, so compare models with it, not data sets.
    """
    truth, prediction = np.asarray(truth, np.float64), np.asarray(prediction, np.float64)
    if truth.shape != prediction.shape:
        raise ValueError(f"truth and prediction differ in shape: {truth.shape}, {prediction.shape}")
    if np.any(truth == 0):
        raise ValueError("the relative error is undefined where the truth is 0")
    return float(np.mean(np.abs(truth - prediction) / np.abs(truth)))


def interval_coverage(samples, truth, levels=(0.68, 0.95), per_dimension=False):
    """How often the truth falls inside central posterior intervals, per level.

    samples: (n, B, d) posterior draws for B cases; truth: (B, d). For each
    level, the fraction of the B * d components whose true value lies between
    the (1 - level) / 2 and (1 + level) / 2 quantiles of its n draws. A
    calibrated posterior gives about ``level``. With ``per_dimension`` each
    level maps to a (d,) array, one fraction per component.
    """
    samples, truth = np.asarray(samples, np.float64), np.asarray(truth, np.float64)
    if samples.ndim != 3 or samples.shape[1:] != truth.shape:
        raise ValueError(f"samples must be (n, B, d) for truth (B, d), got {samples.shape}, {truth.shape}")
    out = {}
    for level in levels:
        low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        inside = (truth >= low) & (truth <= high)
        out[level] = inside.mean(0) if per_dimension else float(np.mean(inside))
    return out
