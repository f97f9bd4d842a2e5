"""Dataset generators and loaders."""

from .toy import ring, two_moons

__all__ = ["ring", "two_moons"]
