"""Training-step speed: our flows against TFP's built-in RealNVP and MAF, in one run.

A step is log_prob, mean negative log-likelihood, gradients and one Adam
update, compiled with tf.function and with XLA; both libraries get the same
Keras 3 conditioner architecture and the same step function. Prints the
median samples per second over timed steps, the first-step (trace and
compile) time, and the ratio of our best mode to TFP's best mode.

    python bench/train_step.py            # the three workloads of the issue
    python bench/train_step.py --quick    # a few steps each, to check it runs
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from tfp_physflow import make_flow  # noqa: E402
from tfp_physflow.nn import MLP, MaskedMLP  # noqa: E402

tfb, tfd = tfp.bijectors, tfp.distributions

WORKLOADS = {
    "realnvp": dict(d=4, c=None, layers=8, hidden=(100,) * 4, batch=1000),
    "maf": dict(d=4, c=None, layers=8, hidden=(200,) * 2, batch=1000),
    "cinn": dict(d=9, c=9, layers=20, hidden=(128,) * 2, batch=512),
}


class TFPFlow(keras.Model):
    """TFP's tfb.RealNVP / tfb.MaskedAutoregressiveFlow chain with Keras 3 networks owned here."""

    def __init__(self, kind, d, c, layers, hidden):
        super().__init__()
        self.kind, self.d, self.c = kind, d, c
        if kind == "maf":
            self.nets = [MaskedMLP(d, 2, hidden) for _ in range(layers)]
        else:
            self.nets = [MLP(2 * (d - d // 2), hidden) for _ in range(layers)]
        for net in self.nets:  # build
            net(tf.zeros([1, d])) if kind == "maf" else net(tf.zeros([1, d // 2 + (c or 0)]))

    def _bijector(self, condition):
        blocks = []
        for i, net in enumerate(self.nets):
            if self.kind == "maf":
                def fn(x, net=net):
                    out = net(x)
                    return out[..., 0], out[..., 1]
                blocks.append(tfb.MaskedAutoregressiveFlow(shift_and_log_scale_fn=fn, name=f"b{i}"))
            else:
                def fn(x0, units, net=net):
                    if condition is not None:
                        x0 = tf.concat([x0, condition], -1)
                    out = tf.reshape(net(x0), tf.concat([tf.shape(x0)[:-1], [units, 2]], 0))
                    return out[..., 0], out[..., 1]
                blocks.append(tfb.RealNVP(num_masked=self.d // 2, shift_and_log_scale_fn=fn, name=f"b{i}"))
            if i < len(self.nets) - 1:
                blocks.append(tfb.Permute(list(range(self.d))[::-1]))
        return tfb.Chain(blocks[::-1])

    def log_prob(self, x, condition=None):
        base = tfd.MultivariateNormalDiag(tf.zeros([self.d]))
        return tfd.TransformedDistribution(base, self._bijector(condition)).log_prob(x)


def make_step(model, optimizer, jit):
    @tf.function(jit_compile=jit)
    def step(x, condition):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.log_prob(x, condition))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss
    return step


def measure(model, spec, jit, steps, repeats):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((spec["batch"], spec["d"])), tf.float32)
    cond = None if spec["c"] is None else tf.constant(rng.standard_normal((spec["batch"], spec["c"])), tf.float32)
    optimizer = keras.optimizers.Adam(1e-4)
    optimizer.build(model.trainable_variables)
    step = make_step(model, optimizer, jit)
    start = time.perf_counter()
    loss = step(x, cond)
    first = time.perf_counter() - start
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            loss = step(x, cond)
        float(loss)
        rates.append(steps * spec["batch"] / (time.perf_counter() - start))
    return statistics.median(rates), first, float(loss)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 timed steps x 1 repeat per mode")
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    args = parser.parse_args()
    steps, repeats = (2, 1) if args.quick else (20, 5)
    print(f"{'workload':9} {'library':12} {'mode':12} {'samples/s':>12} {'first step':>11} {'loss':>9}")
    for name in args.workloads:
        spec = WORKLOADS[name]
        best = {}
        for library in ("tfp", "tfp_physflow"):
            for jit in (False, True):
                keras.utils.set_random_seed(0)
                if library == "tfp":
                    model = TFPFlow("maf" if name == "maf" else "realnvp", spec["d"], spec["c"], spec["layers"],
                                    spec["hidden"])
                else:
                    model = make_flow(name, spec["d"], spec["c"], num_layers=spec["layers"],
                                      hidden_units=spec["hidden"])
                rate, first, loss = measure(model, spec, jit, steps, repeats)
                mode = "XLA" if jit else "tf.function"
                print(f"{name:9} {library:12} {mode:12} {rate:12,.0f} {first:10.1f}s {loss:9.3f}", flush=True)
                if np.isfinite(loss):
                    best[library] = max(best.get(library, 0.0), rate)
        ratio = best.get("tfp_physflow", 0.0) / best["tfp"] if best.get("tfp") else float("nan")
        print(f"{name:9} ratio ours/TFP (best finite mode each): {ratio:.2f}x\n", flush=True)


if __name__ == "__main__":
    main()
