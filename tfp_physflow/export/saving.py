"""Writing SavedModels atomically, and the pieces every exported module shares:
uniquely named weight copies read through one ``keras.StatelessScope``, and
checks of serving inputs with messages that name the problem."""

import os
import shutil
import tempfile

import keras
import tensorflow as tf


def check_rows(value, dim, name, signature):
    """Asserts ``value`` is (batch, dim) and finite, with messages that name the problem."""
    message = f"{signature}: {name} must have shape (batch, {dim})"
    checks = [tf.debugging.assert_rank(value, 2, message=message),
              tf.debugging.assert_equal(tf.shape(value)[-1], dim, message=message)]
    with tf.control_dependencies(checks):
        return tf.debugging.check_numerics(value, f"{signature}: {name} contains NaN or inf")


def check_count(n, signature):
    with tf.control_dependencies([tf.debugging.assert_non_negative(n, message=f"{signature}: n must be >= 0")]):
        return tf.identity(n)


def weight_copies(models):
    """Uniquely named tf.Variable copies of the models' variables, and a
    function returning the ``keras.StatelessScope`` that reads the copies in
    place of the Keras variables (the one way every signature reads weights)."""
    weights, mapping = [], []
    for m, model in enumerate(models):
        for v in model.variables:
            copy = tf.Variable(v.value, trainable=False, name=f"m{m}." + v.path.replace("/", "."))
            weights.append(copy)
            mapping.append((v, copy))
    return weights, lambda: keras.StatelessScope(state_mapping=mapping)


def save_module(module, path, signatures):
    """``tf.saved_model.save`` into a temporary folder, then an atomic swap into ``path``."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{path} exists and is not a folder: refusing to replace it with a SavedModel")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        tf.saved_model.save(module, tmp, signatures=signatures)
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _swap_in(new, path):
    """Replaces folder ``path`` by ``new``; on failure, the old folder is put back."""
    old = None
    if os.path.exists(path):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.old-", dir=os.path.dirname(path))
        os.rmdir(old)
        os.rename(path, old)
    try:
        os.rename(new, path)
    except OSError:
        if old is not None:
            os.rename(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
