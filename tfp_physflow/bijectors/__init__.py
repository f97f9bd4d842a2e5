"""Custom TFP bijectors and element-wise transformers: pure math, no variables of their own.

Each bijector computes ``(y, log_det)`` in one pass (``forward_and_log_det`` /
``inverse_and_log_det``) and also implements TFP's Bijector interface.
"""

from .autoregressive import MaskedAutoregressive
from .base import FlowBijector
from .coupling import AffineCoupling, Coupling, SplineCoupling
from .linear import DiagonalAffine, LULinear
from .permutation import Permutation, Reverse
from .planar import Planar
from .positive import Exp, Softplus, UnitInterval
from .transformers import Affine, RationalQuadratic

__all__ = [
    "Affine", "AffineCoupling", "Coupling", "DiagonalAffine", "Exp", "FlowBijector", "LULinear", "MaskedAutoregressive",
    "Permutation", "Planar", "RationalQuadratic", "Reverse", "Softplus", "SplineCoupling", "UnitInterval",
]
