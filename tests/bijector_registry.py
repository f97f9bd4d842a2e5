"""One registry of named bijector constructors (conditional variants included).

Each entry builds, in float64, a bijector with RANDOM weights (far from the
identity, so that the tests below can fail), the variables it depends on, and
the domain of its data side. It feeds the parametrized tests in
test_bijectors.py.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from tfp_physflow import bijectors as bij
from tfp_physflow import bijector_layers as layers

DIM, COND, BATCH = 5, 3, 16
DTYPE = "float64"


@dataclass
class Case:
    name: str
    build: Callable  # () -> (bijector, variables)
    invertible: bool = True  # has a closed-form inverse
    positive: bool = False  # data side is (0, inf)
    unit: tuple = ()  # data-side dimensions on (0, 1) (with positive)
    affine: bool = False  # affine in x: exact to |x| ~ 1e3


def randomize(variables, seed=0):
    """Moves every variable away from its (identity) initial value."""
    rng = np.random.default_rng(seed)
    for v in variables:
        shape = tuple(v.shape)
        if "lower_upper" in v.path:
            value = np.eye(shape[0]) + 0.3 * rng.standard_normal(shape)
        elif len(shape) == 2:
            value = rng.standard_normal(shape) / np.sqrt(shape[0])
        else:
            value = 0.3 * rng.standard_normal(shape)
        v.assign(value.astype(DTYPE))


def condition_tensor(seed=7):
    return tf.constant(np.random.default_rng(seed).standard_normal((BATCH, COND)), DTYPE)


def _from_layer(make_layer, conditional=False):
    def build():
        layer = make_layer()
        cond = condition_tensor() if conditional else None
        layer.bijector(cond).forward_and_log_det(tf.zeros([BATCH, DIM], DTYPE))  # builds networks
        randomize(layer.variables)
        return layer.bijector(cond), layer.trainable_variables
    return build


def _planar(amortised):
    def build():
        rng = np.random.default_rng(3)
        batch = (BATCH,) if amortised else ()
        u = tf.Variable(rng.standard_normal(batch + (DIM,)), name="u")
        w = tf.Variable(rng.standard_normal(batch + (DIM,)), name="w")
        # w.u strongly negative: the u_hat correction is active.
        u.assign(-3.0 * w / tf.norm(w, axis=-1, keepdims=True) + 0.1 * u)
        b = tf.Variable(rng.standard_normal(batch), name="b")
        return bij.Planar(u, w, b), [u, w, b]
    return build


def _diagonal():
    rng = np.random.default_rng(4)
    shift, log_scale = tf.Variable(rng.standard_normal(DIM)), tf.Variable(0.5 * rng.standard_normal(DIM))
    return bij.DiagonalAffine(shift, log_scale), [shift, log_scale]


def _fixed(bijector):
    return lambda: (bijector(), [])


def _kw(**kw):
    return dict(dtype=DTYPE, hidden_units=(16, 16), **kw)


CASES = [
    Case("diagonal_affine", _diagonal, affine=True),
    Case("diagonal_affine_layer", _from_layer(lambda: layers.DiagonalAffineLayer(DIM, dtype=DTYPE)), affine=True),
    Case("lu_linear", _from_layer(lambda: layers.LULinearLayer(DIM, seed=1, dtype=DTYPE)), affine=True),
    Case("reverse", _fixed(bij.Reverse), affine=True),
    Case("permutation", _fixed(lambda: bij.Permutation.random(DIM, seed=2)), affine=True),
    Case("affine_coupling", _from_layer(lambda: layers.CouplingLayer(DIM, bij.Affine(), **_kw())), affine=True),
    Case("affine_coupling_resnet",
         _from_layer(lambda: layers.CouplingLayer(DIM, bij.Affine(), network="resnet", **_kw()))),
    Case("affine_coupling_conditional",
         _from_layer(lambda: layers.CouplingLayer(DIM, bij.Affine(), condition_dim=COND, **_kw()), True)),
    Case("spline_coupling", _from_layer(lambda: layers.CouplingLayer(DIM, bij.RationalQuadratic(6, 3.0), **_kw()))),
    Case("spline_coupling_conditional",
         _from_layer(lambda: layers.CouplingLayer(DIM, bij.RationalQuadratic(), condition_dim=COND, **_kw()), True)),
    Case("maf_affine", _from_layer(lambda: layers.AutoregressiveLayer(DIM, bij.Affine(), **_kw())), affine=True),
    Case("maf_affine_conditional",
         _from_layer(lambda: layers.AutoregressiveLayer(DIM, bij.Affine(), condition_dim=COND, **_kw()), True)),
    Case("maf_spline", _from_layer(lambda: layers.AutoregressiveLayer(DIM, bij.RationalQuadratic(5, 3.0), **_kw()))),
    Case("maf_spline_conditional",
         _from_layer(lambda: layers.AutoregressiveLayer(DIM, bij.RationalQuadratic(), condition_dim=COND, **_kw()), True)),
    Case("softplus", _fixed(bij.Softplus), positive=True),
    Case("exp", _fixed(bij.Exp), positive=True),
    Case("unit_interval", _fixed(lambda: bij.UnitInterval([1, 3])), positive=True, unit=(1, 3)),
    Case("unit_interval_softplus", _fixed(lambda: bij.UnitInterval([0], "softplus")), positive=True, unit=(0,)),
    Case("planar", _planar(amortised=False), invertible=False),
    Case("planar_amortised", _planar(amortised=True), invertible=False),
]

BY_NAME = {case.name: case for case in CASES}

_BUILT = {}


def built(case):
    """(bijector, variables), built once per case."""
    if case.name not in _BUILT:
        _BUILT[case.name] = case.build()
    return _BUILT[case.name]
