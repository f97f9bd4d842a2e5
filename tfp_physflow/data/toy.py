"""Small 2-D densities for smoke runs and tests: two moons and a ring."""

import numpy as np

from ..validation import non_negative_int


def two_moons(n, noise=0.05, seed=0, labels=False):
    """Two interleaved half circles with Gaussian noise, standardised.

    Args:
      n: number of points.
      noise: standard deviation of the noise before standardisation.
      seed: numpy seed.
      labels: also return which moon (0 or 1) each point is on.
    Returns:
      float64 array (n, 2) [, int array (n,)].
    """
    n = non_negative_int(n, "n")
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    angle = rng.uniform(0.0, np.pi, n)
    x = np.where(label[:, None] == 0,
                 np.stack([np.cos(angle), np.sin(angle)], 1),
                 np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    x = x + noise * rng.standard_normal((n, 2))
    x = (x - np.array([0.5, 0.25])) / np.array([0.87, 0.5])
    return (x, label) if labels else x


def ring(n, radius=2.0, width=0.15, seed=0):
    """Points on a circle of ``radius`` with radial Gaussian noise ``width``."""
    n = non_negative_int(n, "n")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    r = radius + width * rng.standard_normal(n)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], 1)
