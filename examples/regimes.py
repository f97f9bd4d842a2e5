"""Where physics-aware flows win: every label-free generator of circuit parameters, regime by regime.

A user with unlabeled spectra and a circuit can fit every spectrum
(``fit_circuit``) and then resample the fits, fit a Gaussian to them, or
train a flow on them by maximum likelihood; or train a physics-aware flow
adversarially on the spectra themselves (Schindler & Schmid), optionally
started from the flow of the fits (the hybrid, ``pretrain=True``). Each
regime simulates training spectra, gives every method the spectra alone, and
scores 1D-KS and 2D-KS (1 best) of its generated parameters against the
true ones of held-out spectra (interchangeable arcs in order):

  noise 1 %, 5 %, 20 %   the paper's Rs-p(Re,Ce), 48 frequencies 1.3 Hz - 16 kHz
  truncated band         2 - 16 kHz: the arc's low-frequency side is missing, Re is barely seen
  8 frequencies          8 per spectrum over the full band
  overlapping arcs       R0-p(R1,C1)-p(R2,C2), both time constants in the same range:
                         per-spectrum fits are not identifiable
  CPE                    R0-p(R1,CPE1) at default ranges

Figures: regime_<name>.png, marginals of the truth against the best
baseline, the flow of fits and the best physics-aware flow.

    python examples/regimes.py --quick    # 1,000 training spectra, linear and nsf, 30 epochs: 21 minutes
    python examples/regimes.py            # 3,000, linear, realnvp and nsf, 100 epochs (not yet timed)
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfp_physflow import Circuit, fit_circuit, plots, train_physics_flow  # noqa: E402
from tfp_physflow.cli.ecm_report import FLOW_OPTIONS  # noqa: E402
from tfp_physflow.data import simulate_impedance  # noqa: E402
from tfp_physflow.metrics import ks2d_score, ks_score  # noqa: E402
from tfp_physflow.physics import DEFAULT_CIRCUIT, default_frequencies, fit_baselines  # noqa: E402

F = default_frequencies()
REGIMES = {
    "noise 1 %": {"noise": 0.01},
    "noise 5 %": {"noise": 0.05},
    "noise 20 %": {"noise": 0.20},
    "truncated band": {"frequencies": np.geomspace(2e3, F.max(), 48)},
    "8 frequencies": {"frequencies": np.geomspace(F.min(), F.max(), 8)},
    "overlapping arcs": {"circuit": "R0-p(R1,C1)-p(R2,C2)",
                         "ranges": {"R1": (100.0, 400.0), "R2": (100.0, 400.0), "C1": (1e-6, 4e-6),
                                    "C2": (1e-6, 4e-6)}},
    "CPE": {"circuit": "R0-p(R1,CPE1)"},
}


def run_regime(name, spec, kinds, n_train, n_val, epochs, seed, verbose, out):
    """Trains and scores every method in one regime; returns {method: (1D-KS, 2D-KS)}."""
    circuit = Circuit(spec.get("circuit", DEFAULT_CIRCUIT))
    f = spec.get("frequencies", F)
    options = {"circuit": circuit.text, "frequencies": f, "ranges": spec.get("ranges"), "noise": spec.get("noise", 0.01)}
    train = simulate_impedance(n_train, seed=seed + 1, **options)
    truth = circuit.in_order(simulate_impedance(n_val, seed=seed + 2, **options).parameters)
    print(f"\n== {name}: {circuit.text}, {len(f)} frequencies {f.min():.3g}-{f.max():.3g} Hz, noise "
          f"{options['noise']:.0%}; {n_train} training spectra (unlabeled), {n_val} true parameter vectors")
    start = time.time()
    fits = fit_circuit(train.spectra, circuit, f, starts="pilot", seed=seed).parameters
    generated = fit_baselines(fits, circuit, n_val, seed=seed, flows={"nsf": {}})  # physflow eis learn's default
    print(f"  fit_circuit and the baselines: {time.time() - start:.0f} s")
    runs = {f"{kind} (adversarial)": (kind, FLOW_OPTIONS[kind]) for kind in kinds}
    runs["hybrid: nsf of fits, then adversarial"] = ("nsf", {"fits": fits, "pretrain": True})
    for label, (kind, flow_options) in runs.items():
        start = time.time()
        generator, history = train_physics_flow(kind, train.spectra, f, circuit.text, epochs=epochs, seed=seed,
                                                verbose=verbose, flow_options=flow_options)
        generated[label] = generator.sample_parameters(n_val, seed=seed + 3).numpy()
        print(f"  {label}: {len(history)} epochs ({history.stop_reason}) in {time.time() - start:.0f} s")
    scores = {label: (ks_score(p, truth), ks2d_score(p, truth)) for label, p in generated.items()}
    print(f"  {'generator':40}{'1D-KS':>8}{'2D-KS':>8}")
    for label, (ks, ks2d) in scores.items():
        print(f"  {label:40}{ks:>8.3f}{ks2d:>8.3f}")
    baselines = [label for label in scores if "adversarial" not in label]
    flows = [label for label in scores if "adversarial" in label]
    best_baseline = max(baselines, key=lambda label: scores[label][0])
    best_flow = max(flows, key=lambda label: scores[label][0])
    shown = {label: generated[label] for label in dict.fromkeys([best_baseline, "nsf flow of fits", best_flow])}
    plots.plot_marginals(truth, shown, circuit.parameter_names, units=circuit.parameter_units).savefig(
        os.path.join(out, f"regime_{name.replace(' ', '_').replace('%', 'pct')}.png"))
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer spectra, two flow kinds, 30 epochs")
    parser.add_argument("--regimes", nargs="+", choices=sorted(REGIMES), help="regimes to run (default all)")
    parser.add_argument("--epochs", type=int, help="adversarial epochs per flow (default 100, quick 30)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/regimes", help="folder for the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    kinds = ["linear", "nsf"] if args.quick else ["linear", "realnvp", "nsf"]
    n_train, n_val = (1000, 5000) if args.quick else (3000, 20000)
    results = {}
    for name in args.regimes or REGIMES:
        results[name] = run_regime(name, REGIMES[name], kinds, n_train, n_val, args.epochs or (30 if args.quick else 100),
                                   args.seed, not args.quiet, args.out)
    print("\nSummary: the best baseline and the best physics-aware flow per regime, 1D-KS / 2D-KS")
    print(f"{'regime':18}{'best baseline':>46}{'best physics-aware flow':>56}")
    for name, scores in results.items():
        cells = []
        for adversarial in (False, True):
            label = max((k for k in scores if ("adversarial" in k) == adversarial), key=lambda k: scores[k][0])
            cells.append(f"{label} {scores[label][0]:.3f} / {scores[label][1]:.3f}")
        print(f"{name:18}{cells[0]:>46}{cells[1]:>56}")
    print(f"\nfigures regime_*.png in {args.out}; {time.time() - started:.0f} s in all")


if __name__ == "__main__":
    main()
