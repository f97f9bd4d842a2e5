"""Data: simulators (impedance spectra, Coulomb explosions, toy densities) and readers of real data."""

from .coulomb import CoulombData, simulate_coulomb
from .locomotion import load_locomotion
from .impedance import DEFAULT_RANGES, ImpedanceData, default_ranges, simulate_impedance
from .spectra import INSTRUMENTS, Spectra, read_spectra, spectra_table
from .rrlyrae import load_rrlyrae, load_rrlyrae_combined, load_stripe82_background
from .toy import ring, two_moons
from .zhang2020 import load_zhang2020

__all__ = ["CoulombData", "DEFAULT_RANGES", "INSTRUMENTS", "ImpedanceData", "Spectra", "default_ranges", "load_locomotion", "load_rrlyrae", "load_rrlyrae_combined", "load_stripe82_background", "load_zhang2020", "read_spectra", "ring", "spectra_table", "simulate_coulomb", "simulate_impedance", "two_moons"]
