"""Custom TFP bijectors: pure math, no variables of their own.

Each computes ``(y, log_det)`` in one pass (``forward_and_log_det`` /
``inverse_and_log_det``) and also implements TFP's Bijector interface.
"""

from .autoregressive import MaskedAutoregressive
from .base import FlowBijector
from .coupling import AffineCoupling, SplineCoupling
from .linear import DiagonalAffine, LULinear
from .permutation import Permutation, Reverse
from .planar import Planar
from .positive import Exp, Softplus

__all__ = [
    "AffineCoupling", "DiagonalAffine", "Exp", "FlowBijector", "LULinear", "MaskedAutoregressive",
    "Permutation", "Planar", "Reverse", "Softplus", "SplineCoupling",
]
