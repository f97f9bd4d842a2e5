"""Writing SavedModels atomically, and the pieces every exported module shares:
uniquely named weight copies read through one ``keras.StatelessScope``, and
checks of serving inputs with messages that name the problem."""

import os
import re
import shutil
import tempfile

import keras
import tensorflow as tf


def serving_function(*input_signature):
    """``tf.function`` of a serving signature, traced without AutoGraph.

    Why: serving functions and the model code they call have no Python control
    flow on tensors, and AutoGraph's conversion of that code was 2.9 s of the
    4.4 s CPU an export of an nsf flow took in a new process (under cProfile).
    """
    return tf.function(input_signature=list(input_signature), autograph=False)


def require(condition, message, *values):
    """A serving-time check whose failure reads ``assertion failed: [message] [values]`` and nothing
    more (``tf.debugging.assert_*`` add their condition, operands and op names to the message)."""
    return tf.debugging.Assert(condition, [message, *values])


def check_rows(value, dim, name, signature):
    """Asserts ``value`` (batch, dim; the signature fixes the rank) is finite and ``dim`` wide."""
    check = require(tf.equal(tf.shape(value)[-1], dim),
                    f"{signature}: {name} must have shape (batch, {dim}); its columns:", tf.shape(value)[-1])
    with tf.control_dependencies([check]):
        return tf.debugging.check_numerics(value, f"{signature}: {name} contains NaN or inf")


def check_count(n, signature):
    with tf.control_dependencies([require(n >= 0, f"{signature}: n must be >= 0, got", n)]):
        return tf.identity(n)


def serving_error(err):
    """The check's own words from a serving function's InvalidArgumentError, without TensorFlow's
    "Graph execution error", node names and bracketed operands: one line for a ValueError."""
    for line in str(getattr(err, "message", err)).splitlines():
        line = line.strip()
        if line.startswith("assertion failed:"):
            return " ".join(part.strip() for part in re.findall(r"\[([^\[\]]*)\]", line))
        if " : Tensor had " in line:  # check_numerics
            return line.split(" : Tensor had ")[0]
    return str(err).strip().splitlines()[-1]


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
