"""Run state of the training loop and its checkpoints (tf.train.CheckpointManager)."""

import math
import os
import shutil

import tensorflow as tf

from .history import History


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "chief" or (not has_chief and resolver.task_type == "worker"
                                              and resolver.task_id == 0)


class RunState:
    """Epoch, best loss/epoch/weights and patience counter, checkpointed with
    the model and the optimizer so that a killed run resumes where it was.

    Create it inside ``strategy.scope()``. With several workers, every worker
    saves (saving is collective) but only the chief keeps its files.
    """

    def __init__(self, model, optimizers, directory, strategy):
        if directory and os.path.exists(directory) and not os.path.isdir(directory):
            raise ValueError(f"checkpoint_dir {directory!r} is a file, not a folder")
        self.model, self.directory, self.strategy = model, directory, strategy
        self.best = [tf.Variable(tf.identity(v.value), trainable=False, name="best")
                     for v in model.variables]
        self.epoch, self.best_epoch, self.wait, self.best_loss = 0, 0, 0, math.inf
        self._vars = {"epoch": tf.Variable(0, dtype=tf.int64), "best_epoch": tf.Variable(0, dtype=tf.int64),
                      "wait": tf.Variable(0, dtype=tf.int64), "best_loss": tf.Variable(math.inf, dtype=tf.float64)}
        self.manager = None
        if directory:
            self.chief = _is_chief(strategy)
            write_dir = directory if self.chief else os.path.join(
                directory, f".worker-{strategy.cluster_resolver.task_id}")
            optimizers = list(optimizers) if isinstance(optimizers, (list, tuple)) else [optimizers]
            named = {"optimizer" if i == 0 else f"optimizer_{i}": opt for i, opt in enumerate(optimizers)}
            # Every variable by position too: Keras 3 layers kept in Python
            # lists are not all reachable through the model's checkpoint
            # dependencies (the non-trainable ones would be lost).
            ckpt = tf.train.Checkpoint(model=model, weights=list(model.variables), best=self.best, **named,
                                       **self._vars)
            self.manager = tf.train.CheckpointManager(ckpt, write_dir, max_to_keep=2)
            self._ckpt, self._read_dir = ckpt, directory

    def record(self, epoch, monitored, min_delta):
        """Books one epoch's monitored loss; returns True when it is the best so far."""
        if monitored < self.best_loss - min_delta:
            self.best_loss, self.best_epoch, self.wait = monitored, epoch + 1, 0
            for best, v in zip(self.best, self.model.variables):
                best.assign(v.value)
            return True
        self.wait += 1
        return False

    def restore_best_weights(self):
        for best, v in zip(self.best, self.model.variables):
            v.assign(best)

    def restore(self):
        """Loads the latest checkpoint, if any; returns the history so far."""
        if self.manager is None:
            return History()
        latest = tf.train.latest_checkpoint(self._read_dir)
        if latest is None:
            return History()
        try:
            self._ckpt.restore(latest).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as err:
            raise ValueError(f"checkpoint {latest} does not match this model and optimizer "
                             f"(was it written by another run?): {str(err).splitlines()[0]}") from None
        for name, var in self._vars.items():
            setattr(self, name, var.numpy().item())
        path = os.path.join(self.directory, "history.json")
        history = History.load(path) if os.path.exists(path) else History()
        history.rows = [row for row in history.rows if row["epoch"] <= self.epoch]
        return history

    def save(self, history):
        """Writes history.json (atomically) and then a checkpoint of the state."""
        if self.manager is None:
            return
        for name, var in self._vars.items():
            var.assign(getattr(self, name))
        if self.chief:
            os.makedirs(self.directory, exist_ok=True)
            history.save(os.path.join(self.directory, "history.json"))
        self.manager.save(checkpoint_number=self.epoch)
        if not self.chief:
            shutil.rmtree(self.manager.directory, ignore_errors=True)
