"""The compiled train and evaluation steps of the loop: XLA where it compiles, any strategy, guarded updates."""

import warnings

import numpy as np
import tensorflow as tf

from .data import release_in_background


class CompiledSteps:
    """The compiled train and evaluation steps, under one strategy."""

    def __init__(self, model, loss, phases, strategy, jit_compile):
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}")
        self.model, self.loss, self.phases, self.strategy = model, loss, phases, strategy
        self.jit_compile = jit_compile
        self._verified = jit_compile != "auto"  # until one step has run
        # One XLA trace cannot serve variables on several local devices (XLA
        # known issue "tf.Variable on a different device"): XLA per worker
        # only when the worker drives one device.
        single_device = (strategy is tf.distribute.get_strategy()
                         or len(strategy.extended.worker_devices) == 1)
        if jit_compile is True and not single_device:
            raise ValueError("jit_compile=True needs one device per worker; use 'auto' or False")
        self.single_device = single_device
        self._build(jit=jit_compile is not False and single_device)

    def _build(self, jit):
        model, loss, strategy = self.model, self.loss, self.strategy

        def make_gradients(phase):
            phase_loss = _as_written(phase.loss)

            def gradients(batch):
                with tf.GradientTape() as tape:
                    per_example = phase_loss(model, batch, training=True)
                    # Mean over the GLOBAL batch: the optimizer sums gradients over replicas.
                    global_size = tf.cast(tf.shape(per_example)[0] * strategy.num_replicas_in_sync,
                                          per_example.dtype)
                    value = tf.reduce_sum(per_example) / global_size
                grads = tape.gradient(value, phase.variables)
                missing = [v.name for v, g in zip(phase.variables, grads) if g is None]
                if missing:
                    raise ValueError(f"the loss of phase {phase.name!r} gives no gradient to variables {missing}")
                finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in grads])
                bad = tf.cast(tf.logical_not(tf.logical_and(finite, tf.math.is_finite(value))), tf.int32)
                return value, grads, bad

            # On one device, a function of its own, traced once however often a step repeats the
            # phase (a critic phase of 5 repeats would otherwise be traced 5 times). Not under a
            # multi-device strategy: a variable update inside the loss (the critic's power
            # iteration) needs a merge_call, which a nested tf.function does not allow.
            return tf.function(gradients, jit_compile=jit) if self.single_device else gradients

        def make_update(phase):
            def apply(grads):
                phase.optimizer.apply_gradients(zip(grads, phase.variables))

            def guarded_update(distribution, grads, bad, earlier_bad):
                # In cross-replica context (a merge_call, as Keras's loss-scale
                # optimizer does): a cond whose branch calls the optimizer's own
                # merge_call is not allowed in replica context. An update is
                # also skipped once an earlier update of the same step was
                # rejected: the step is then dropped as a whole.
                total_bad = distribution.reduce(tf.distribute.ReduceOp.SUM, bad, axis=None)
                earlier = distribution.reduce(tf.distribute.ReduceOp.SUM, earlier_bad, axis=None)
                tf.cond(tf.equal(total_bad + earlier, 0),
                        lambda: distribution.extended.call_for_each_replica(apply, args=(grads,)), lambda: None)
                return total_bad

            return guarded_update

        compiled = [(phase, make_gradients(phase), make_update(phase)) for phase in self.phases]

        def replica_step(batch):
            values, total_bad = [], tf.constant(0)
            for phase, compute, update in compiled:
                value = 0.0
                for _ in range(phase.repeats):
                    v, grads, bad = compute(batch)
                    total_bad += tf.distribute.get_replica_context().merge_call(update, args=(grads, bad, total_bad))
                    value += v / phase.repeats
                values.append(value)
            return tuple(values), total_bad

        @tf.function(reduce_retracing=True)  # a last, smaller batch must not retrace
        def train_step(batch):
            values, total_bad = strategy.run(replica_step, args=(batch,))
            all_finite = tf.equal(strategy.experimental_local_results(total_bad)[0], 0)
            return [strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for v in values], all_finite

        eval_loss = _as_written(loss)

        def evaluate(batch):
            per_example = eval_loss(model, batch, training=False)
            return tf.reduce_sum(per_example), tf.cast(tf.size(per_example), per_example.dtype)

        @tf.function(reduce_retracing=True)
        def eval_step(batch):
            total, count = strategy.run(evaluate, args=(batch,))
            return (strategy.reduce(tf.distribute.ReduceOp.SUM, total, axis=None),
                    strategy.reduce(tf.distribute.ReduceOp.SUM, count, axis=None))

        self.train_step, self.eval_step = train_step, eval_step

    def _first_step(self, batch):
        """Runs the first step; with jit_compile="auto", falls back from XLA."""
        self._verified = True
        try:
            return self.train_step(batch)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as err:
            if self.jit_compile != "auto" or "XLA" not in str(err) and "jit" not in str(err).lower():
                raise
            warnings.warn(f"XLA did not compile this step ({str(err).splitlines()[0][:200]}); "
                          "using tf.function without XLA", RuntimeWarning, stacklevel=3)
            self.jit_compile = False
            self._build(jit=False)
            return self.train_step(batch)

    def train_epoch(self, dataset, progress, hooks):
        """Returns (mean loss of each phase, None) or (None, why training stopped). ``hooks``
        (``train.callbacks.Callbacks``) get the batch hooks; its ``stop_training`` ends the epoch."""
        totals, count = np.zeros(len(self.phases)), 0
        steps = _cardinality(dataset)
        batches = iter(self.strategy.experimental_distribute_dataset(dataset))
        for i, batch in enumerate(batches):
            hooks.list.on_train_batch_begin(i)
            values, finite = self.train_step(batch) if self._verified else self._first_step(batch)
            if not bool(finite):
                return None, (f"non-finite loss or gradient at epoch {progress.epoch + 1}, step {i + 1}: "
                              "the step was rejected and training stopped; the best weights so far are kept")
            totals, count = totals + [float(v) for v in values], count + 1
            progress.step(i + 1, steps, totals[0] / count, _batch_len(batch))
            hooks.list.on_train_batch_end(i, {"loss": float(totals[0] / count)})
            if hooks.stop_training:
                break
        release_in_background(batches)
        if count == 0:
            raise ValueError("the training data gave no batch: it is smaller than one batch")
        return [float(t / count) for t in totals], None

    def evaluate(self, dataset):
        batches = self.strategy.experimental_distribute_dataset(dataset)
        # Traced once for the dataset's own spec: its batch size is unknown
        # when a last, smaller batch follows the full ones, which would
        # otherwise trace the step a second time.
        self.eval_step.get_concrete_function(batches.element_spec)
        total, count, iterator = 0.0, 0.0, iter(batches)
        for batch in iterator:
            t, c = self.eval_step(batch)
            total, count = total + float(t), count + float(c)
        release_in_background(iterator)
        return total / count


def _as_written(loss):
    """``loss``, traced without AutoGraph if it is one of ours; anyone else's keeps AutoGraph.

    Why: AutoGraph converted all the model code a loss calls (flows, bijectors,
    circuits) once per process, before the first trace: a 2-epoch fit of an nsf
    flow in a new process spent 3.9-4.4 s in AutoGraph's transform, 0.6-0.8 s
    without (under cProfile), with bit-identical weights, as our model code has
    no Python control flow on tensors. A user's own loss keeps Keras's behaviour.
    """
    if (getattr(loss, "__module__", None) or "").startswith("tfp_physflow."):
        return tf.autograph.experimental.do_not_convert(loss)
    return loss


def _cardinality(dataset):
    n = int(dataset.cardinality())
    return n if n > 0 else None


def _batch_len(batch):
    first = tf.nest.flatten(batch)[0]
    values = getattr(first, "values", (first,))
    return int(sum(int(tf.shape(v)[0]) for v in values))
