"""The one GradientTape training loop used by every trainer.

It knows nothing of flows: it trains ``model`` on ``loss(model, batch,
training)`` (a per-example loss) with one optimizer, or on the phases a loss
declares (an adversarial critic and generator), under any ``tf.distribute``
strategy, with validation, early stopping, best weights restored, checkpoints
that resume, a progress bar and a history.
"""

import time
import warnings
from typing import Any, Callable, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from ..validation import check_finite_array
from .checkpoints import RunState
from .progress import Progress


class Phase(NamedTuple):
    """One update of a train step: ``repeats`` times, minimise the mean of
    ``loss(model, batch, training)`` over ``variables`` with ``optimizer``
    (None: the optimizer given to ``fit``)."""
    name: str
    loss: Callable
    variables: list
    optimizer: Any = None
    repeats: int = 1


def fit(model, loss, data, *, validation_data=None, validation_split=0.0, batch_size=256, epochs=100,
        optimizer=None, learning_rate=1e-3, seed=0, patience=None, min_delta=0.0, min_rel_change=None,
        restore_best=True, jit_compile="auto", strategy=None, checkpoint_dir=None, verbose=True):
    """Trains ``model`` by minimising the mean of ``loss`` over minibatches.

    Args:
      model: a ``keras.Model`` whose ``trainable_variables`` are trained; under
        a strategy it must have been built in ``strategy.scope()``.
      loss: callable ``loss(model, batch, training) -> (batch,)`` per-example
        losses. A loss with a method ``phases(model, optimizer)`` returning
        a list of ``Phase`` is trained phase by phase within each step (e.g.
        several critic updates, then one generator update); the history then
        has a column ``<name>_loss`` per phase, ``loss`` is the first phase's,
        and ``loss(model, batch, training=False)`` is the validation loss.
      data: a NumPy array, a tuple of arrays with a common first dimension,
        or a batched ``tf.data.Dataset`` of tuples (then ``batch_size`` and
        ``validation_split`` do not apply; shuffle it yourself).
      validation_data: like ``data`` (arrays or a batched Dataset).
      validation_split: fraction of the (shuffled) arrays held out for validation.
      batch_size: global batch size (split across replicas).
      epochs: maximum number of epochs.
      optimizer: a Keras optimizer (default Adam(learning_rate)); pass one
        with a schedule, e.g. ``keras.optimizers.Adam(
        keras.optimizers.schedules.PolynomialDecay(1e-3, steps, 1e-4, power=0.5))``.
      seed: seeds the split and the per-epoch shuffling (a resumed run
        shuffles exactly as the uninterrupted one would have).
      patience: stop after this many epochs without an improvement of the
        monitored loss (validation loss if any, else training loss) by more
        than ``min_delta``.
      min_rel_change: stop when |L_t - L_{t-1}| / |L_{t-1}| of the monitored
        loss falls below this (the RR Lyrae paper uses 1e-6).
      restore_best: leave the model with the weights of its best epoch.
      jit_compile: True, False or "auto" (XLA, falling back to plain
        tf.function with a warning where XLA does not compile; XLA is used
        only where a worker drives a single device).
      strategy: a ``tf.distribute.Strategy`` (default: the current one).
      checkpoint_dir: if given, state is saved there after every epoch and a
        run started again with the same arguments resumes from it.
      verbose: show the progress bar.
    Returns:
      A ``History``; ``history.stop_reason`` says why training ended. A
      non-finite loss or gradient rejects that step, stops the run with a
      warning and keeps the best weights so far.
    """
    strategy = strategy or tf.distribute.get_strategy()
    _check_model_in_scope(model, strategy)
    dtype = getattr(model, "compute_dtype", "float32")
    train_source, val_source = _split(data, validation_data, validation_split, seed, dtype)
    with strategy.scope():
        optimizer = optimizer or keras.optimizers.Adam(learning_rate)
        phases = _phases(loss, model, optimizer)
        optimizers = list({id(p.optimizer): p.optimizer for p in phases}.values())
        for opt in optimizers:
            opt.build([v for p in phases if p.optimizer is opt for v in p.variables])
        state = RunState(model, optimizers, checkpoint_dir, strategy)
    history = state.restore()
    progress = Progress(epochs, enabled=verbose)
    if state.epoch:
        progress.message(f"resumed from {checkpoint_dir} after epoch {state.epoch}")

    steps = _Steps(model, loss, phases, strategy, jit_compile)
    stop_reason = None
    for epoch in range(state.epoch, epochs):
        progress.start_epoch(epoch)
        start = time.perf_counter()
        phase_losses, stop_reason = steps.train_epoch(train_source.batches(batch_size, seed, epoch), progress)
        if stop_reason:
            progress.message(stop_reason)
            warnings.warn(stop_reason, RuntimeWarning, stacklevel=2)
            break
        train_loss = phase_losses[0]
        val_loss = None if val_source is None else steps.evaluate(val_source.batches(batch_size))
        monitored = train_loss if val_loss is None else val_loss
        improved = state.record(epoch, monitored, min_delta)
        extra = {f"{p.name}_loss": v for p, v in zip(phases, phase_losses)} if len(phases) > 1 else {}
        history.append(epoch=epoch + 1, loss=train_loss, val_loss=val_loss, **extra,
                       seconds=time.perf_counter() - start, learning_rate=_current_lr(optimizer))
        progress.end_epoch(train_loss, val_loss, "" if improved else f" (best {state.best_loss:.4f})")
        stop_reason = _early_stop(history, state, patience, min_rel_change)
        state.epoch = epoch + 1
        if stop_reason is None and state.epoch == epochs:
            stop_reason = f"reached {epochs} epochs"
        history.best_epoch, history.stop_reason = state.best_epoch, stop_reason
        state.save(history)
        if stop_reason and state.epoch < epochs:
            progress.message(stop_reason)
            break
    if restore_best:
        state.restore_best_weights()
    history.best_epoch, history.stop_reason = state.best_epoch, stop_reason or history.stop_reason
    return history


def _phases(loss, model, optimizer):
    if not hasattr(loss, "phases"):
        return [Phase("loss", loss, model.trainable_variables, optimizer)]
    phases = [p._replace(optimizer=p.optimizer or optimizer) for p in loss.phases(model, optimizer)]
    if not phases or not all(isinstance(p, Phase) for p in phases):
        raise ValueError("loss.phases(model, optimizer) must return a non-empty list of Phase")
    for p in phases:
        if not p.variables or not isinstance(p.repeats, int) or p.repeats < 1:
            raise ValueError(f"phase {p.name!r} needs variables and a positive int of repeats")
    return phases


def _current_lr(optimizer):
    lr = optimizer.learning_rate
    return float(lr.numpy() if hasattr(lr, "numpy") else lr)


def _early_stop(history, state, patience, min_rel_change):
    if patience is not None and state.wait >= patience:
        return f"early stop: no improvement for {patience} epochs"
    monitored = history["val_loss"] if history.rows[-1]["val_loss"] is not None else history["loss"]
    if min_rel_change is not None and len(monitored) >= 2:
        change = abs(monitored[-1] - monitored[-2]) / max(abs(monitored[-2]), 1e-30)
        if change < min_rel_change:
            return f"early stop: relative change {change:.2e} < {min_rel_change:g}"
    return None


def _check_model_in_scope(model, strategy):
    variables = model.trainable_variables
    if not variables:
        raise ValueError("the model has no trainable variables: build it before training")
    underlying = getattr(variables[0], "value", variables[0])  # a Keras variable wraps a tf.Variable
    if strategy is not tf.distribute.get_strategy() and not strategy.extended.variable_created_in_scope(
            underlying):
        raise ValueError("the model's variables were not created in strategy.scope(): "
                         "build the model inside `with strategy.scope():`")


class _ArraySource:
    """Arrays (a tuple) that are shuffled per epoch with a seed derived from it."""

    def __init__(self, arrays):
        self.arrays = arrays
        self.n = len(arrays[0])

    def batches(self, batch_size, seed=None, epoch=0):
        ds = tf.data.Dataset.from_tensor_slices(self.arrays)
        if seed is not None:
            ds = ds.shuffle(self.n, seed=int(seed) * 100003 + epoch, reshuffle_each_iteration=False)
        ds = ds.batch(min(batch_size, self.n), drop_remainder=seed is not None and self.n >= batch_size)
        return _with_data_sharding(ds.prefetch(tf.data.AUTOTUNE))


class _DatasetSource:
    def __init__(self, dataset):
        self.dataset = dataset

    def batches(self, batch_size, seed=None, epoch=0):
        return _with_data_sharding(self.dataset)


def _with_data_sharding(ds):
    # In-memory data has no files to shard: split it by element across workers.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def _as_arrays(data, dtype, name):
    arrays = data if isinstance(data, (tuple, list)) else (data,)
    out = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind not in "fiub":
            raise ValueError(f"{name}[{i}] must hold numbers, got dtype {a.dtype}")
        if a.dtype.kind == "f":
            check_finite_array(a, f"{name}[{i}]")
            a = a.astype(dtype)
        out.append(a)
    if len({len(a) for a in out}) != 1:
        raise ValueError(f"{name} arrays differ in length: {[len(a) for a in out]}")
    if len(out[0]) == 0:
        raise ValueError(f"{name} is empty")
    return tuple(out)


def _split(data, validation_data, validation_split, seed, dtype):
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    if isinstance(data, tf.data.Dataset):
        if validation_split:
            raise ValueError("validation_split needs arrays; with a Dataset give validation_data")
        train = _DatasetSource(data)
    else:
        arrays = _as_arrays(data, dtype, "data")
        if validation_split:
            if validation_data is not None:
                raise ValueError("give validation_data or validation_split, not both")
            order = np.random.default_rng(seed).permutation(len(arrays[0]))
            n_val = max(1, int(round(validation_split * len(order))))
            validation_data = tuple(a[order[:n_val]] for a in arrays)
            arrays = tuple(a[order[n_val:]] for a in arrays)
        train = _ArraySource(arrays)
    if validation_data is None:
        return train, None
    if isinstance(validation_data, tf.data.Dataset):
        return train, _DatasetSource(validation_data)
    return train, _ArraySource(_as_arrays(validation_data, dtype, "validation_data"))


class _Steps:
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
        self._build(jit=jit_compile is not False and single_device)

    def _build(self, jit):
        model, loss, strategy = self.model, self.loss, self.strategy

        def make_gradients(phase):
            def gradients(batch):
                with tf.GradientTape() as tape:
                    per_example = phase.loss(model, batch, training=True)
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

            return tf.function(gradients, jit_compile=True) if jit else gradients

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

        def evaluate(batch):
            per_example = loss(model, batch, training=False)
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

    def train_epoch(self, dataset, progress):
        """Returns (mean loss of each phase, None) or (None, why training stopped)."""
        totals, count = np.zeros(len(self.phases)), 0
        steps = _cardinality(dataset)
        for i, batch in enumerate(self.strategy.experimental_distribute_dataset(dataset)):
            values, finite = self.train_step(batch) if self._verified else self._first_step(batch)
            if not bool(finite):
                return None, (f"non-finite loss or gradient at epoch {progress.epoch + 1}, step {i + 1}: "
                              "the step was rejected and training stopped; the best weights so far are kept")
            totals, count = totals + [float(v) for v in values], count + 1
            progress.step(i + 1, steps, totals[0] / count, _batch_len(batch))
        if count == 0:
            raise ValueError("the training data gave no batch: it is smaller than one batch")
        return [float(t / count) for t in totals], None

    def evaluate(self, dataset):
        total, count = 0.0, 0.0
        for batch in self.strategy.experimental_distribute_dataset(dataset):
            t, c = self.eval_step(batch)
            total, count = total + float(t), count + float(c)
        return total / count


def _cardinality(dataset):
    n = int(dataset.cardinality())
    return n if n > 0 else None


def _batch_len(batch):
    first = tf.nest.flatten(batch)[0]
    values = getattr(first, "values", (first,))
    return int(sum(int(tf.shape(v)[0]) for v in values))
