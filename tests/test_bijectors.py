"""Every registered bijector: invertibility and log-det against autodiff, in float64.

TFP's bijector cache would return the very tensor it was given, so every
round trip below feeds a fresh tensor (tf.identity) to the second call.
"""

import numpy as np
import pytest
import tensorflow as tf
from bijector_registry import BATCH, CASES, DIM, Case, built, condition_tensor

from tfp_physflow import bijectors as bij
from tfp_physflow import bijector_layers as layers

INVERTIBLE = [c for c in CASES if c.invertible]


def latent(seed=0):
    return tf.constant(1.5 * np.random.default_rng(seed).standard_normal((BATCH, DIM)))


def data(case, seed=1):
    x = 1.5 * np.random.default_rng(seed).standard_normal((BATCH, DIM))
    if case.positive:
        x = np.exp(x)
        x[:, list(case.unit)] = 1.0 / (1.0 + x[:, list(case.unit)])  # onto (0, 1)
    return tf.constant(x)


def check_roundtrip(b, x, backward=False, atol=1e-9):
    """Asserts g^-1(g(x)) == x (or g(g^-1(y)) == y), single-pass and TFP API alike."""
    first, second = ((b.inverse_and_log_det, b.forward_and_log_det) if backward
                     else (b.forward_and_log_det, b.inverse_and_log_det))
    y, ld_first = first(x)
    x_back, ld_second = second(tf.identity(y))
    np.testing.assert_allclose(x_back, x, atol=atol, rtol=1e-9)
    np.testing.assert_allclose(ld_second, -ld_first, atol=atol, rtol=1e-9)
    tfp_first, tfp_second = (b.inverse, b.forward) if backward else (b.forward, b.inverse)
    np.testing.assert_allclose(tfp_second(tf.identity(tfp_first(x))), x, atol=atol, rtol=1e-9)


def autodiff_log_det(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tf.linalg.slogdet(tape.batch_jacobian(y, x))[1]


@pytest.mark.parametrize("case", INVERTIBLE, ids=lambda c: c.name)
def test_inverse_of_forward_is_identity(case):
    b, _ = built(case)
    check_roundtrip(b, latent())


@pytest.mark.parametrize("case", INVERTIBLE, ids=lambda c: c.name)
def test_forward_of_inverse_is_identity(case):
    b, _ = built(case)
    check_roundtrip(b, data(case), backward=True)


def test_roundtrip_check_catches_a_wrong_inverse():
    class Wrong(bij.FlowBijector):
        def __init__(self):
            super().__init__({}, "wrong")

        def forward_and_log_det(self, x):
            return 2.0 * x, tf.zeros(tf.shape(x)[:-1], x.dtype)

        def inverse_and_log_det(self, y):
            return 0.4 * y, tf.zeros(tf.shape(y)[:-1], y.dtype)

    with pytest.raises(AssertionError):
        check_roundtrip(Wrong(), latent())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_forward_log_det_matches_autodiff_jacobian(case):
    b, _ = built(case)
    x = latent()
    expected = autodiff_log_det(lambda t: b.forward_and_log_det(t)[0], x)
    np.testing.assert_allclose(b.forward_and_log_det(x)[1], expected, atol=1e-8, rtol=1e-8)
    np.testing.assert_allclose(b.forward_log_det_jacobian(tf.identity(x), event_ndims=1), expected,
                               atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("case", INVERTIBLE, ids=lambda c: c.name)
def test_inverse_log_det_matches_autodiff_jacobian(case):
    b, _ = built(case)
    y = data(case)
    expected = autodiff_log_det(lambda t: b.inverse_and_log_det(t)[0], y)
    np.testing.assert_allclose(b.inverse_and_log_det(y)[1], expected, atol=1e-8, rtol=1e-8)
    np.testing.assert_allclose(b.inverse_log_det_jacobian(tf.identity(y), event_ndims=1), expected,
                               atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("case", [c for c in CASES if built(c)[1]], ids=lambda c: c.name)
def test_gradients_are_finite_for_every_variable(case):
    b, variables = built(case)
    x = latent()
    with tf.GradientTape() as tape:
        y, ld = b.forward_and_log_det(x)
        loss = tf.reduce_sum(y ** 2) + tf.reduce_sum(ld)
        if case.invertible:
            z, ld_inv = b.inverse_and_log_det(data(case))
            loss += tf.reduce_sum(z ** 2) + tf.reduce_sum(ld_inv)
    grads = tape.gradient(loss, variables)
    for v, g in zip(variables, grads):
        assert g is not None, f"no gradient reaches {v.name}"
        assert np.all(np.isfinite(tf.convert_to_tensor(g))), f"non-finite gradient for {v.name}"


LAYERS_AT_INIT = {
    "diagonal": lambda: layers.DiagonalAffineLayer(DIM, dtype="float64"),
    "affine_coupling": lambda: layers.CouplingLayer(DIM, bij.Affine(), dtype="float64"),
    "affine_coupling_conditional": lambda: layers.CouplingLayer(DIM, bij.Affine(), condition_dim=3, dtype="float64"),
    "spline_coupling": lambda: layers.CouplingLayer(DIM, bij.RationalQuadratic(), dtype="float64"),
    "maf_affine": lambda: layers.AutoregressiveLayer(DIM, bij.Affine(), dtype="float64"),
    "maf_spline_conditional": lambda: layers.AutoregressiveLayer(DIM, bij.RationalQuadratic(), condition_dim=3, dtype="float64"),
}


@pytest.mark.parametrize("name", LAYERS_AT_INIT)
def test_default_initialisation_is_the_identity(name):
    layer = LAYERS_AT_INIT[name]()
    b = layer.bijector(condition_tensor() if "conditional" in name else None)
    x = latent()
    y, ld = b.forward_and_log_det(x)
    np.testing.assert_allclose(y, x, atol=1e-12)
    np.testing.assert_allclose(ld, 0.0, atol=1e-12)


def test_lu_linear_starts_as_its_permutation():
    layer = layers.LULinearLayer(DIM, seed=3, dtype="float64")
    y, ld = layer.bijector().forward_and_log_det(latent())
    np.testing.assert_allclose(y, tf.gather(latent(), layer.permutation, axis=-1), atol=1e-12)
    np.testing.assert_allclose(ld, 0.0, atol=1e-12)


def test_maf_outputs_depend_only_on_earlier_data_dimensions():
    b, _ = built(next(c for c in CASES if c.name == "maf_affine"))
    y = data(Case("", None))
    with tf.GradientTape() as tape:
        tape.watch(y)
        z = b.inverse_and_log_det(y)[0]
    jac = tape.batch_jacobian(z, y).numpy()
    assert np.all(jac[:, np.triu_indices(DIM, 1)[0], np.triu_indices(DIM, 1)[1]] == 0.0)
    assert np.all(np.abs(jac[:, np.tril_indices(DIM, -1)[0], np.tril_indices(DIM, -1)[1]]).sum() > 0)


def test_conditional_bijectors_use_the_condition():
    for name in ("affine_coupling_conditional", "spline_coupling_conditional", "maf_affine_conditional"):
        b, _ = built(next(c for c in CASES if c.name == name))
        other = type(b)(**{**b.parameters, "condition": condition_tensor(seed=99)})
        assert not np.allclose(b.forward(latent()), other.forward(latent())), name
