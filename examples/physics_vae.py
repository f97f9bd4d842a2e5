"""Physics-integrated VAE with planar-flow posteriors: pendulum and human locomotion.

Reproduces the comparison of "Physics-integrated generative modeling using
attentive planar normalizing flow based variational autoencoder" (Akhtar,
arXiv 2404.12267), built on Takeishi & Kalousis (NeurIPS 2021):

  VAE                plain VAE (MLP decoder)
  VAE+PF             plain VAE, planar flows on the posterior
  PhysVAE            physics decoder (RK4 solver) + neural correction
  PhysVAE+PF         ... with planar flows (separate stacks for physics / auxiliary latents)
  PhysVAE+PF+Att     ... with the attentive encoder (the paper's model)

Data: the forced damped pendulum of Takeishi & Kalousis (train / valid / test
1000 / 500 / 1000, seeds 1234 / 1235 / 1236; the physics model knows only
theta'' = -w^2 sin theta), and the processed walking data in
../shared/data/locomotion (hip, knee, ankle over a gait cycle; physics: a
harmonic oscillator per joint). Reported: test reconstruction MAE per
variant; MAE under the paper's "noise" (feature dropout at the encoder)
0 - 25 %; for the pendulum, the correlation of the physics latent w with the
true w.

    python examples/physics_vae.py --quick      # about 2 minutes
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tfp_physflow as pf  # noqa: E402
from tfp_physflow.models import PhysicsVAE, fit_physics_vae  # noqa: E402
from tfp_physflow.physics.pendulum import forced_damped_pendulum  # noqa: E402

LOCOMOTION = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomotion"
PAPER_LOCOMOTION_MAE = 0.1567
DROPOUT = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25)
VARIANTS = {"VAE": dict(physics=False, flows=0, attention=False),
            "VAE+PF": dict(physics=False, flows=4, attention=False),
            "PhysVAE": dict(physics=True, flows=0, attention=False),
            "PhysVAE+PF": dict(physics=True, flows=4, attention=False),
            "PhysVAE+PF+Att": dict(physics=True, flows=4, attention=True)}


def datasets(locomotion_dir):
    out = {}
    (tr, _), (va, _), (te, te_params) = (forced_damped_pendulum(n, seed=s)
                                         for n, s in ((1000, 1234), (500, 1235), (1000, 1236)))
    out["pendulum"] = dict(train=tr, valid=va, test=te, omega=te_params["omega"], physics="pendulum", dt=0.05,
                           omega_scale=2.0)
    try:
        tr, va, te = (pf.data.load_locomotion(locomotion_dir, s) for s in ("train", "valid", "test"))
        out["locomotion"] = dict(train=tr, valid=va, test=te, omega=None, physics="harmonic", dt=0.01,
                                 omega_scale=2 * np.pi)
    except ValueError as err:
        print(f"locomotion skipped: {err}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--epochs", type=int, help="maximum epochs (default 400, quick 20)")
    parser.add_argument("--locomotion", default=str(LOCOMOTION), help="folder of data_{train,valid,test}.mat")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out/physics_vae", help="folder for figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    epochs = args.epochs or (20 if args.quick else 400)
    os.makedirs(args.out, exist_ok=True)

    for name, d in datasets(args.locomotion).items():
        channels, timesteps = d["train"].shape[1:]
        print(f"\n{name}: train {len(d['train'])}, valid {len(d['valid'])}, test {len(d['test'])} series of "
              f"{channels} x {timesteps}")
        rows, curves = {}, {}
        for variant, flags in VARIANTS.items():
            keras.utils.set_random_seed(args.seed)
            model = PhysicsVAE(channels, timesteps, d["dt"], physics=d["physics"] if flags["physics"] else None,
                               flows=flags["flows"], attention=flags["attention"], omega_scale=d["omega_scale"],
                               seed=args.seed)
            history = fit_physics_vae(model, d["train"], validation_data=(d["valid"].astype("float32"),),
                                      epochs=epochs, batch_size=100, learning_rate=1e-3, patience=30,
                                      seed=args.seed, verbose=not args.quiet)
            errors = []
            for p in DROPOUT:
                x_hat, omega = model.reconstruct(d["test"], feature_dropout=p, seed=args.seed)
                errors.append(float(np.mean(np.abs(x_hat.numpy() - d["test"]))))
                if p == 0.0:
                    clean, omega0 = x_hat.numpy(), omega
            corr = (float(np.corrcoef(omega0.numpy()[:, 0], d["omega"])[0, 1])
                    if omega0 is not None and d["omega"] is not None else None)
            rows[variant], curves[variant] = (errors, corr, len(history)), clean
        paper = f"; paper's PhysVAE+PF+Att on locomotion: {PAPER_LOCOMOTION_MAE}" if name == "locomotion" else ""
        print(f"test reconstruction MAE (radians) by encoder feature dropout{paper}")
        print(f"{'variant':16}" + "".join(f"{int(p * 100):>7}%" for p in DROPOUT)
              + ("   corr(w, true w)" if name == "pendulum" else "") + "  epochs")
        for variant, (errors, corr, n_epochs) in rows.items():
            extra = ("" if name != "pendulum" else f"{corr:18.3f}" if corr is not None else f"{'-':>18}")
            print(f"{variant:16}" + "".join(f"{e:8.4f}" for e in errors) + extra + f"{n_epochs:8d}")

        fig, axes = plt.subplots(1, 2, figsize=(12, 4))
        for variant, (errors, _, _) in rows.items():
            axes[0].plot([100 * p for p in DROPOUT], errors, marker="o", label=variant)
        axes[0].set(xlabel="encoder feature dropout (%)", ylabel="test MAE", title=f"{name}: robustness")
        axes[0].legend(fontsize=8)
        t = np.arange(timesteps)
        axes[1].plot(t, d["test"][0, 0], "k", lw=2, label="data")
        for variant in ("VAE", "PhysVAE+PF+Att"):
            axes[1].plot(t, curves[variant][0, 0], label=variant)
        axes[1].set(xlabel="time step", ylabel="channel 0", title=f"{name}: a test series reconstructed")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, f"{name}.png"))
    print(f"\nfigures in {args.out}/")


if __name__ == "__main__":
    main()
