"""Data: simulators (impedance spectra, Coulomb explosions, toy densities) and readers of real data."""

from .coulomb import CoulombData, simulate_coulomb
from .locomotion import load_locomotion
from .impedance import DEFAULT_RANGES, ImpedanceData, default_ranges, simulate_impedance
from .rrlyrae import load_rrlyrae, load_rrlyrae_combined, load_stripe82_background
from .toy import ring, two_moons

__all__ = ["CoulombData", "DEFAULT_RANGES", "ImpedanceData", "default_ranges", "load_locomotion", "load_rrlyrae", "load_rrlyrae_combined", "load_stripe82_background", "ring", "simulate_coulomb", "simulate_impedance", "two_moons"]
