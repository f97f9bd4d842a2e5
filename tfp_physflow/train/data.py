"""Data sources of the training loop: arrays (checked, split, shuffled per epoch) or a tf.data.Dataset."""

import atexit
import queue
import sys
import threading
import time

import numpy as np
import tensorflow as tf

from ..validation import check_finite_array


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
    # A tuple, or a list of arrays, holds several arrays; a nested list of numbers is one array.
    several = isinstance(data, tuple) or (isinstance(data, list) and data and all(
        hasattr(a, "shape") for a in data))
    arrays = data if several else (data,)
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


def split_sources(data, validation_data, validation_split, seed, dtype):
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
            if n_val >= len(order):
                raise ValueError(f"validation_split={validation_split} of {len(order)} examples leaves none "
                                 "to train on")
            validation_data = tuple(a[order[:n_val]] for a in arrays)
            arrays = tuple(a[order[n_val:]] for a in arrays)
        train = _ArraySource(arrays)
    if validation_data is None:
        return train, None
    if isinstance(validation_data, tf.data.Dataset):
        return train, _DatasetSource(validation_data)
    return train, _ArraySource(_as_arrays(validation_data, dtype, "validation_data"))


_spent = queue.Queue()
_RELEASER = "physflow-iterator-release"


def release_in_background(iterator):
    """Lets a thread of its own delete an epoch's spent iterator, once the caller has let go of it.

    Why: deleting the iterator of a dataset distributed by MirroredStrategy
    waits for its prefetch thread; after a slow consumer (a first step's trace
    and compile) that wait took 2-15 s in about one epoch of three (TF 2.21,
    2-core CPU, one device). Nothing needs the deletion to have happened.
    """
    if not _releaser_running():
        threading.Thread(target=_release_forever, name=_RELEASER, daemon=True).start()
    _spent.put(iterator)


def _releaser_running():
    return any(t.name == _RELEASER and t.is_alive() for t in threading.enumerate())


def _release_forever():
    while True:
        iterator = _spent.get()
        waited = 0.0
        # The caller's references go when its frame returns; then ours is the last.
        while sys.getrefcount(iterator) > 2 and waited < 10.0:
            time.sleep(0.01)
            waited += 0.01
        del iterator
        _spent.task_done()


@atexit.register
def _wait_for_releases():
    # A daemon thread stopped inside TensorFlow's deletion at exit aborts the process
    # ("FATAL: exception not rethrown", 5 of 6 runs of test_loop's two-CPU script):
    # the exit waits for it. A forked child has no such thread and does not wait.
    if _releaser_running():
        _spent.join()
