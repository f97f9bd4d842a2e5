"""The one training loop: validation, early stopping, schedules, the non-finite
guard, XLA fallback, history and plots, checkpoints that survive a killed
process, and tf.distribute strategies in processes of their own."""

import json
import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_physflow import make_flow
from tfp_physflow.data import two_moons
from tfp_physflow.plots import plot_history
from tfp_physflow.train import History, NegativeLogLikelihood, fit, fit_flow

SCRIPT = str(Path(__file__).parent / "scripts" / "train_run.py")
X = two_moons(1024, seed=0)


def small_flow(kind="realnvp", **kw):
    keras.utils.set_random_seed(0)
    return make_flow(kind, 2, num_layers=2, hidden_units=(16, 16), **kw)


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="known bug, left for a later session: tf.data's op-seeded shuffle also reads "
                          "TensorFlow's global seed (docs/design.md, 'Measured pitfalls')")
def test_a_fits_shuffle_depends_on_its_seed_alone_not_on_tensorflows_global_seed():
    weights = []
    for global_seed in (1, 2):
        flow = make_flow("realnvp", 2, num_layers=2, hidden_units=(16, 16), seed=0)  # the same weights either way
        tf.random.set_seed(global_seed)
        fit_flow(flow, X[:512], epochs=1, batch_size=128, seed=0, verbose=False, jit_compile=False)
        weights.append([v.numpy() for v in flow.trainable_variables])
    tf.random.set_seed(None)
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def mean_nll(flow, x, condition=None):
    return float(-flow.log_prob(x, condition).numpy().mean())


def test_fit_flow_learns_and_restores_the_best_validation_weights():
    flow = small_flow()
    x_val = two_moons(512, seed=5)
    history = fit_flow(flow, X, validation_data=(x_val,), epochs=8, batch_size=128,
                       optimizer=keras.optimizers.Adam(1e-2), verbose=False)
    val = history["val_loss"]
    assert len(history) == 8 and val[-1] < val[0] - 0.1
    assert history.best_epoch == int(np.argmin(val)) + 1
    np.testing.assert_allclose(mean_nll(flow, x_val), min(val), rtol=1e-5)


def test_each_step_is_traced_once_though_the_last_batches_are_smaller(monkeypatch):
    from tfp_physflow.train import steps
    built, evaluate = [], steps.CompiledSteps.evaluate

    def recorded(self, dataset):
        built.append(self)
        return evaluate(self, dataset)

    monkeypatch.setattr(steps.CompiledSteps, "evaluate", recorded)
    history = fit_flow(small_flow(), X[:1000], validation_data=(X[:600],), epochs=2, batch_size=128,
                       jit_compile=False, verbose=False)  # 7 full batches + 104 rows; 4 + 88 rows
    assert len(history) == 2
    assert built[0].train_step.experimental_get_tracing_count() == 1
    assert built[0].eval_step.experimental_get_tracing_count() == 1


def test_a_spent_iterator_is_deleted_in_a_thread_of_its_own_once_its_caller_lets_go():
    import threading
    import time

    from tfp_physflow.train import data

    deleted_in = []

    class Spent:
        def __del__(self):
            deleted_in.append(threading.current_thread().name)

    def epoch():
        spent = Spent()
        data.release_in_background(spent)
        time.sleep(0.2)
        assert deleted_in == []  # still held here

    epoch()
    data._spent.join()
    assert deleted_in == ["physflow-iterator-release"]


def test_conditional_fit_flow_with_a_validation_split():
    x, labels = two_moons(1024, seed=0, labels=True)
    keras.utils.set_random_seed(0)
    flow = make_flow("cinn", 2, condition_dim=2, num_layers=2, hidden_units=(16, 16))
    history = fit_flow(flow, x, np.eye(2)[labels], epochs=3, validation_split=0.2, verbose=False)
    assert len(history) == 3 and all(np.isfinite(history["val_loss"]))


def test_a_tf_data_dataset_is_accepted():
    flow = small_flow()
    ds = tf.data.Dataset.from_tensor_slices((X.astype("float32"),)).batch(128)
    history = fit(flow, NegativeLogLikelihood(), ds, validation_data=ds, epochs=2, verbose=False)
    assert len(history) == 2 and history["val_loss"][0] is not None


def test_patience_stops_a_run_that_does_not_improve():
    flow = small_flow()
    history = fit_flow(flow, X, epochs=20, patience=3, validation_split=0.2, optimizer=keras.optimizers.SGD(0.0),
                       verbose=False)
    assert len(history) == 4 and history.stop_reason.startswith("early stop: no improvement for 3")


def test_relative_change_threshold_stops_a_converged_run():
    flow = small_flow()
    history = fit_flow(flow, X, epochs=20, min_rel_change=1e-6, validation_split=0.2,
                       optimizer=keras.optimizers.SGD(0.0), verbose=False)
    assert len(history) == 2 and "relative change" in history.stop_reason


def test_the_rr_lyrae_schedule_is_expressible():
    """Polynomial decay with power 1/2 from 1e-3 to 1e-4 (the RR Lyrae paper)."""
    steps_per_epoch = len(X) // 128
    schedule = keras.optimizers.schedules.PolynomialDecay(1e-3, 4 * steps_per_epoch, 1e-4, power=0.5)
    history = fit_flow(small_flow(), X, epochs=4, batch_size=128, optimizer=keras.optimizers.Adam(schedule),
                       verbose=False)
    lr = history["learning_rate"]
    assert lr[0] < 1e-3 and np.all(np.diff(lr) < 0)
    np.testing.assert_allclose(lr[-1], 1e-4, rtol=1e-5)


class NaNAfter:
    """NLL that turns NaN once the optimizer has taken ``steps`` steps."""

    def __init__(self, optimizer, steps):
        self.optimizer, self.steps = optimizer, steps

    def __call__(self, model, batch, training=True):
        nll = -model.log_prob(batch[0])
        poison = tf.where(self.optimizer.iterations >= self.steps, tf.constant(np.nan, nll.dtype), 0.0)
        return nll + poison


def test_an_optimizer_with_ema_leaves_the_moving_average_of_the_weights():
    def run(**ema):
        flow, optimizer = small_flow(), keras.optimizers.Adam(1e-2, **ema)
        fit_flow(flow, X, epochs=3, batch_size=128, optimizer=optimizer, restore_best=False, verbose=False)
        return [w.numpy() for w in flow.trainable_weights], optimizer

    plain, _ = run()
    averaged, optimizer = run(use_ema=True, ema_momentum=0.9)
    for weight, average in zip(averaged, optimizer._model_variables_moving_average):  # Keras's own record
        np.testing.assert_array_equal(weight, average.numpy())
    assert max(np.max(np.abs(a - b)) for a, b in zip(plain, averaged)) > 1e-4  # not the last step's weights


def test_a_non_finite_loss_rejects_the_step_stops_and_keeps_the_best_weights():
    flow = small_flow()
    optimizer = keras.optimizers.Adam(1e-2)
    steps_per_epoch = len(X) // 128
    with pytest.warns(RuntimeWarning, match="non-finite loss"):
        history = fit(flow, NaNAfter(optimizer, 2 * steps_per_epoch + 3), (X,), epochs=10, batch_size=128,
                      optimizer=optimizer, verbose=False)
    assert "the step was rejected" in history.stop_reason and len(history) == 2
    assert int(optimizer.iterations) == 2 * steps_per_epoch + 3  # the bad step did not count
    assert all(np.all(np.isfinite(v.numpy())) for v in flow.variables)
    assert history.best_epoch == 2
    np.testing.assert_allclose(mean_nll(flow, X), history["loss"][1], rtol=0.05)


def test_a_users_own_loss_keeps_autograph():
    # Our own losses are traced without AutoGraph (train/steps.py, _as_written); a user's loss
    # keeps it, as under Keras's fit: a Python `if` on a tensor becomes a tf.cond. Traced
    # without AutoGraph, this `if` would raise "using a tf.Tensor as a Python bool".
    def clipped_nll(model, batch, training=True):
        nll = -model.log_prob(batch[0])
        if tf.reduce_max(nll) > 1e6:
            nll = tf.minimum(nll, 1e6)
        return nll

    history = fit(small_flow(), clipped_nll, (X,), epochs=1, verbose=False, jit_compile=False)
    assert np.isfinite(history["loss"][0])


def test_xla_falls_back_to_tf_function_where_it_does_not_compile():
    def numpy_loss(model, batch, training=True):  # numpy_function cannot be compiled by XLA
        nll = -model.log_prob(batch[0])
        return nll + tf.numpy_function(lambda: np.float32(0.0), [], tf.float32, stateful=False)

    with pytest.warns(RuntimeWarning, match="XLA did not compile"):
        history = fit(small_flow(), numpy_loss, (X,), epochs=1, verbose=False)
    assert np.isfinite(history["loss"][0])
    with pytest.raises(tf.errors.OpError):
        fit(small_flow(), numpy_loss, (X,), epochs=1, jit_compile=True, verbose=False)


@pytest.mark.parametrize("kwargs, message", [
    (dict(data=(X, X[:10])), "differ in length"),
    (dict(data=np.where(np.arange(len(X))[:, None] == 7, np.nan, X)), r"data\[0\] contains NaN"),
    (dict(data=X[:0]), "empty"),
    (dict(data=X, validation_split=1.5), "validation_split"),
    (dict(data=X, validation_split=0.2, validation_data=(X,)), "not both"),
    (dict(data=np.array([["a", "b"]])), "numbers"),
    (dict(data=X, jit_compile="maybe"), "jit_compile"),
])
def test_bad_training_input_raises_a_value_error(kwargs, message):
    data = kwargs.pop("data")
    with pytest.raises(ValueError, match=message):
        fit(small_flow(), NegativeLogLikelihood(), data, epochs=1, verbose=False, **kwargs)


def test_fit_flow_checks_its_condition():
    with pytest.raises(ValueError, match="needs condition"):
        fit_flow(make_flow("cinn", 2, condition_dim=1, num_layers=2), X)
    with pytest.raises(ValueError, match=r"condition must have shape \(N, 1\)"):
        fit_flow(make_flow("cinn", 2, condition_dim=1, num_layers=2), X, np.zeros((len(X), 3)))


def test_history_saves_as_json_and_csv_and_plots(tmp_path, capsys):
    history = fit_flow(small_flow(), X, epochs=3, validation_split=0.2)
    assert "epoch 3/3 loss" in capsys.readouterr().out  # the progress line
    history.save(tmp_path / "h.json")
    history.save(tmp_path / "h.csv")
    loaded = History.load(tmp_path / "h.json")
    assert loaded["val_loss"] == history["val_loss"] and loaded.best_epoch == history.best_epoch
    assert (tmp_path / "h.csv").read_text().splitlines()[0].startswith("epoch,")
    fig = plot_history(history)
    assert [line.get_label() for line in fig.axes[0].lines][:2] == ["training loss", "validation loss"]
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), history["val_loss"])


def test_a_mismatched_checkpoint_is_refused_with_a_message(tmp_path):
    fit_flow(small_flow(), X, epochs=1, checkpoint_dir=str(tmp_path), verbose=False)
    with pytest.raises(ValueError, match="does not match this model"):
        fit_flow(small_flow("maf"), X, epochs=2, checkpoint_dir=str(tmp_path), verbose=False)


def run_script(mode, out, checkpoint_dir=None, env=None):
    args = [sys.executable, SCRIPT, mode, str(out)] + ([str(checkpoint_dir)] if checkpoint_dir else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def rows(path, key):
    return json.loads(Path(path).read_text())[key]["rows"]


@pytest.mark.slow  # a heavy end-to-end run in subprocesses (pytest -m slow)
def test_a_killed_run_resumes_from_its_checkpoint_and_ends_as_if_never_killed(tmp_path):
    env = {"PHYSFLOW_TEST_EPOCHS": "25", "PHYSFLOW_TEST_N": "16384"}
    reference = run_script("single", tmp_path / "ref.json", env=env)
    assert reference.returncode == 0, reference.stderr[-2000:]

    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen([sys.executable, SCRIPT, "single", str(tmp_path / "killed.json"), str(ckpt)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **env})
    for line in proc.stdout:
        if line.startswith("epoch 3/25"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (tmp_path / "killed.json").exists()

    resumed = run_script("single", tmp_path / "resumed.json", ckpt, env=env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    first = resumed.stdout.splitlines()[0]
    # Killed on printing epoch 3, which comes just before its checkpoint is written.
    assert first.startswith("resumed from") and int(first.split()[-1]) >= 2, first
    assert f"epoch {int(first.split()[-1]) + 1}/25" in resumed.stdout  # no epoch is trained twice
    expected, got = rows(tmp_path / "ref.json", "single"), rows(tmp_path / "resumed.json", "single")
    assert [r["epoch"] for r in got] == list(range(1, 26))
    np.testing.assert_allclose([r["val_loss"] for r in got], [r["val_loss"] for r in expected], rtol=1e-5)


def test_mirrored_strategy_on_two_cpus_gives_the_single_device_loss_curve(tmp_path):
    result = run_script("mirrored", tmp_path / "m.json", env={"PHYSFLOW_TEST_EPOCHS": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    single, mirrored = rows(tmp_path / "m.json", "single"), rows(tmp_path / "m.json", "mirrored")
    np.testing.assert_allclose([r["loss"] for r in mirrored], [r["loss"] for r in single], rtol=1e-4)
    np.testing.assert_allclose([r["val_loss"] for r in mirrored], [r["val_loss"] for r in single], rtol=1e-4)
    seen = json.loads((tmp_path / "m.json").read_text())["mirrored"]["seen"]  # a Keras callback, every epoch
    assert [s["epoch"] for s in seen] == list(range(3))
    np.testing.assert_allclose([s["val_loss"] for s in seen], [r["val_loss"] for r in mirrored])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # a heavy end-to-end run in subprocesses (pytest -m slow)
def test_multi_worker_mirrored_strategy_with_two_processes_on_localhost(tmp_path):
    reference = run_script("single", tmp_path / "ref.json")
    assert reference.returncode == 0, reference.stderr[-2000:]
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    for i in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        workers.append(subprocess.Popen(
            [sys.executable, SCRIPT, "worker", str(tmp_path / f"w{i}.json"), str(tmp_path / "ckpt")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "TF_CONFIG": tf_config}))
    for w in workers:
        out, _ = w.communicate(timeout=300)
        assert w.returncode == 0, out[-2000:]
    expected = [r["val_loss"] for r in rows(tmp_path / "ref.json", "single")]
    for i in range(2):
        np.testing.assert_allclose([r["val_loss"] for r in rows(tmp_path / f"w{i}.json", "worker")], expected,
                                   rtol=1e-3)
    # The chief (worker 0) keeps the checkpoint; the other worker's copy is removed.
    assert (tmp_path / "ckpt" / "checkpoint").exists() and (tmp_path / "ckpt" / "history.json").exists()
    assert not list((tmp_path / "ckpt").glob(".worker-*"))


def test_a_model_built_outside_the_strategy_scope_is_refused():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with pytest.raises(ValueError, match="strategy.scope"):
        fit_flow(small_flow(), X, epochs=1, strategy=strategy, verbose=False)


def test_warnings_are_quiet_on_a_normal_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fit_flow(small_flow(), X, epochs=1, verbose=False)
