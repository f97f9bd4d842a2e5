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
    """``tf.saved_model.save`` into a temporary folder, then an atomic swap into ``path``.

    Only a SavedModel or an empty folder is replaced: a folder holding anything
    else (a training run, data) is refused before anything is written. The
    temporary folders of an export that was killed are removed by the next
    export to the same path.
    """
    path = os.path.abspath(os.fspath(path))
    check_replaceable(path)
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    _remove_leftovers(path)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-{os.getpid()}-", dir=parent)
    try:
        tf.saved_model.save(module, tmp, signatures=signatures)
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def check_replaceable(path):
    """Raises ValueError unless ``path`` is new, an empty folder or a SavedModel folder."""
    if not os.path.exists(path):
        return
    if not os.path.isdir(path):
        raise ValueError(f"{path} exists and is not a folder: refusing to replace it with a SavedModel")
    entries = os.listdir(path)
    if entries and "saved_model.pb" not in entries:
        raise ValueError(f"{path} is a folder that is not a SavedModel (it holds {', '.join(sorted(entries)[:3])}"
                         f"{', ...' if len(entries) > 3 else ''}): refusing to replace it; choose a new folder")


def _remove_leftovers(path):
    """Removes the temporary folders that a killed export to ``path`` left behind (their process is gone)."""
    parent, base = os.path.dirname(path), os.path.basename(path)
    for name in os.listdir(parent):
        for kind in ("tmp", "old"):
            prefix = f".{base}.{kind}-"
            pid = name[len(prefix):].split("-")[0] if name.startswith(prefix) else ""
            if pid.isdigit() and not _alive(int(pid)) and (kind == "tmp" or os.path.isdir(path)):
                shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _swap_in(new, path):
    """Replaces folder ``path`` by ``new``; on failure, the old folder is put back."""
    old = None
    if os.path.exists(path):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.old-{os.getpid()}-", dir=os.path.dirname(path))
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
