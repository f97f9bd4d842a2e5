"""Test set-up for the whole repository (tests/ and the docstring examples of tfp_physflow/).

- TensorFlow is quiet and imported once per test run.
- Docstring examples see ``np``, ``tf``, ``keras``, ``pf`` and every name of
  ``tfp_physflow.__all__``, as after ``from tfp_physflow import *``.
- Tests run on two workers (pytest-xdist ``--dist loadgroup``): every test
  file is one group, so that its module-scoped fixtures are built once
  (``slow`` tests excepted: each is a group of its own); a
  test that carries its own ``xdist_group`` (the README's quick start chain
  of examples) is placed on its own. pytest 9.2 breaks xdist's groups
  (pytest-xdist#1386: every test is scheduled alone); setup.cfg keeps
  pytest below 9.2 until a fixed xdist is out.
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


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups into the test ids
def pytest_collection_modifyitems(items):
    for item in items:
        # Slow tests are whole runs, most in processes of their own (nine of
        # them in test_examples.py): each is scheduled alone, so that both
        # workers share them.
        if item.get_closest_marker("xdist_group") is None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    # The README's quick start chain is the longest group by default (30-36 s;
    # its other two chains are slow): first, so that no worker is left running
    # it at the end (setup.cfg keeps this order: --no-loadscope-reorder).
    items.sort(key=lambda item: not item.nodeid.startswith("tests/test_readme.py"))


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
