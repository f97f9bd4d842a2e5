"""SavedModel export: serving signatures usable without tfp_physflow, atomic writes, validated inputs."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from bijector_registry import randomize

from tfp_physflow import make_flow
from tfp_physflow.export import export_flow

SCRIPT = str(Path(__file__).parent / "scripts" / "load_saved_model.py")
CLI = str(Path(sys.executable).parent / "saved_model_cli")
D, C = 3, 2


def random_flow(kind, condition_dim=None, seed=0):
    flow = make_flow(kind, D, condition_dim, num_layers=3, hidden_units=(16, 16))
    randomize(flow.variables, seed=seed)
    return flow


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)
    x, cond = rng.standard_normal((50, D)).astype("float32"), rng.standard_normal((50, C)).astype("float32")
    np.save(root / "x.npy", x)
    np.save(root / "c.npy", cond)
    flows = {"maf": random_flow("maf"), "cinn": random_flow("cinn", C, seed=1)}
    for name, flow in flows.items():
        export_flow(flow, root / name)
    return root, flows, x, cond


def test_a_process_without_tfp_physflow_gets_the_same_log_prob_and_samples(exported):
    root, flows, x, cond = exported
    jobs = [{"model": str(root / "maf"), "x": str(root / "x.npy")},
            {"model": str(root / "cinn"), "x": str(root / "x.npy"), "condition": str(root / "c.npy")}]
    out = root / "loaded.json"
    run = subprocess.run([sys.executable, SCRIPT, str(out), json.dumps(jobs)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["imported"] == {"tfp_physflow": False, "tensorflow_probability": False}
    maf, cinn = report["results"]
    np.testing.assert_allclose(maf["log_prob"], flows["maf"].log_prob(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cinn["log_prob"], flows["cinn"].log_prob(x, cond), rtol=1e-5, atol=1e-5)
    assert maf["sample_shape"] == [20000, D] and cinn["sample_shape"] == [20000, 1, D]
    # The served sampler is unseeded: its mean may differ from a seeded draw's by sampling error,
    # 5 standard errors of the difference of two means of 20,000 (the old fixed 0.05 failed at 2.1).
    reference = flows["maf"].sample(20000, seed=3).numpy()
    np.testing.assert_allclose(maf["sample_mean"], reference.mean(0), atol=5 * reference.std(0).max() * 0.01)
    np.testing.assert_allclose(maf["sample_std"], reference.std(0), rtol=0.05)
    ref_c = flows["cinn"].sample(20000, cond[0], seed=3).numpy()
    np.testing.assert_allclose(cinn["sample_mean"], ref_c.mean(0), atol=5 * ref_c.std(0).max() * 0.01)
    assert cinn["description"]["condition_dim"] == C and cinn["description"]["config"]["kind"] == "cinn"


def test_saved_model_cli_shows_and_runs_the_signatures(exported):
    root, flows, x, _ = exported
    show = subprocess.run([CLI, "show", "--dir", str(root / "maf"), "--all"], capture_output=True, text=True,
                          timeout=300)
    assert show.returncode == 0, show.stderr[-2000:]
    assert "signature_def['log_prob']" in show.stdout and "signature_def['sample']" in show.stdout
    run = subprocess.run([CLI, "run", "--dir", str(root / "maf"), "--tag_set", "serve", "--signature_def",
                          "log_prob", "--inputs", f"x={root / 'x.npy'}", "--outdir", str(root / "cli"),
                          "--overwrite"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    np.testing.assert_allclose(np.load(root / "cli" / "log_prob.npy"), flows["maf"].log_prob(x), rtol=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda m: m.signatures["log_prob"](x=tf.zeros([4, D + 1])), r"log_prob: x must have shape \(batch, 3\)"),
    (lambda m: m.signatures["log_prob"](x=tf.constant([[0.0, np.nan, 1.0]])), "x contains NaN or inf"),
    (lambda m: m.signatures["sample"](n=tf.constant(-2)), "n must be >= 0"),
])
def test_serving_inputs_are_validated_with_a_message(exported, call, message):
    from tfp_physflow.export.saving import serving_error

    model = tf.saved_model.load(str(exported[0] / "maf"))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message) as err:
        call(model)
    assert "Condition x" not in str(err.value)  # our words only, not the operands of tf.debugging.assert_*
    clean = serving_error(err.value)  # what physflow prints: the message without TensorFlow's frame
    assert re.match(message, clean) or message in clean
    assert "Graph execution" not in clean and "node" not in clean and "\n" not in clean


def test_conditional_serving_checks_the_condition(exported):
    model = tf.saved_model.load(str(exported[0] / "cinn"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        model.signatures["log_prob"](x=tf.zeros([4, D]), condition=tf.zeros([3, C]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"condition must have shape \(batch, 2\)"):
        model.signatures["sample"](n=tf.constant(2), condition=tf.zeros([3, C + 2]))
    condition = np.random.default_rng(0).normal(size=(4, C)).astype("float32")
    out = model.signatures["sample"](n=tf.constant(5), condition=tf.constant(condition))
    # One contract: (n, batch, d), sample axis first, in Python and in the SavedModel.
    python = exported[1]["cinn"].sample_and_log_prob(5, condition, seed=0)
    assert out["samples"].shape == python[0].shape == (5, 4, D)
    assert out["log_prob"].shape == python[1].shape == (5, 4)


def test_a_failed_export_leaves_the_previous_model_intact(tmp_path, monkeypatch):
    first = random_flow("realnvp", seed=1)
    export_flow(first, tmp_path / "model")
    x = np.zeros((3, D), "float32")

    def broken_save(obj, path, signatures=None):
        Path(path, "saved_model.pb").write_bytes(b"half written")
        raise OSError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        export_flow(random_flow("realnvp", seed=2), tmp_path / "model")
    monkeypatch.undo()
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    np.testing.assert_allclose(loaded.signatures["log_prob"](x=x)["log_prob"], first.log_prob(x), rtol=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary folder left behind


def test_a_successful_export_replaces_the_previous_model(tmp_path):
    export_flow(random_flow("realnvp", seed=1), tmp_path / "model")
    second = random_flow("realnvp", seed=2)
    export_flow(second, tmp_path / "model")
    x = np.ones((3, D), "float32")
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    np.testing.assert_allclose(loaded.signatures["log_prob"](x=x)["log_prob"], second.log_prob(x), rtol=1e-6)
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_exporting_over_a_file_is_refused(tmp_path):
    (tmp_path / "model").write_text("not a model")
    with pytest.raises(ValueError, match="not a folder"):
        export_flow(random_flow("realnvp"), tmp_path / "model")
    assert (tmp_path / "model").read_text() == "not a model"


def test_an_export_removes_what_a_killed_export_left_and_keeps_a_live_ones(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    killed = tmp_path / f".model.tmp-{dead.pid}-abc"      # what a SIGKILLed export leaves beside its target
    live = tmp_path / f".model.tmp-{os.getpid()}-xyz"     # an export still running in this process
    for folder in (killed, live):
        folder.mkdir()
        (folder / "saved_model.pb").write_text("partial")
    export_flow(make_flow("diagonal", 2), tmp_path / "model")
    assert (tmp_path / "model" / "saved_model.pb").exists()
    assert not killed.exists() and live.exists()
