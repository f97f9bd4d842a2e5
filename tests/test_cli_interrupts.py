"""physflow train under faults: Ctrl-C ends in one line, a SIGKILLed run resumes and ends as the uninterrupted one."""

import json
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest


ARGS = ["--layers", "2", "--hidden", "16", "--batch-size", "32", "--patience", "50", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from tfp_physflow.data import two_moons

    folder = tmp_path_factory.mktemp("interrupts")
    np.savetxt(folder / "moons.csv", two_moons(4000, seed=3), delimiter=",", header="x,y", comments="")
    return folder


def _start(argv, folder):
    exe = shutil.which("physflow")
    assert exe, "the physflow console script is not on PATH: install the package (README)"
    # As from a terminal: Ctrl-C's SIGINT at its default. A shell's background job (a CI started with &)
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    return subprocess.Popen([exe, *argv], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_checkpoint(process, folder, epochs_done, timeout=240):
    """Waits until the run has checkpointed ``epochs_done`` epochs (history.json says so)."""
    history = folder / "ckpt" / "history.json"
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        assert process.poll() is None, f"the run ended before it was interrupted: {process.communicate()}"
        try:
            if len(json.loads(history.read_text())["rows"]) >= epochs_done:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    process.kill()
    pytest.fail("no checkpoint appeared")


def _run(argv, folder):
    process = _start(argv, folder)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]


@pytest.mark.slow  # three processes of physflow train (about 40 s); the loop's own resume test is in test_loop
def test_sigkilled_train_resumes_and_matches_the_uninterrupted_run(data):
    # Every run in its own process, as a user's: the test process runs TensorFlow on one thread,
    # and another thread count sums in another order (the losses then differ in the 4th digit).
    epochs = ["--epochs", "5"]
    _run(["train", "moons.csv", *epochs, *ARGS, "--out", "whole"], data)

    process = _start(["train", "moons.csv", *epochs, *ARGS, "--out", "resumed", "--checkpoint-dir", "ckpt"], data)
    _wait_for_checkpoint(process, data, 2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (data / "resumed").exists()  # killed before the end: no output yet
    done = len(json.loads((data / "ckpt" / "history.json").read_text())["rows"])
    assert 2 <= done < 5

    _run(["train", "moons.csv", *epochs, *ARGS, "--out", "resumed", "--checkpoint-dir", "ckpt"], data)
    whole, resumed = (json.loads((data / run / "history.json").read_text()) for run in ("whole", "resumed"))
    assert [r["epoch"] for r in resumed["rows"]] == list(range(1, 6))
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose([r[key] for r in resumed["rows"]], [r[key] for r in whole["rows"]], rtol=1e-6)
    assert resumed["best_epoch"] == whole["best_epoch"]
    import h5py

    with h5py.File(data / "whole" / "flow.weights.h5") as a, h5py.File(data / "resumed" / "flow.weights.h5") as b:
        names = []
        a.visit(lambda name: names.append(name) if isinstance(a[name], h5py.Dataset) else None)
        assert names
        for name in names:
            np.testing.assert_allclose(b[name][()], a[name][()], rtol=1e-6, atol=1e-7, err_msg=name)


def test_ctrl_c_during_train_ends_in_one_line_and_writes_nothing(data):
    shutil.rmtree(data / "ckpt", ignore_errors=True)
    process = _start(["train", "moons.csv", "--epochs", "200", *ARGS, "--out", "interrupted",
                      "--checkpoint-dir", "ckpt"], data)
    _wait_for_checkpoint(process, data, 1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    lines = [line for line in err.splitlines() if line.startswith("physflow") or "Traceback" in line
             or "KeyboardInterrupt" in line]
    assert lines == ["physflow: interrupted"], err[-2000:]
    assert not (data / "interrupted").exists()
    assert not any(name.startswith(".tmp-") for name in os.listdir(data))
