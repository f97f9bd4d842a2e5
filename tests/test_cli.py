"""The physflow command."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from tfp_physflow.cli import main


def test_smoke_trains_a_flow_and_prints_the_comparison(capsys):
    assert main(["smoke", "--kind", "maf", "--layers", "2", "--epochs", "4", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "held-out log-likelihood per point: flow" in out and "fitted Gaussian" in out


def test_smoke_shows_progress_unless_quiet(capsys):
    main(["smoke", "--kind", "diagonal", "--epochs", "2"])
    assert "epoch 2/2 loss" in capsys.readouterr().out  # the one loop's progress line


def test_console_script_is_installed_and_help_names_an_example():
    exe = shutil.which("physflow")
    assert exe, "the physflow console script is not on PATH: install the package (README)"
    out = subprocess.run([exe, "smoke", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Example: physflow smoke" in out.stdout


def test_unknown_option_exits_non_zero():
    with pytest.raises(SystemExit) as err:
        main(["smoke", "--kind", "glow"])
    assert err.value.code != 0


# -- the commands on a user's own files ---------------------------------------------------------------------

COMMANDS = ["demo", "eis", "train", "sample", "evaluate", "export", "info", "classify", "smoke"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as err:
        main([command, "--help"])
    assert err.value.code == 0
    assert f"Example: physflow {command}" in capsys.readouterr().out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    from tfp_physflow.data import two_moons

    root = tmp_path_factory.mktemp("cli")
    x = two_moons(1500, seed=0) * [10.0, 1.0] + [100.0, 0.0]  # unstandardised columns
    np.savetxt(root / "moons.csv", x, delimiter=",", header="a,b", comments="")
    np.save(root / "moons.npy", x)
    return root


@pytest.fixture(scope="module")
def trained_run(workdir):
    run = workdir / "run"
    assert main(["train", str(workdir / "moons.csv"), "--kind", "realnvp", "--layers", "3", "--epochs", "15",
                 "--out", str(run), "--quiet", "--tensorboard", str(workdir / "tb")]) == 0
    assert main(["export", str(run), str(run / "saved_model")]) == 0
    return run


def test_train_then_export_info_sample_and_evaluate(trained_run, workdir, capsys, tensorboard_scalars):
    capsys.readouterr()
    model = str(trained_run / "saved_model")
    assert main(["info", model]) == 0
    out = capsys.readouterr().out
    assert "signature log_prob(x: float32 (None, None))" in out and "format: tfp_physflow.flow/1" in out
    assert main(["sample", model, "-n", "800", "--out", str(workdir / "s.csv")]) == 0
    samples = np.loadtxt(workdir / "s.csv", delimiter=",", skiprows=1)
    assert samples.shape == (800, 2)
    data = np.load(workdir / "moons.npy")
    np.testing.assert_allclose(samples.mean(0), data.mean(0), atol=0.15 * data.std(0).max())  # the data's scale
    np.testing.assert_allclose(samples.std(0), data.std(0), rtol=0.15)
    assert main(["evaluate", model, str(workdir / "moons.npy")]) == 0
    out = capsys.readouterr().out
    nll = -float(out.split("mean log-likelihood ")[1].split()[0])
    from tfp_physflow.metrics import gaussian_log_likelihood

    assert nll < -gaussian_log_likelihood(data, data) - 0.15  # better than the best Gaussian
    ks = float(out.split("1D-KS ")[1].split(",")[0])
    assert ks > 0.9
    assert (trained_run / "loss.png").exists() and (trained_run / "history.json").exists()
    rows = json.loads((trained_run / "history.json").read_text())["rows"]  # --tensorboard: the same losses
    logged = tensorboard_scalars(workdir / "tb" / "validation")["epoch_loss"]
    np.testing.assert_allclose([v for _, v in logged], [r["val_loss"] for r in rows], rtol=1e-6)


def test_conditional_train_and_sample(workdir, capsys):
    rng = np.random.default_rng(0)
    c = rng.normal(size=(1200, 1))
    x = np.hstack([c + 0.1 * rng.normal(size=(1200, 1)), -c + 0.1 * rng.normal(size=(1200, 1))])
    np.save(workdir / "cx.npy", x)
    np.save(workdir / "cc.npy", c)
    run = workdir / "cond"
    assert main(["train", str(workdir / "cx.npy"), "--condition", str(workdir / "cc.npy"), "--kind", "cinn",
                 "--layers", "4", "--epochs", "25", "--out", str(run), "--quiet"]) == 0
    assert main(["export", str(run), str(run / "sm")]) == 0
    np.save(workdir / "c2.npy", np.array([[1.0], [-0.5]]))
    assert main(["sample", str(run / "sm"), "-n", "300", "--condition", str(workdir / "c2.npy"),
                 "--out", str(workdir / "cs.npy")]) == 0
    samples = np.load(workdir / "cs.npy")
    assert samples.shape == (300, 2, 2)  # (n, condition rows, d), as Flow.sample
    np.testing.assert_allclose(samples.mean(0), [[1.0, -1.0], [-0.5, 0.5]], atol=0.25)
    assert main(["sample", str(run / "sm"), "-n", "300", "--condition", str(workdir / "c2.npy"),
                 "--out", str(workdir / "cs.csv")]) == 0
    table = np.loadtxt(workdir / "cs.csv", delimiter=",", skiprows=1)  # a new draw: one block per condition row
    assert table.shape == (600, 3) and np.all(table[:300, 0] == 0) and np.all(table[300:, 0] == 1)
    np.testing.assert_allclose([table[:300, 1:].mean(0), table[300:, 1:].mean(0)], [[1.0, -1.0], [-0.5, 0.5]],
                               atol=0.25)


def test_classify_trains_reports_and_exports(tmp_path, capsys):
    from sklearn.datasets import make_classification

    x, y = make_classification(600, 4, n_informative=3, n_redundant=0, random_state=0)
    np.savetxt(tmp_path / "train.csv", np.column_stack([x[:400], y[:400]]), delimiter=",")
    np.savetxt(tmp_path / "test.csv", np.column_stack([x[400:], y[400:]]), delimiter=",")
    assert main(["classify", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"), "--kind", "maf",
                 "--layers", "2", "--hidden", "16", "--epochs", "20", "--out", str(tmp_path / "clf"),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert float(out.split("test accuracy ")[1].split()[0]) > 0.75
    assert (tmp_path / "clf" / "roc.png").exists() and (tmp_path / "clf" / "saved_model" / "saved_model.pb").exists()


def test_classify_reads_class_names_and_reports_the_cut_and_confusion_matrix(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(0, 1, (150, 2)), rng.normal(2.5, 1, (150, 2))]
    names = np.array(["cat"] * 150 + ["dog"] * 150)
    for part, rows in (("train", slice(0, 300, 2)), ("test", slice(1, 300, 2))):
        lines = ["a,b,animal"] + [f"{u},{v},{n}" for (u, v), n in zip(x[rows], names[rows])]
        (tmp_path / f"{part}.csv").write_text("\n".join(lines) + "\n")
    assert main(["classify", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"), "--kind", "linear",
                 "--epochs", "5", "--cut", "roc", "--out", str(tmp_path / "clf"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "classes ['cat', 'dog'] (cat: 75, dog: 75 rows)" in out
    assert "cut: class dog where t = ln p(cat|x) - ln p(dog|x) < " in out and "Youden" in out
    matrix = out.split("fraction of the class predicted right)\n")[1].splitlines()[1:3]
    counts = np.array([[int(v) for v in line.split()[1:3]] for line in matrix])
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert counts.sum(1).tolist() == [75, 75] and np.trace(counts) / 150 == pytest.approx(accuracy, abs=1e-4)
    fractions = [float(line.split()[-1]) for line in matrix]
    np.testing.assert_allclose(fractions, np.diag(counts) / 75, atol=1e-3)
    assert f"ROC curve: {tmp_path / 'clf' / 'roc.png'}" in out and (tmp_path / "clf" / "roc.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["train", "{d}/missing.csv", "--out", "{d}/x"], "does not exist"),
    (["train", "{d}/bad.csv", "--out", "{d}/x"], "line 3: not comma-separated numbers"),
    (["train", "{d}/ragged.csv", "--out", "{d}/x"], "different numbers of columns"),
    (["train", "{d}/nan.csv", "--out", "{d}/x"], "NaN or inf (first in row 2)"),
    (["train", "{d}/moons.csv", "--kind", "cinn", "--out", "{d}/x"], "kind 'cinn' is conditional"),
    (["train", "{d}/data.json", "--out", "{d}/x"], "unknown format"),
    (["train", "{d}/moons.csv", "--tensorboard", "{d}/moons.csv", "--out", "{d}/x"], "cannot create the log folder"),
    (["export", "{d}", "{d}/sm"], "holds no trained flow"),
    (["info", "{d}"], "not a SavedModel"),
    (["evaluate", "{run}/saved_model", "{d}/three.csv"], "has 3 columns, expected 2"),
    (["sample", "{run}/saved_model", "--condition", "{d}/moons.csv"], "unconditional"),
    (["classify", "{d}/moons.csv", "--label-column", "5", "--out", "{d}/c"], "outside the 2 columns"),
])
def test_bad_input_ends_with_one_clear_line_and_status_2(argv, message, workdir, trained_run, capsys):
    (workdir / "bad.csv").write_text("a,b\n1,2\n3,x\n")
    (workdir / "ragged.csv").write_text("1,2\n3\n")
    (workdir / "nan.csv").write_text("1,2\nnan,3\n")
    (workdir / "data.json").write_text("{}")
    np.savetxt(workdir / "three.csv", np.ones((4, 3)), delimiter=",")
    capsys.readouterr()
    argv = [a.format(d=workdir, run=trained_run) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physflow: error:") and message in err and "\n" not in err and "Traceback" not in err


@pytest.mark.slow
def test_demo_runs_the_main_job(tmp_path, tensorboard_scalars):
    exe = shutil.which("physflow")
    out = subprocess.run([exe, "demo", "--quiet", "--out", str(tmp_path), "--tensorboard", str(tmp_path / "tb")],
                         capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Table 1 (left)" in out.stdout and "Table 1 (right)" in out.stdout
    row = next(line for line in out.stdout.splitlines() if line.startswith("linear "))
    assert float(row.split()[1]) > 0.8  # averaged 1D-KS score
    for name in ("figure1.png", "loss_linear.png", "marginals_linear.png", "generator/saved_model.pb"):
        assert (tmp_path / name).exists()
    assert len(tensorboard_scalars(tmp_path / "tb" / "linear" / "train")["epoch_critic_loss"]) == 60
