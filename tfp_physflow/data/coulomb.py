"""Coulomb explosion imaging data: OCS geometries and the momenta they explode into."""

from dataclasses import dataclass

import numpy as np

from ..physics.coulomb import coulomb_explosion, ocs_geometries


@dataclass
class CoulombData:
    """positions (N, 9) angstrom and momenta (N, 9) atomic units, atoms O, C, S, each x, y, z."""
    positions: np.ndarray
    momenta: np.ndarray

    def split(self, fractions=(0.7, 0.15, 0.15), seed=0):
        """Random train / validation / test split (default 70 / 15 / 15), each a CoulombData."""
        if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) <= 0:
            raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
        order = np.random.default_rng(seed).permutation(len(self.positions))
        cuts = np.cumsum(np.round(np.array(fractions[:2]) * len(order)).astype(int))
        return tuple(CoulombData(self.positions[i], self.momenta[i]) for i in np.split(order, cuts))


def simulate_coulomb(n, vibration=0.05, charges=(1.0, 1.0, 1.0), seed=0):
    """n OCS molecules (``ocs_geometries``) and their Coulomb-explosion momenta (``coulomb_explosion``)."""
    geometries = ocs_geometries(n, vibration, seed)
    momenta = coulomb_explosion(geometries, charges)
    return CoulombData(geometries.reshape(n, 9), momenta.reshape(n, 9))
