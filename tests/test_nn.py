"""Conditioner networks: MADE's autoregressive masks, zero-initialised outputs, configs."""

import numpy as np
import pytest
import tensorflow as tf

from tfp_physflow.nn import MLP, MaskedMLP, ResidualMLP, made_masks


def jacobian(fn, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.batch_jacobian(y, x).numpy()


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("event_dim, hidden", [(1, (8,)), (2, (4, 4)), (5, (16, 16)), (7, (3,))])
def test_made_outputs_for_dimension_i_depend_only_on_inputs_before_i(event_dim, hidden, conditional):
    # tanh: no dead units, so a connection the masks allow shows in the Jacobian.
    net = MaskedMLP(event_dim, 3, hidden, condition_dim=2 if conditional else None,
                    activation="tanh", zero_init_output=False, dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, event_dim))
    cond = tf.ones([4, 2], tf.float64) if conditional else None
    jac = jacobian(lambda t: net(t, cond), x)  # (batch, d, P, d)
    for i in range(event_dim):
        assert np.all(jac[:, i, :, i:] == 0.0), f"dimension {i} sees inputs >= {i}"
    if event_dim > 1 and min(hidden) >= event_dim - 1:
        assert np.any(jac[:, event_dim - 1, :, :event_dim - 1] != 0.0)  # and is not cut off


def test_made_masks_connect_every_hidden_unit_when_wide_enough():
    masks = made_masks(4, (8, 8), 2)
    assert [m.shape for m in masks] == [(4, 8), (8, 8), (8, 8)]
    assert all(m.any(0).all() for m in masks[:-1])


def test_conditional_made_depends_on_the_condition_for_every_dimension():
    net = MaskedMLP(3, 2, (8,), condition_dim=2, zero_init_output=False, dtype="float64")
    x = np.random.default_rng(2).standard_normal((5, 3))
    cond = tf.constant(np.random.default_rng(1).standard_normal((5, 2)))
    jac = jacobian(lambda c: net(tf.constant(x), c), cond)  # (5, 3, 2, 2)
    assert np.all(np.abs(jac).sum(axis=(0, 2, 3)) > 0)


def test_made_with_a_condition_needs_a_hidden_layer():
    with pytest.raises(ValueError, match="hidden layer"):
        MaskedMLP(3, 2, (), condition_dim=2)


@pytest.mark.parametrize("net", [MLP(6, (8, 8)), ResidualMLP(6, 8, 2), MaskedMLP(3, 2, (8,))])
def test_networks_start_with_a_zero_output(net):
    out = net(tf.random.normal([4, 3]))
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize("cls, kwargs", [(MLP, dict(out_dim=4, hidden_units=(5,))),
                                         (ResidualMLP, dict(out_dim=4, hidden_dim=5, num_blocks=3)),
                                         (MaskedMLP, dict(event_dim=3, params_per_dim=2, condition_dim=2))])
def test_networks_round_trip_their_config(cls, kwargs):
    net = cls(**kwargs)
    clone = cls.from_config(net.get_config())
    assert clone.get_config() == net.get_config()
