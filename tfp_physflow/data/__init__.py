"""Dataset generators and loaders."""

from .impedance import DEFAULT_RANGES, ImpedanceData, simulate_impedance
from .toy import ring, two_moons

__all__ = ["DEFAULT_RANGES", "ImpedanceData", "ring", "simulate_impedance", "two_moons"]
