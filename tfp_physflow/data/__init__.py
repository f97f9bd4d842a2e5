"""Dataset generators and loaders."""

from .coulomb import CoulombData, simulate_coulomb
from .locomotion import load_locomotion
from .impedance import DEFAULT_RANGES, ImpedanceData, simulate_impedance
from .rrlyrae import load_rrlyrae, load_rrlyrae_combined, load_stripe82_background
from .toy import ring, two_moons

__all__ = ["CoulombData", "DEFAULT_RANGES", "ImpedanceData", "load_locomotion", "load_rrlyrae", "load_rrlyrae_combined", "load_stripe82_background", "ring", "simulate_coulomb", "simulate_impedance", "two_moons"]
