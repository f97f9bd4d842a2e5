"""Test set-up for the whole repository (tests/ and the docstring examples of tfp_physflow/).

- TensorFlow is quiet and imported once per test run.
- Docstring examples see ``np``, ``tf``, ``keras``, ``pf`` and every name of
  ``tfp_physflow.__all__``, as after ``from tfp_physflow import *``.
- Tests run on two workers (pytest-xdist ``--dist loadgroup``): every test
  file is one group, as module-scoped fixtures are built once; a test that
  carries its own ``xdist_group`` (the README's independent chains of
  examples) is placed on its own.
- ``@pytest.mark.shared_data("rrlyrae/RRLyrae.fit", ...)`` marks a test that
  reads the project's real data in ``../shared/data``; where a file is absent
  the test is skipped with a reason that names it.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: one thread each for TensorFlow's ops, not two workers of two threads each.
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


def pytest_runtest_setup(item):
    for marker in item.iter_markers("shared_data"):
        missing = [name for name in marker.args if not (SHARED_DATA / name).exists()]
        if missing:
            pytest.skip(f"needs the shared real data {', '.join(missing)} in {SHARED_DATA} "
                        "(not shipped with the project; see ../shared/data/README.md)")


@pytest.fixture(autouse=True, scope="session")
def _docstring_names(doctest_namespace):
    """The names docstring examples use."""
    import keras
    import numpy as np
    import tensorflow as tf

    import tfp_physflow as pf

    doctest_namespace.update({"np": np, "tf": tf, "keras": keras, "pf": pf})
    doctest_namespace.update({name: getattr(pf, name) for name in pf.__all__})


@pytest.fixture(scope="session")
def tensorboard_scalars():
    """A reader of TensorBoard event files: folder -> {tag: [(step, value)]}."""
    import glob

    import tensorflow as tf

    def read(folder):
        found = {}
        for path in sorted(glob.glob(f"{folder}/events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
        return found

    return read
