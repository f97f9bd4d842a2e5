"""Element-wise transformers: the invertible 1-D maps that couplings and MAF apply.

A transformer is an object that knows how many raw parameters it takes per
dimension (``params_per_dim``) and computes ``(y, log_det)`` element-wise from
``x`` and those parameters, in either direction. ``Coupling`` and
``MaskedAutoregressive`` take one; a conditioner network emits
``params_per_dim`` numbers per transformed dimension.
"""

import tensorflow as tf

from .slicing import unstack_last
from .splines import num_spline_params, rational_quadratic


def soft_clamp(s, bound):
    """``bound * tanh(s / bound)``: keeps a log-scale inside (-bound, bound).

    Why: an unbounded ``exp(log_scale)`` overflows in deep flows (TFP's
    RealNVP/MAF went NaN at 20 blocks, docs/design.md "Measured pitfalls");
    near zero this is the identity, so the default initialisation is untouched.
    """
    return bound * tf.tanh(s / bound)


class Affine:
    """y = x exp(s) + t with s = clamp tanh(s_raw / clamp); 2 raw parameters (t, s_raw).

    Args:
      clamp: positive float, bound on |s|.
    Example:
      >>> y, log_det = Affine(2.0)(tf.ones([3]), tf.zeros([3, 2]), inverse=False)
      >>> y.numpy().tolist(), log_det.numpy().tolist()
      ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    """

    params_per_dim = 2

    def __init__(self, clamp=2.0):
        if not float(clamp) > 0:
            raise ValueError(f"clamp must be positive, got {clamp}")
        self.clamp = float(clamp)

    def __call__(self, x, raw, inverse=False):
        """Returns (output, element-wise log-det of the map applied); raw is (..., 2)."""
        shift, log_scale = unstack_last(raw, self.params_per_dim)
        log_scale = soft_clamp(log_scale, self.clamp)
        if inverse:
            return (x - shift) * tf.exp(-log_scale), -log_scale
        return x * tf.exp(log_scale) + shift, log_scale

    def __repr__(self):
        return f"Affine(clamp={self.clamp:g})"


class RationalQuadratic:
    """Monotone rational-quadratic spline on [-bound, bound], identity outside; 3K-1 raw parameters.

    Args:
      num_bins: K >= 2.
      bound: positive float, the spline's half-width.
    Reference: Durkan et al., "Neural spline flows", NeurIPS 2019.
    Example:
      >>> t = RationalQuadratic(num_bins=8); t.params_per_dim
      23
    """

    def __init__(self, num_bins=8, bound=4.0):
        if int(num_bins) < 2:
            raise ValueError(f"num_bins must be >= 2, got {num_bins}")
        if not float(bound) > 0:
            raise ValueError(f"bound must be positive, got {bound}")
        self.num_bins, self.bound = int(num_bins), float(bound)
        self.params_per_dim = num_spline_params(self.num_bins)

    def __call__(self, x, raw, inverse=False):
        return rational_quadratic(x, raw, self.bound, inverse)

    def __repr__(self):
        return f"RationalQuadratic(num_bins={self.num_bins}, bound={self.bound:g})"


def check_transformer(transformer):
    """Returns ``transformer`` if it is one (has ``params_per_dim`` and is callable), else raises."""
    if not callable(transformer) or not isinstance(getattr(transformer, "params_per_dim", None), int):
        raise ValueError("transformer must be an element-wise transformer such as Affine(clamp) or "
                         f"RationalQuadratic(num_bins, bound), got {transformer!r}")
    return transformer
