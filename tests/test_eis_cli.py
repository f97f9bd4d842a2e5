"""physflow eis fit and eis learn on a user's files, physflow sample and info on the generator they export."""

import json

import numpy as np
import pytest
from impedance.models.circuits import CustomCircuit

from tfp_physflow.cli import main
from tfp_physflow.data import read_spectra

CIRCUIT = "R0-p(R1,CPE1)"
F = np.geomspace(0.1, 1e5, 30)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A folder of f, Z', Z'' exports and a wide -Z'' table of the same spectra (impedance.py's circuit)."""
    root = tmp_path_factory.mktemp("eis")
    rng = np.random.default_rng(7)
    truth = np.column_stack([rng.uniform(5, 20, 60), rng.uniform(50, 200, 60), rng.uniform(2e-5, 8e-5, 60),
                             rng.uniform(0.75, 0.92, 60)])
    (root / "exports").mkdir()
    lines = ["name," + ",".join(f"re_{f!r}" for f in F.tolist()) + "," + ",".join(f"-im_{f!r}" for f in F.tolist())]
    for i, p in enumerate(truth):
        z = CustomCircuit(CIRCUIT, initial_guess=list(p)).predict(F)
        z = z.real * (1 + 0.01 * rng.standard_normal(F.size)) + 1j * z.imag * (1 + 0.01 * rng.standard_normal(F.size))
        if i < 12:
            np.savetxt(root / "exports" / f"cell_{i:02d}.csv", np.column_stack([F, z.real, z.imag]), delimiter=",")
        lines.append(f"cell_{i:02d}," + ",".join(repr(v) for v in z.real.tolist()) + ","
                     + ",".join(repr(-v) for v in z.imag.tolist()))
    (root / "spectra.csv").write_text("\n".join(lines) + "\n")
    return root, truth


def test_eis_fit_writes_parameters_summary_and_overlays(exports, capsys):
    root, truth = exports
    assert main(["eis", "fit", str(root / "exports"), "--circuit", CIRCUIT, "--out", str(root / "fit"),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "12 spectra, 30 frequencies" in out and "CPE1.Q        F s^(alpha-1)" in out
    table = np.genfromtxt(root / "fit" / "parameters.csv", delimiter=",", names=True, dtype=None, encoding=None)
    assert table["name"].tolist() == [f"cell_{i:02d}" for i in range(12)]
    fitted = np.column_stack([table[n] for n in ("R0", "R1", "CPE1Q", "CPE1alpha")])
    assert np.median(np.abs(fitted / truth[:12] - 1)) < 0.05 and np.all(table["relative_residual"] < 0.05)
    assert (root / "fit" / "fits.png").stat().st_size > 10_000


def test_eis_learn_generates_a_labeled_data_set_figures_and_a_generator(exports, capsys, tensorboard_scalars):
    root, _ = exports
    run = root / "learn"
    assert main(["eis", "learn", str(root / "spectra.csv"), "--circuit", CIRCUIT, "-n", "300", "--out", str(run),
                 "--quiet"]) == 0
    out = capsys.readouterr().out  # the default: an nsf flow of the fits, trained until held-out fits stop improving
    assert "nsf flow" in out and "fit_circuit" in out and "(early stop: no improvement for 50 epochs)" in out
    generated = np.load(run / "generated.npz")
    assert generated["parameters"].shape == (300, 4) and generated["spectra"].shape == (300, 30)
    assert np.all(generated["parameters"][:, 3] < 1) and np.all(np.isfinite(generated["spectra"]))
    again = read_spectra(run / "generated.csv")  # the labeled set reads back as spectra with metadata
    np.testing.assert_allclose(again.spectra, generated["spectra"], rtol=1e-6)
    np.testing.assert_allclose(again.metadata["CPE1.alpha"], generated["parameters"][:, 3], rtol=1e-6)
    for figure in ("marginals.png", "pairs.png", "spectra.png", "loss.png"):
        assert (run / figure).stat().st_size > 10_000, figure
    # The exported generator: physflow info and physflow sample (parameters and spectra).
    assert main(["info", str(run / "saved_model")]) == 0
    info = capsys.readouterr().out
    assert "frequencies: 30 from 0.1 to 1e+05 Hz" in info and CIRCUIT in info
    assert main(["sample", str(run / "saved_model"), "-n", "50", "--out", str(root / "drawn.csv")]) == 0
    drawn = read_spectra(root / "drawn.csv")
    assert drawn.spectra.shape == (50, 30) and sorted(drawn.metadata) == ["CPE1.Q", "CPE1.alpha", "R0", "R1"]
    assert json.loads((run / "history.json").read_text())
    capsys.readouterr()
    assert main(["sample", str(run / "saved_model"), "--out", str(root / "p.npy")]) == 2  # parameters and spectra
    err = capsys.readouterr().err
    assert err.startswith("physflow: error:") and ("use .csv or .npz" in err or "give --out a .csv or .npz" in err)


@pytest.mark.slow  # adversarial training with its XLA compile (15-25 s); fit_adversarial's pretrain runs by default
def test_eis_learn_hybrid_trains_the_physics_aware_flow_and_logs_each_phase(exports, capsys, tensorboard_scalars):
    root, _ = exports  # the physics-aware flow instead: adversarial training, started from the flow of the fits
    assert main(["eis", "learn", str(root / "spectra.csv"), "--circuit", CIRCUIT, "--method", "hybrid", "--kind",
                 "linear", "--epochs", "2", "-n", "50", "--out", str(root / "hybrid"), "--quiet", "--tensorboard",
                 str(root / "tb")]) == 0
    assert "linear flow" in capsys.readouterr().out and (root / "hybrid" / "loss.png").stat().st_size > 10_000
    rows = json.loads((root / "hybrid" / "history.json").read_text())["rows"]
    assert len(rows) == 2 and "critic_loss" in rows[0]
    logged = tensorboard_scalars(root / "tb" / "train")  # each phase's loss and the learning rate, per epoch
    np.testing.assert_allclose([v for _, v in logged["epoch_generator_loss"]], [r["generator_loss"] for r in rows],
                               rtol=1e-6)
    assert len(logged["epoch_learning_rate"]) == 2


@pytest.mark.slow  # trains and exports a posterior end to end (20-35 s); the Python API is tested by default
def test_eis_posterior_trains_exports_and_starts_eis_fit(exports, capsys):
    root, truth = exports
    post = root / "posterior"
    assert main(["eis", "posterior", "--circuit", CIRCUIT, "--frequencies", str(root / "exports"), "--prior", "fits",
                 "--epochs", "1", "--steps", "40", "--out", str(post), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "coverage on 1000 held-out simulated spectra" in out and "CPE1.alpha" in out
    assert (post / "saved_model" / "saved_model.pb").is_file() and (post / "loss.png").stat().st_size > 10_000
    assert main(["eis", "fit", str(root / "spectra.csv"), "--circuit", CIRCUIT, "--posterior", str(post),
                 "--out", str(root / "fit_post"), "--quiet"]) == 0
    table = np.genfromtxt(root / "fit_post" / "parameters.csv", delimiter=",", names=True, dtype=None, encoding=None)
    fitted = np.column_stack([table[n] for n in ("R0", "R1", "CPE1Q", "CPE1alpha")])
    assert np.median(np.abs(fitted / truth - 1)) < 0.05 and np.all(table["relative_residual"] < 0.05)
    intervals = np.genfromtxt(root / "fit_post" / "posterior.csv", delimiter=",", names=True, dtype=None,
                              encoding=None)
    assert len(intervals) == 60 and np.all(intervals["R1_q05"] <= intervals["R1"])
    assert np.all(intervals["R1"] <= intervals["R1_q95"])
    # A posterior of another circuit or grid is refused with one line.
    assert main(["eis", "fit", str(root / "spectra.csv"), "--circuit", "R0-p(R1,C1)", "--posterior", str(post),
                 "--out", str(root / "x")]) == 2
    assert "not of 'R0-p(R1,C1)'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["eis", "fit", "{d}/nothing", "--circuit", CIRCUIT, "--out", "{d}/x"], "does not exist"),
    (["eis", "fit", "{d}/spectra.csv", "--circuit", "R0-p(R1,Q1)", "--out", "{d}/x"], "unknown circuit element"),
    (["eis", "fit", "{d}/spectra.csv", "--circuit", CIRCUIT, "--imaginary", "Z''", "--out", "{d}/x"],
     "named as -Z''"),
    (["eis", "learn", "{d}/spectra.csv", "--circuit", CIRCUIT, "--epochs", "3", "--out", "{d}/x"],
     "--epochs counts adversarial epochs"),
])
def test_bad_input_ends_with_one_line(argv, message, exports, capsys):
    root, _ = exports
    assert main([a.format(d=root) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("physflow: error:")
    assert any(m in err[0] for m in message.split("|")), err[0]
