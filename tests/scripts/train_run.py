"""A training run driven by the loop tests in their own processes.

Usage: train_run.py MODE OUT [CHECKPOINT_DIR]
  MODE single      one device; writes {"single": history} to OUT (JSON)
  MODE mirrored    MirroredStrategy over two logical CPUs, and one device
  MODE worker      one of two MultiWorkerMirroredStrategy workers (TF_CONFIG set)
  MODE adversarial  a physics-aware adversarial run under MirroredStrategy over two logical CPUs
PHYSFLOW_TEST_EPOCHS and PHYSFLOW_TEST_N set the run's length.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

mode, out = sys.argv[1], sys.argv[2]
checkpoint_dir = sys.argv[3] if len(sys.argv) > 3 else None
if mode in ("mirrored", "adversarial"):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

from tfp_physflow import make_flow  # noqa: E402
from tfp_physflow.data import two_moons  # noqa: E402
from tfp_physflow.train import fit_flow  # noqa: E402


class Seen(keras.callbacks.Callback):
    """A user's own callback: the epochs and logs it was shown."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append({"epoch": epoch, **logs})


def run(strategy=None):
    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        flow = make_flow("realnvp", 2, num_layers=3, hidden_units=(32, 32))
    x = two_moons(int(os.environ.get("PHYSFLOW_TEST_N", "2048")), seed=0)
    seen = Seen()
    history = fit_flow(flow, x, epochs=int(os.environ.get("PHYSFLOW_TEST_EPOCHS", "6")), batch_size=128,
                       validation_split=0.25, strategy=strategy, checkpoint_dir=checkpoint_dir,
                       verbose=checkpoint_dir is not None, callbacks=[seen])
    return {**history.as_dict(), "seen": seen.epochs}


if mode == "single":
    result = {"single": run()}
elif mode == "mirrored":
    result = {"single": run(),
              "mirrored": run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))}
elif mode == "adversarial":
    from tfp_physflow import AdversarialModel, fit_adversarial, make_physics_flow  # noqa: E402
    from tfp_physflow.data import simulate_impedance  # noqa: E402

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    data = simulate_impedance(512, seed=0)
    with strategy.scope():
        model = AdversarialModel(make_physics_flow("realnvp", data.spectra, data.frequencies, scale=[20, 400, 3e-6],
                                                   num_layers=2, hidden_units=(16,)))
    history = fit_adversarial(model, data.spectra, validation_split=0.25, epochs=2, batch_size=128,
                              strategy=strategy, verbose=False)
    result = {"adversarial": history.as_dict()}
elif mode == "worker":
    result = {"worker": run(tf.distribute.MultiWorkerMirroredStrategy())}
else:
    sys.exit(f"unknown mode {mode}")
with open(out, "w") as f:
    json.dump(result, f)
