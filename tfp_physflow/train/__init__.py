"""Training: the one loop, its losses and the maximum-likelihood entry point."""

from .classify import FlowClassifier
from .history import History
from .loop import fit
from .losses import NegativeLogLikelihood
from .maximum_likelihood import fit_flow

__all__ = ["FlowClassifier", "History", "NegativeLogLikelihood", "fit", "fit_flow"]
