"""Property tests over random and extreme inputs (hypothesis)."""

import numpy as np
import tensorflow as tf
from bijector_registry import BATCH, BY_NAME, DIM, built
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

AFFINE = [name for name, case in BY_NAME.items() if case.affine]
SPLINES = {"spline_coupling": 3.0, "maf_spline": 3.0}

finite = dict(allow_nan=False, allow_infinity=False)


def big_inputs(limit):
    return arrays(np.float64, (BATCH, DIM), elements=st.floats(-limit, limit, **finite))


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(AFFINE), x=big_inputs(1e3))
def test_affine_bijectors_invert_inputs_up_to_1e3(name, x):
    b, _ = built(BY_NAME[name])
    x = tf.constant(x)
    y, ld = b.forward_and_log_det(x)
    x_back, ld_back = b.inverse_and_log_det(tf.identity(y))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(ld))
    np.testing.assert_allclose(x_back, x, rtol=1e-9, atol=1e-9 * np.abs(x).max() + 1e-12)
    np.testing.assert_allclose(ld_back, -ld, rtol=1e-9, atol=1e-9)


def far_or_near():
    """Values inside the spline's bound and far outside it (up to 1e12)."""
    return st.one_of(st.floats(-3.5, 3.5, **finite), st.floats(3.0, 1e12, **finite),
                     st.floats(-1e12, -3.0, **finite))


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(SPLINES)),
       x=arrays(np.float64, (BATCH, DIM), elements=far_or_near()))
def test_spline_tails_are_exactly_the_identity_and_invertible(name, x):
    b, _ = built(BY_NAME[name])
    bound = SPLINES[name]
    for first, second in ((b.forward_and_log_det, b.inverse_and_log_det),
                          (b.inverse_and_log_det, b.forward_and_log_det)):
        y, ld = first(tf.constant(x))
        y, ld = y.numpy(), ld.numpy()
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(ld))
        outside = np.abs(x) >= bound
        assert np.array_equal(y[outside], x[outside]), "tails must be exactly the identity"
        rows_outside = outside.all(-1)
        assert np.all(ld[rows_outside] == 0.0)
        x_back = second(tf.identity(tf.constant(y)))[0].numpy()
        # Inside: relative to the row's largest input, as a conditioner fed
        # |x| ~ 1e4 or more gives extreme (steep, narrow) bins whose inverse
        # loses digits in proportion; tails: bit-exact.
        scale = np.maximum(1.0, np.abs(x).max(-1, keepdims=True))
        assert np.all(np.abs(x_back - x) <= 1e-9 * scale), np.abs(x_back - x).max()
        assert np.array_equal(x_back[outside], x[outside])


def test_splines_are_exact_at_the_bound_and_at_the_knots():
    b, _ = built(BY_NAME["maf_spline"])
    edges = np.array([-3.0, 3.0, np.nextafter(3.0, 0), np.nextafter(-3.0, 0), 0.0])
    x = tf.constant(np.resize(edges, (BATCH, DIM)))
    y, ld = b.forward_and_log_det(x)
    assert np.all(np.isfinite(ld))
    np.testing.assert_allclose(b.inverse(tf.identity(y)), x, atol=1e-12)
    # The spline maps the interval onto itself: +-bound are fixed points.
    np.testing.assert_array_equal(np.abs(y.numpy()[np.abs(x.numpy()) == 3.0]), 3.0)
