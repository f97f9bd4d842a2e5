"""cINN basics: a one-to-many inverse problem solved by a conditional invertible network.

Parameters x ~ N(0, I_2) are observed through y = |x| + noise, so the
posterior p(x | y) is a ring of radius about y: many x fit one y. A cINN maps
x to a latent z conditioned on y in every coupling block and is trained by
maximum likelihood (the loss 1/2 |z|^2 - log|det J| may go negative, as it
should once the density is sharper than a standard normal). Sampling z and
inverting given y gives posterior samples.

The table compares the cINN with a conditional Gaussian (x linear in y with
Gaussian noise, fitted by least squares): held-out negative log-likelihood,
and how well posterior samples reproduce the observation (| |x| - y |).

    python examples/cinn_basics.py --quick      # about a minute on 2 cores
"""

import argparse
import os

import numpy as np

NOISE = 0.05


def simulate(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2))
    y = np.linalg.norm(x, axis=1, keepdims=True) + NOISE * rng.standard_normal((n, 1))
    return x, y


def linear_gaussian(x, y, x_test, y_test, samples_for):
    """Baseline: x | y ~ N(A [y, 1], S), fitted by least squares; NLL and samples."""
    from scipy import stats

    design = np.hstack([y, np.ones_like(y)])
    coef, *_ = np.linalg.lstsq(design, x, rcond=None)
    cov = np.cov(x - design @ coef, rowvar=False)
    mean_test = np.hstack([y_test, np.ones_like(y_test)]) @ coef
    nll = -np.mean([stats.multivariate_normal(m, cov).logpdf(v) for m, v in zip(mean_test, x_test)])
    rng = np.random.default_rng(0)
    draws = {yv: rng.multivariate_normal(np.array([yv, 1.0]) @ coef, cov, 2000) for yv in samples_for}
    return nll, draws


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples, blocks and epochs")
    parser.add_argument("--out", default="out/cinn_basics", help="folder for figures and the SavedModel")
    args = parser.parse_args()

    import keras
    import matplotlib.pyplot as plt

    import tfp_physflow as pf

    n, blocks, epochs = (8000, 6, 80) if args.quick else (40000, 20, 200)
    x, y = simulate(n, seed=0)
    x_test, y_test = simulate(2000, seed=1)
    flow = pf.make_flow("cinn", 2, condition_dim=1, num_layers=blocks, hidden_units=(64, 64))
    steps = epochs * int(0.9 * n) // 256
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps))
    history = pf.fit_flow(flow, x, y, epochs=epochs, batch_size=256, validation_split=0.1, patience=10,
                          optimizer=optimizer)
    cinn_nll = float(-flow.log_prob(x_test, y_test).numpy().mean())

    shown = (0.5, 1.5, 2.5)
    gauss_nll, gauss_draws = linear_gaussian(x, y, x_test, y_test, shown)
    cinn_draws = {yv: flow.sample(2000, condition=[yv], seed=7).numpy() for yv in shown}

    def consistency(draws):
        return np.median(np.concatenate([np.abs(np.linalg.norm(d, axis=1) - yv) for yv, d in draws.items()]))

    print(f"\n{'':34} {'cINN':>10} {'linear Gaussian':>16}")
    print(f"{'held-out NLL per sample (nats)':34} {cinn_nll:10.3f} {gauss_nll:16.3f}")
    print(f"{'median | |x| - y | of samples':34} {consistency(cinn_draws):10.3f} "
          f"{consistency(gauss_draws):16.3f}")
    print(f"(observation noise: {NOISE}; the training loss ended at {history['loss'][-1]:.3f}, "
          f"best validation epoch {history.best_epoch})")

    os.makedirs(args.out, exist_ok=True)
    pf.plot_history(history, title="cINN maximum likelihood").savefig(os.path.join(args.out, "loss.png"))
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 4), sharex=True, sharey=True)
    for ax, yv in zip(axes, shown):
        ax.scatter(*gauss_draws[yv].T, s=2, alpha=0.3, label="linear Gaussian")
        ax.scatter(*cinn_draws[yv].T, s=2, alpha=0.3, label="cINN")
        ax.add_patch(plt.Circle((0, 0), yv, fill=False, color="k", ls="--", label="|x| = y"))
        ax.set(title=f"posterior samples given y = {yv}", aspect="equal")
    axes[0].legend(loc="upper left", markerscale=5)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "posterior.png"))
    pf.export_flow(flow, os.path.join(args.out, "saved_model"))
    print(f"figures and SavedModel in {args.out}/")


if __name__ == "__main__":
    main()
