"""The one GradientTape training loop used by every trainer.

It knows nothing of flows: it trains ``model`` on ``loss(model, batch,
training)`` (a per-example loss) with one optimizer, or on the phases a loss
declares (an adversarial critic and generator), under any ``tf.distribute``
strategy, with validation, early stopping, best weights restored, checkpoints
that resume, a progress bar and a history. Its parts: ``data`` (sources),
``phases``, ``steps`` (compiled steps), ``checkpoints``, ``history``, ``progress``.
"""

import time
import warnings

import keras
import tensorflow as tf

from .arguments import check_fit_arguments
from .callbacks import Callbacks
from .checkpoints import RunState
from .data import split_sources
from .phases import resolve_phases
from .progress import Progress
from .steps import CompiledSteps


def fit(model, loss, data, *, validation_data=None, validation_split=0.0, batch_size=256, epochs=100,
        optimizer=None, learning_rate=1e-3, seed=0, patience=None, min_delta=0.0, min_rel_change=None,
        restore_best=True, jit_compile="auto", strategy=None, checkpoint_dir=None, callbacks=None, verbose=True):
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
        One built with ``use_ema=True`` leaves the model with the moving
        average of its weights at the end, as in Keras's ``fit`` (the best
        epoch's weights instead with ``restore_best``).
      seed: seeds the split and the per-epoch shuffling (a resumed run
        shuffles exactly as the uninterrupted one would have). Known bug:
        the shuffle also reads TensorFlow's global seed, so the same seed
        shuffles differently after ``tf.random.set_seed`` or
        ``keras.utils.set_random_seed`` (docs/design.md, "Measured pitfalls").
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
      callbacks: ``keras.callbacks.Callback`` objects (TensorBoard, CSVLogger,
        EarlyStopping, ReduceLROnPlateau, TerminateOnNaN, your own), called at
        Keras's hooks with logs ``loss``, ``val_loss``, ``<phase>_loss`` and
        ``learning_rate`` (``train.callbacks``); ``model.stop_training`` ends the
        run. A resumed run calls them from the epoch it resumes at; their own
        state (an EarlyStopping's wait) is not checkpointed.
      verbose: show the progress bar.
    Returns:
      A ``History``; ``history.stop_reason`` says why training ended. A
      non-finite loss or gradient rejects that step, stops the run with a
      warning and keeps the best weights so far.
    """
    check_fit_arguments(batch_size, epochs, learning_rate, optimizer, patience, min_delta, min_rel_change)
    strategy = strategy or tf.distribute.get_strategy()
    _check_model_in_scope(model, strategy)
    hooks = Callbacks(callbacks, model, epochs)
    dtype = getattr(model, "compute_dtype", "float32")
    train_source, val_source = split_sources(data, validation_data, validation_split, seed, dtype)
    with strategy.scope():
        optimizer = optimizer or keras.optimizers.Adam(learning_rate)
        phases = resolve_phases(loss, model, optimizer)
        optimizers = list({id(p.optimizer): p.optimizer for p in phases}.values())
        for opt in optimizers:
            opt.build([v for p in phases if p.optimizer is opt for v in p.variables])
        state = RunState(model, optimizers, checkpoint_dir, strategy)
    history = state.restore()
    progress = Progress(epochs, enabled=verbose)
    if state.epoch:
        progress.message(f"resumed from {checkpoint_dir} after epoch {state.epoch}")

    steps = CompiledSteps(model, loss, phases, strategy, jit_compile)
    with hooks.attached(optimizers[0]):
        stop_reason = _epochs(steps, phases, optimizer, state, history, progress, hooks, train_source,
                              val_source, batch_size, seed, epochs, min_delta, patience, min_rel_change)
        for opt in optimizers:  # as Keras's own fit: an optimizer with use_ema leaves its moving average
            if opt.use_ema and history.rows:
                opt.finalize_variable_values([v for p in phases if p.optimizer is opt for v in p.variables])
        hooks.list.on_train_end(dict(history.rows[-1]) if history.rows else {})
    if restore_best or not _all_finite(model.variables):  # never leave NaN weights behind
        state.restore_best_weights()
    history.best_epoch, history.stop_reason = state.best_epoch, stop_reason or history.stop_reason
    return history


def _epochs(steps, phases, optimizer, state, history, progress, hooks, train_source, val_source, batch_size,
            seed, epochs, min_delta, patience, min_rel_change):
    """The epochs from ``state.epoch`` on; returns why they ended (None: a resumed run had ended already)."""
    stop_reason = None
    hooks.list.on_train_begin()
    for epoch in range(state.epoch, epochs):
        progress.start_epoch(epoch)
        hooks.list.on_epoch_begin(epoch)
        start = time.perf_counter()
        phase_losses, stop_reason = steps.train_epoch(train_source.batches(batch_size, seed, epoch), progress, hooks)
        if stop_reason:
            progress.message(stop_reason)
            warnings.warn(stop_reason, RuntimeWarning, stacklevel=3)
            break
        if not _all_finite(steps.model.variables):
            stop_reason = (f"the weights became non-finite in epoch {epoch + 1} (is the learning rate too large?): "
                           "training stopped; the best weights so far are kept")
            progress.message(stop_reason)
            warnings.warn(stop_reason, RuntimeWarning, stacklevel=3)
            break
        train_loss = phase_losses[0]
        val_loss = None if val_source is None else steps.evaluate(val_source.batches(batch_size))
        monitored = train_loss if val_loss is None else val_loss
        improved = state.record(epoch, monitored, min_delta)
        extra = {f"{p.name}_loss": v for p, v in zip(phases, phase_losses)} if len(phases) > 1 else {}
        learning_rate = _current_lr(optimizer)
        history.append(epoch=epoch + 1, loss=train_loss, val_loss=val_loss, **extra,
                       seconds=time.perf_counter() - start, learning_rate=learning_rate)
        progress.end_epoch(train_loss, val_loss, "" if improved else f" (best {state.best_loss:.4f})")
        logs = {"loss": train_loss, **({} if val_loss is None else {"val_loss": val_loss}), **extra,
                "learning_rate": learning_rate}
        hooks.list.on_epoch_end(epoch, logs)
        stop_reason = _early_stop(history, state, patience, min_rel_change)
        if stop_reason is None and hooks.stop_training:
            stop_reason = "stopped by a callback (model.stop_training)"
        state.epoch = epoch + 1
        if stop_reason is None and state.epoch == epochs:
            stop_reason = f"reached {epochs} epochs"
        history.best_epoch, history.stop_reason = state.best_epoch, stop_reason
        state.save(history)
        if stop_reason and state.epoch < epochs:
            progress.message(stop_reason)
            break
    return stop_reason


def _all_finite(variables):
    return all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in variables if tf.as_dtype(v.dtype).is_floating)


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
