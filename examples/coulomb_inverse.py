"""Coulomb explosion imaging: molecular geometry from fragment momenta, cINN against CVAE.

A. Ghanaatian's CVAE/cINN proposal (2024) for OCS: recover the positions of the O, C and S atoms
(9 numbers, angstrom) from the momenta measured after a Coulomb explosion (9
numbers). Data: ``tfp_physflow.data.simulate_coulomb`` (equilibrium OCS with
Gaussian vibrations, random orientation, charges +1 each, classical
explosion). Split 70 / 15 / 15; momenta standardised with the training
statistics; positions never reach a model at test time.

Reported on the test split, for both models:
  MSE, MRE     of one posterior sample per test case (the proposal's protocol)
  mean-100     the same errors of the mean of 100 posterior samples
  coverage     how often the true coordinate lies inside the central 68 % / 95 %
               interval of the 100 samples (calibration; the proposal lacks it)

    python examples/coulomb_inverse.py --quick     # about two minutes
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib.pyplot as plt  # noqa: E402

import tfp_physflow as pf  # noqa: E402
from tfp_physflow import metrics  # noqa: E402

PROPOSAL = {"CVAE": (0.6760, 0.7920), "cINN": (0.9483, 0.8327)}


def evaluate(model, momenta, positions, seed):
    samples = model.sample(100, condition=momenta, seed=seed).numpy()  # (100, B, 9)
    one, mean = samples[0], samples.mean(0)
    return {"mse": metrics.mse(positions, one), "mre": metrics.mean_relative_error(positions, one),
            "mse100": metrics.mse(positions, mean), "mre100": metrics.mean_relative_error(positions, mean),
            "coverage": metrics.interval_coverage(samples, positions), "samples": samples}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer molecules, blocks and epochs")
    parser.add_argument("--molecules", type=int, help="molecules to simulate (default 20000, quick 3000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/coulomb_inverse", help="folder for figures and SavedModels")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    n = args.molecules or (3000 if args.quick else 20000)
    os.makedirs(args.out, exist_ok=True)

    start = time.time()
    train, val, test = pf.data.simulate_coulomb(n, seed=args.seed).split(seed=args.seed)
    print(f"simulated {n} Coulomb explosions of OCS in {time.time() - start:.0f} s "
          f"(train {len(train.positions)}, validation {len(val.positions)}, test {len(test.positions)})")
    mean, std = train.momenta.mean(0), train.momenta.std(0)

    def condition(d):
        return ((d.momenta - mean) / std).astype("float32")

    train_xc = (train.positions.astype("float32"), condition(train))
    val_xc = (val.positions.astype("float32"), condition(val))
    cinn = pf.make_flow("cinn", 9, 9, num_layers=6 if args.quick else 20, hidden_units=(128, 128))
    cvae = pf.CVAE(9, 9, seed=args.seed)
    histories = {
        "cINN": pf.fit_flow(cinn, *train_xc, validation_data=val_xc, batch_size=512, epochs=40 if args.quick else 400,
                            learning_rate=1e-3, patience=20, seed=args.seed, verbose=not args.quiet),
        "CVAE": pf.fit_cvae(cvae, *train_xc, validation_data=val_xc, epochs=60 if args.quick else 1000,
                            seed=args.seed, verbose=not args.quiet),
    }
    results = {name: evaluate(model, condition(test), test.positions, args.seed)
               for name, model in (("cINN", cinn), ("CVAE", cvae))}

    print("\ntest split; positions in angstrom; proposal's numbers on its own data in brackets")
    print(f"{'model':6}{'MSE':>18}{'MRE':>18}{'MSE mean-100':>14}{'MRE mean-100':>14}{'cover 68%':>11}{'cover 95%':>11}")
    for name, r in results.items():
        p = PROPOSAL[name]
        print(f"{name:6}{r['mse']:9.4f} ({p[0]:.4f}){r['mre']:9.4f} ({p[1]:.4f}){r['mse100']:14.4f}"
              f"{r['mre100']:14.4f}{r['coverage'][0.68]:11.3f}{r['coverage'][0.95]:11.3f}")
    for name, h in histories.items():
        print(f"{name}: {len(h)} epochs, best {h.best_epoch} ({h.stop_reason})")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (name, h) in zip(axes, histories.items()):
        pf.plot_history(h, ax=ax, title=f"{name}: {'negative log-likelihood' if name == 'cINN' else 'MSE + KL'}")
    fig.savefig(os.path.join(args.out, "learning_curves.png"))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, (name, r) in zip(axes, results.items()):
        for atom, color in zip("OCS", ("tab:red", "tab:grey", "tab:olive")):
            i = "OCS".index(atom) * 3
            ax.scatter(r["samples"][:, 0, i], r["samples"][:, 0, i + 2], s=6, alpha=0.4, color=color,
                       label=f"{atom} samples")
            ax.scatter(test.positions[0, i], test.positions[0, i + 2], marker="x", s=80, color="k")
        ax.set(xlabel="x (angstrom)", ylabel="z (angstrom)", title=f"{name}: 100 posterior samples, truth x",
               aspect="equal")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "posterior_samples.png"))
    for name, model in (("cinn", cinn), ("cvae", cvae)):
        pf.export_conditional_sampler(model, os.path.join(args.out, f"saved_model_{name}"), mean, std)
    print(f"figures and SavedModels (signature sample_positions) in {args.out}/")


if __name__ == "__main__":
    main()
