"""Numerical guards keep values and gradients finite where the naive math would not."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_physflow import bijectors as bij
from tfp_physflow.bijectors.planar import _safe_squared_norm
from tfp_physflow.bijectors.splines import rational_quadratic
from tfp_physflow.bijectors.transformers import soft_clamp


def value_and_grad(fn, *args):
    args = [tf.constant(a, tf.float64) for a in args]
    with tf.GradientTape() as tape:
        tape.watch(args)
        out = fn(*args)
    return out, tape.gradient(out, args)


def all_finite(*tensors):
    return all(np.all(np.isfinite(np.asarray(t))) for t in tensors)


def test_soft_clamp_bounds_the_log_scale_with_finite_gradients():
    s = np.array([-1e300, -1e6, -2.0, 0.0, 1e-3, 2.0, 1e6, 1e300])
    out, (grad,) = value_and_grad(lambda t: soft_clamp(t, 2.0), s)
    assert np.all(np.abs(out) <= 2.0) and all_finite(out, grad)
    np.testing.assert_allclose(out[4], 1e-3, rtol=1e-6)  # the identity near zero


def test_planar_with_zero_w_is_finite_and_has_finite_gradients():
    assert _safe_squared_norm(tf.zeros([1, 3], tf.float64)).numpy().item() > 0
    z = np.random.default_rng(0).standard_normal((4, 3))

    def fn(u, w, b, x):
        y, ld = bij.Planar(u, w, b).forward_and_log_det(x)
        return tf.reduce_sum(y) + tf.reduce_sum(ld)

    out, grads = value_and_grad(fn, [1.0, -2.0, 0.5], [0.0, 0.0, 0.0], 0.3, z)
    assert all_finite(out, *grads)


def test_planar_log_det_stays_finite_for_strongly_opposed_u_and_w():
    w = np.array([1.0, 2.0, -1.0])
    u = -1e3 * w  # w.u << -1: without u_hat the map would fold over
    y, ld = bij.Planar(u, w, 0.0).forward_and_log_det(tf.constant(np.zeros((2, 3))))
    assert all_finite(y, ld)


@pytest.mark.parametrize("inverse", [False, True])
def test_spline_gradients_are_finite_far_outside_and_at_the_bound(inverse):
    raw = np.random.default_rng(1).standard_normal((5, 3 * 6 - 1))
    x = np.array([-1e30, -3.0, 0.0, 3.0, 1e30])

    def fn(x_, raw_):
        y, ld = rational_quadratic(x_, raw_, 3.0, inverse)
        return tf.reduce_sum(y) + tf.reduce_sum(ld)

    out, (gx, graw) = value_and_grad(fn, x, raw)
    assert all_finite(out, gx, graw)
    np.testing.assert_array_equal(graw.numpy()[[0, 4]], 0.0)  # the tails ignore the parameters


def test_softplus_inverse_is_accurate_and_finite_near_zero_and_far_out():
    y = np.array([[1e-300, 1e-8, 1.0, 50.0, 1e6]])
    out, (grad,) = value_and_grad(lambda t: tf.reduce_sum(bij.Softplus().inverse_and_log_det(t)[0]), y)
    assert all_finite(out, grad)
    x = bij.Softplus().inverse(tf.constant(y)).numpy()
    np.testing.assert_allclose(np.logaddexp(0.0, x), y, rtol=1e-12)


# Each constructor ValueError, triggered.
@pytest.mark.parametrize("make, message", [
    (lambda: bij.Permutation([0, 0, 1]), "permutation"),
    (lambda: bij.SplineCoupling(lambda t: t, 1, num_bins=1), "num_bins"),
    (lambda: bij.SplineCoupling(lambda t: t, 1, bound=0.0), "bound"),
    (lambda: bij.AffineCoupling(lambda t: t, 0), "num_fixed"),
    (lambda: bij.MaskedAutoregressive(lambda t, c: t, transformer="cubic"), "transformer"),
    (lambda: bij.Coupling(lambda t: t, 1, transformer=None), "transformer"),
    (lambda: bij.Affine(clamp=0.0), "clamp"),
    (lambda: bij.RationalQuadratic(num_bins=1), "num_bins"),
    (lambda: bij.DiagonalAffine(tf.zeros([2], tf.float32), tf.zeros([2], tf.float64)), "dtype"),
])
def test_bijector_constructors_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_planar_says_clearly_that_it_has_no_inverse():
    with pytest.raises(NotImplementedError, match="no closed-form inverse"):
        bij.Planar([1.0, 0.0], [0.5, 0.5], 0.0).inverse(tf.zeros([2, 2]))
