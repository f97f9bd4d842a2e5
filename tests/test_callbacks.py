"""Keras's own callbacks drive and watch the one training loop (pf.fit and every fit_* trainer)."""

import csv

import keras
import numpy as np
import pytest

from tfp_physflow import AdversarialModel, fit_adversarial, make_flow, make_physics_flow
from tfp_physflow.data import simulate_impedance, two_moons
from tfp_physflow.train import fit_flow

X = two_moons(600, seed=0)


class Seen(keras.callbacks.Callback):
    """A user's own callback: every hook it was called at, with the logs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None, None))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, None))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, dict(logs)))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None, None))

    def hooks(self, name):
        return [(i, logs) for hook, i, logs in self.calls if hook == name]


def small_flow():
    return make_flow("realnvp", 2, num_layers=2, hidden_units=(8,), seed=0)


def test_a_custom_callback_sees_every_hook_with_the_losses_and_the_learning_rate():
    seen = Seen()
    flow = small_flow()
    history = fit_flow(flow, X, epochs=3, batch_size=100, validation_split=0.2, callbacks=seen, verbose=False,
                       jit_compile=False)
    assert [c[0] for c in seen.calls[:2]] == ["train_begin", "epoch_begin"] and seen.calls[-1][0] == "train_end"
    assert [i for i, _ in seen.hooks("epoch_begin")] == [0, 1, 2]
    ends = seen.hooks("epoch_end")
    assert [i for i, _ in ends] == [0, 1, 2] and sorted(ends[0][1]) == ["learning_rate", "loss", "val_loss"]
    for (_, logs), row in zip(ends, history.rows):
        assert logs["loss"] == row["loss"] and logs["val_loss"] == row["val_loss"]
        assert logs["learning_rate"] == pytest.approx(1e-3)
    batches = seen.hooks("batch_end")
    assert len(batches) == 3 * 4 and [i for i, _ in batches[:4]] == [0, 1, 2, 3]  # 480 rows: 4 full batches of 100
    assert batches[3][1]["loss"] == pytest.approx(history.rows[0]["loss"])  # the epoch's running mean
    assert "optimizer" not in flow.__dict__ and "stop_training" not in flow.__dict__  # nothing left on the model


def test_an_adversarial_run_logs_each_phase():
    data = simulate_impedance(256, seed=0)
    model = AdversarialModel(make_physics_flow("diagonal", data.spectra, data.frequencies, scale=[20, 400, 3e-6]))
    seen = Seen()
    history = fit_adversarial(model, data.spectra, epochs=2, batch_size=64, validation_split=0.25, callbacks=[seen],
                              verbose=False, jit_compile=False)
    logs = [logs for _, logs in seen.hooks("epoch_end")]
    assert len(logs) == 2 and {"critic_loss", "generator_loss", "loss", "val_loss", "learning_rate"} <= set(logs[0])
    assert [x["generator_loss"] for x in logs] == history["generator_loss"]


def test_tensorboard_writes_the_history_as_scalars(tmp_path, tensorboard_scalars):
    flow = small_flow()
    history = fit_flow(flow, X, epochs=3, batch_size=100, validation_split=0.2, verbose=False, jit_compile=False,
                       callbacks=[keras.callbacks.TensorBoard(str(tmp_path / "logs"))])
    train = tensorboard_scalars(tmp_path / "logs" / "train")
    validation = tensorboard_scalars(tmp_path / "logs" / "validation")
    assert [s for s, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in validation["epoch_loss"]], history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], history["learning_rate"], rtol=1e-6)


def test_csv_logger_writes_the_history(tmp_path):
    history = fit_flow(small_flow(), X, epochs=2, batch_size=100, validation_split=0.2, verbose=False,
                       jit_compile=False, callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))])
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], history["val_loss"], rtol=1e-6)


def test_reduce_lr_on_plateau_changes_the_rate_our_optimizer_uses():
    optimizer = keras.optimizers.Adam(1e-3)
    never_better = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    history = fit_flow(small_flow(), X, epochs=4, batch_size=100, optimizer=optimizer, verbose=False,
                       jit_compile=False, callbacks=[never_better])
    np.testing.assert_allclose(history["learning_rate"], [1e-3, 1e-3, 5e-4, 2.5e-4], rtol=1e-6)
    assert float(optimizer.learning_rate) == pytest.approx(1.25e-4)  # the fourth epoch's plateau, applied


def test_early_stopping_and_terminate_on_nan_stop_the_run():
    never_better = keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e9)
    history = fit_flow(small_flow(), X, epochs=10, batch_size=100, verbose=False, jit_compile=False,
                       callbacks=[never_better])
    assert len(history) == 2 and history.stop_reason == "stopped by a callback (model.stop_training)"

    class StopAtBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    history = fit_flow(small_flow(), X, epochs=10, batch_size=100, verbose=False, jit_compile=False,
                       callbacks=[StopAtBatch()])
    assert len(history) == 1 and history.stop_reason.startswith("stopped by a callback")


def test_a_resumed_run_calls_the_callbacks_from_the_epoch_it_resumes_at(tmp_path):
    fit_flow(small_flow(), X, epochs=2, batch_size=100, checkpoint_dir=str(tmp_path), verbose=False,
             jit_compile=False)
    seen = Seen()
    history = fit_flow(small_flow(), X, epochs=4, batch_size=100, checkpoint_dir=str(tmp_path), verbose=False,
                       jit_compile=False, callbacks=[seen])
    assert [i for i, _ in seen.hooks("epoch_end")] == [2, 3] and len(history) == 4
    assert [logs["loss"] for _, logs in seen.hooks("epoch_end")] == history["loss"][2:]


def test_what_is_not_a_keras_callback_is_refused():
    with pytest.raises(TypeError, match="keras.callbacks.Callback objects, got function"):
        fit_flow(small_flow(), X, epochs=1, callbacks=[lambda epoch: None], verbose=False)
