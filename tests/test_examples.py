"""Examples and benchmarks run end to end (slow: run with `pytest -m slow`)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def run(args, cwd):
    result = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
def test_cinn_basics_beats_the_linear_gaussian(tmp_path):
    out = run([str(ROOT / "examples" / "cinn_basics.py"), "--quick", "--out", str(tmp_path)], tmp_path)
    row = next(line for line in out.splitlines() if line.startswith("held-out NLL"))
    cinn, gauss = map(float, row.split()[-2:])
    assert cinn < gauss - 1.0, row
    assert (tmp_path / "posterior.png").exists() and (tmp_path / "saved_model" / "saved_model.pb").exists()


@pytest.mark.slow
def test_flow_benchmark_runs_every_workload_and_writes_json(tmp_path):
    out = run([str(ROOT / "bench" / "flows.py"), "--quick", "--json", "bench.json"], tmp_path)
    report = json.loads((tmp_path / "bench.json").read_text())
    libraries = {(c["workload"], c["task"]): set() for c in report["cells"]}
    for cell in report["cells"]:
        libraries[(cell["workload"], cell["task"])].add(cell["library"])
        assert cell["median"] > 0 and cell["peak_rss_mb"] > 0 and cell["first_s"] > 0
    assert len(libraries) == 8  # W1-W5: 4 train steps, 3 sampling tasks, 1 log_prob
    assert all({"ours", "tfp"} <= libs for libs in libraries.values())
    assert len(report["ratios"]) == 8 and "ours / best peer" in out
    if importlib.util.find_spec("torch") is not None:
        assert all({"zuko", "nflows"} <= libs for libs in libraries.values())


@pytest.mark.slow
@pytest.mark.shared_data("rrlyrae/RRLyrae.fit")
def test_density_classification_prints_every_comparison(tmp_path):
    out = run([str(ROOT / "examples" / "density_classification.py"), "--quick", "--out", str(tmp_path)], tmp_path)
    for name in ("digits", "breast cancer", "RR Lyrae type ab"):
        assert name in out
    rows = [line for line in out.splitlines() if line.strip().startswith("FlowClassifier")]
    assert len(rows) == 6 and all(0.8 < float(r.split()[2]) <= 1.0 for r in rows)
    assert "Table III" in out  # run, or skipped with the name of the missing file


@pytest.mark.slow
def test_ecm_adversarial_quick_recovers_the_parameter_ranges(tmp_path):
    out = run([str(ROOT / "examples" / "ecm_adversarial.py"), "--quick", "--quiet", "--out", str(tmp_path)], tmp_path)
    row = next(line for line in out.splitlines() if line.startswith("diagonal "))
    assert float(row.split()[1]) > 0.8, row  # averaged 1D-KS score
    assert "Table 1 (right)" in out and (tmp_path / "figure1.png").exists()
    assert (tmp_path / "generator" / "saved_model.pb").exists()
    for baseline in ("fit resample", "Gaussian of fits", "diagonal flow of fits", "nsf flow of fits"):  # both tables
        assert sum(line.startswith(baseline + " ") for line in out.splitlines()) == 2, baseline
    fits = next(line for line in out.splitlines() if line.startswith("fit resample "))
    assert float(fits.split()[2]) > 0.9, fits  # 1 % noise, an identifiable circuit: the fits are close


@pytest.mark.slow
def test_coulomb_inverse_quick_compares_cinn_and_cvae(tmp_path):
    out = run([str(ROOT / "examples" / "coulomb_inverse.py"), "--quick", "--quiet", "--out", str(tmp_path)], tmp_path)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(("cINN ", "CVAE "))}
    assert set(rows) == {"cINN", "CVAE"}
    for name, row in rows.items():
        assert float(row[1]) < 0.05, row  # MSE (angstrom^2) of one posterior sample
    assert (tmp_path / "learning_curves.png").exists() and (tmp_path / "saved_model_cvae" / "saved_model.pb").exists()


@pytest.mark.slow
@pytest.mark.shared_data("locomotion")
def test_physics_vae_quick_prints_every_variant(tmp_path):
    out = run([str(ROOT / "examples" / "physics_vae.py"), "--quick", "--quiet", "--out", str(tmp_path)], tmp_path)
    for variant in ("VAE ", "VAE+PF ", "PhysVAE ", "PhysVAE+PF ", "PhysVAE+PF+Att "):
        rows = [line for line in out.splitlines() if line.startswith(variant)]
        assert len(rows) == 2, variant  # pendulum and locomotion
        assert all(0 < float(r.split()[1]) < 0.3 for r in rows)  # test MAE without dropout, radians
    assert (tmp_path / "pendulum.png").exists() and (tmp_path / "locomotion.png").exists()


@pytest.mark.slow
@pytest.mark.shared_data("eis/zhang2020/EIS_state_V_25C01.txt")
def test_battery_eis_quick_prints_four_tables_on_the_measured_spectra(tmp_path):
    data = ROOT.resolve().parent / "shared" / "data" / "eis" / "zhang2020"
    out = run([str(ROOT / "examples" / "battery_eis.py"), "--quick", "--quiet", "--data", str(data), "--out",
               str(tmp_path)], tmp_path)
    for title in ("1. Circuit choice", "2. Fidelity", "3. The paper's claim", "4. Chamber temperature"):
        assert title in out
    chosen = next(line for line in out.splitlines() if line.startswith("chosen:"))
    assert "-CPE3" in chosen or "W1" in chosen  # a low-frequency element: the 2-arc circuits fit 2-4x worse
    residual = next(line for line in out.splitlines() if line.startswith("fits of the held-out spectra"))
    assert float(residual.split("median residual ")[1].split(",")[0]) < 0.02, residual
    for name in ("spectra_linear.png", "marginals_linear.png", "pairs_linear.png", "loss_linear.png"):
        assert (tmp_path / name).exists()
    for baseline in ("linear flow of fits ", "nsf flow of fits "):  # in the fidelity and the forests tables
        assert sum(line.startswith(baseline) for line in out.splitlines()) == 2, baseline


@pytest.mark.slow
def test_regimes_scores_every_method_against_the_truth(tmp_path):
    out = run([str(ROOT / "examples" / "regimes.py"), "--quick", "--quiet", "--regimes", "noise 1 %", "--epochs", "5",
               "--out", str(tmp_path)], tmp_path)
    rows = {line.split("  ")[1].strip(): line.split()[-2:] for line in out.splitlines()
            if line.startswith("  ") and len(line.split()) >= 3 and line.split()[-1][0] in "01"}
    for method in ("fit resample", "Gaussian of fits", "nsf flow of fits", "linear (adversarial)", "nsf (adversarial)",
                   "hybrid: nsf of fits, then adversarial"):
        assert method in rows, (method, out)
    assert float(rows["fit resample"][0]) > 0.93, rows  # 1 % noise: fits are close to the truth
    assert "Summary" in out and (tmp_path / "regime_noise_1_pct.png").exists()


@pytest.mark.slow
def test_circuit_posterior_quick_is_calibrated_accurate_and_exported(tmp_path):
    out = run([str(ROOT / "examples" / "circuit_posterior.py"), "--quick", "--quiet", "--out", str(tmp_path)],
              tmp_path)
    lines = out.splitlines()
    start = lines.index("parameter       68 % coverage  95 % coverage")  # the first circuit's table
    coverage = [[float(v.rstrip("%")) for v in line.split()[1:]] for line in lines[start + 1:start + 5]]
    assert all(60 < c68 < 80 and 88 < c95 <= 100 for c68, c95 in coverage), coverage
    ratio = next(line for line in lines if line.startswith("worst posterior-median / fit_circuit"))
    assert float(ratio.split()[-1]) < 2.0, ratio
    assert (tmp_path / "posterior" / "saved_model.pb").exists() and (tmp_path / "ranks_R0_p_R1_CPE1_.png").exists()
