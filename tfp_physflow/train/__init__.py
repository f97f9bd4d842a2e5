"""Training: the one loop (``fit``), its data sources, phases, compiled steps, losses,
checkpoints, history and progress, and maximum-likelihood training of flows (``fit_flow``)."""

from .history import History
from .loop import fit
from .losses import NegativeELBO, NegativeLogLikelihood, WassersteinObjective
from .maximum_likelihood import fit_flow
from .phases import Phase

__all__ = ["History", "NegativeELBO", "NegativeLogLikelihood", "Phase", "WassersteinObjective", "fit", "fit_flow"]
