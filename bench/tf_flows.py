"""The TensorFlow side of the benchmark: our flows and TFP's built-ins on one workload.

Both libraries get the same Keras 3 conditioner networks (ours, from
``tfp_physflow.nn``) and the same step function; only the bijectors differ.
TFP's are ``tfb.RealNVP`` (affine, or with ``tfb.RationalQuadraticSpline``)
and ``tfb.MaskedAutoregressiveFlow``, chained with ``tfb.Permute``.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfp_physflow import make_flow
from tfp_physflow.nn import MLP, MaskedMLP
from workloads import SAMPLES, conditioner_widths, params_per_dim, task_size

tfb, tfd = tfp.bijectors, tfp.distributions
MODES = {"tf.function": False, "XLA": True}


class TFPFlow(keras.Model):
    """TFP's built-in bijectors over Keras 3 conditioners, for one workload spec."""

    def __init__(self, spec):
        super().__init__()
        self.spec, d, c = spec, spec["d"], spec["c"] or 0
        per_dim = params_per_dim(spec)
        if spec["kind"] == "maf":
            self.nets = [MaskedMLP(d, per_dim, spec["hidden"]) for _ in range(spec["layers"])]
        else:
            self.nets = [MLP((d - d // 2) * per_dim, spec["hidden"]) for _ in range(spec["layers"])]
        for net in self.nets:
            net(tf.zeros([1, d if spec["kind"] == "maf" else d // 2 + c]))

    def _block(self, net, condition, name):
        spec = self.spec
        if spec["kind"] == "maf":
            def shift_and_log_scale(x):
                out = net(x)
                return out[..., 0], out[..., 1]
            return tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=shift_and_log_scale, name=name)

        def conditioner_output(x0, units):
            if condition is not None:
                x0 = tf.concat([x0, condition], -1)
            return tf.reshape(net(x0), tf.concat([tf.shape(x0)[:-1], [units, params_per_dim(spec)]], 0))

        if spec["kind"] == "nsf":
            bins, bound = spec["bins"], spec["bound"]

            def spline(x0, units):
                out = conditioner_output(x0, units)
                return tfb.RationalQuadraticSpline(
                    bin_widths=tf.nn.softmax(out[..., :bins]) * (2 * bound - bins * 1e-3) + 1e-3,
                    bin_heights=tf.nn.softmax(out[..., bins:2 * bins]) * (2 * bound - bins * 1e-3) + 1e-3,
                    knot_slopes=tf.nn.softplus(out[..., 2 * bins:]) + 1e-3, range_min=-bound)
            return tfb.RealNVP(num_masked=spec["d"] // 2, bijector_fn=spline, name=name)

        def shift_and_log_scale(x0, units):
            out = conditioner_output(x0, units)
            return out[..., 0], out[..., 1]
        return tfb.RealNVP(num_masked=spec["d"] // 2, shift_and_log_scale_fn=shift_and_log_scale, name=name)

    def distribution(self, condition=None):
        d, blocks = self.spec["d"], []
        for i, net in enumerate(self.nets):
            blocks.append(self._block(net, condition, f"b{i}"))
            if i < len(self.nets) - 1:
                blocks.append(tfb.Permute(list(range(d))[::-1]))
        return tfd.TransformedDistribution(tfd.MultivariateNormalDiag(tf.zeros([d])), tfb.Chain(blocks[::-1]))

    def log_prob(self, x, condition=None):
        return self.distribution(condition).log_prob(x)

    def sample(self, n, condition=None):
        return self.distribution(condition).sample(n)


class DenseBound(keras.Model):
    """The workload's conditioner networks alone, chained as a flow chains its
    layers: no transformer, each network's input its own fixed tensor plus
    the mean of the previous network's output (one broadcast add). Its train
    step (forward, the gradients back through the chain and to the weights,
    Adam) is the dense work every library must do, in the order a flow must
    do it, so its rate bounds what this TensorFlow's matmul kernels allow a
    flow.

    Why chained: with independent inputs TensorFlow's executor ran the
    networks concurrently on both cores, which no flow's layers can do, and
    the ceiling read ~25 % above what a chain reaches (docs/design.md,
    "Measured pitfalls")."""

    def __init__(self, spec):
        super().__init__()
        widths = conditioner_widths(spec)
        self.inputs_ = [tf.random.normal([spec["batch"], widths[0]]) for _ in range(spec["layers"])]
        self.nets = [MLP(widths[-1], widths[1:-1]) for _ in range(spec["layers"])]
        for net in self.nets:
            net(tf.zeros([1, widths[0]]))

    def chain_outputs(self):
        """Each network's output, in chain order."""
        outs, carry = [], 0.0
        for net, h in zip(self.nets, self.inputs_):
            # Input gradients flow through the carry, as a flow's do through its
            # layers; the first network's input is data, with no gradient, as in a flow.
            outs.append(net(h + carry))
            carry = tf.reduce_mean(outs[-1], -1, keepdims=True)
        return outs

    def log_prob(self, x, condition=None):
        # x is unused: the inputs are fixed tensors of the workload's batch.
        return tf.add_n([tf.reduce_sum(out, -1) for out in self.chain_outputs()])


LIBRARIES = ("tfp", "ours")
BOUND = "dense only"  # the DenseBound rows' library name: a ceiling, not a peer


def build(library, spec):
    """A fresh model of ``library`` ("ours", "tfp" or BOUND) for a workload, seeded alike."""
    keras.utils.set_random_seed(0)
    if library == "tfp":
        return TFPFlow(spec)
    if library == BOUND:
        return DenseBound(spec)
    return make_flow(spec["kind"], spec["d"], spec["c"], num_layers=spec["layers"], hidden_units=spec["hidden"],
                     num_bins=spec.get("bins", 8), bound=spec.get("bound", 4.0))


def task_call(library, model, spec, task, jit):
    """A no-argument callable doing one timed call of ``task``, and its sync function."""
    rng = np.random.default_rng(0)
    size = task_size(spec, task) if task != "log_prob" else spec["batch"]
    x = tf.constant(rng.standard_normal((size, spec["d"])), tf.float32)
    cond = None if spec["c"] is None else tf.constant(rng.standard_normal((size, spec["c"])), tf.float32)
    if task == "train":
        optimizer = keras.optimizers.Adam(1e-4)
        optimizer.build(model.trainable_variables)
        variables = model.trainable_variables

        @tf.function(jit_compile=jit)
        def step(x, condition):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(model.log_prob(x, condition))
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss
        return (lambda: step(x, cond)), float

    if task == "log_prob":
        log_prob = tf.function(model.log_prob, jit_compile=jit)
        batches = spec["points"] // spec["batch"]
        return (lambda: [log_prob(x, cond) for _ in range(batches)]), (lambda out: float(out[-1][0]))

    # sample: SAMPLES draws; one per condition when conditional.
    if cond is None:
        draw = tf.function(lambda: model.sample(SAMPLES), jit_compile=jit)
        return draw, (lambda out: float(tf.reduce_mean(out)))
    draw = tf.function(lambda c: model.sample(1 if library == "ours" else SAMPLES, c), jit_compile=jit)
    return (lambda: draw(cond)), (lambda out: float(tf.reduce_mean(out)))
