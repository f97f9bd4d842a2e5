"""Amortized circuit posteriors: calibration, accuracy and speed against per-spectrum least squares.

For each circuit a ``CircuitPosterior`` (a cINN conditioned on a learned
summary of the spectrum) is trained once on pairs simulated on the fly
(default box prior, 1 % relative complex noise, 50 frequencies from
0.1 Hz to 100 kHz), then scored on spectra simulated from the same prior and
held out from training:

  1. calibration: empirical coverage of the central 68 % and 95 % posterior
     intervals per parameter, and a rank (simulation-based calibration)
     histogram figure;
  2. accuracy: median relative error of the posterior median against the
     truth, beside fit_circuit (32 random starts), posterior-initialised
     fit_circuit and impedance.py's CustomCircuit.fit (given the prior's
     centre as its initial guess);
  3. speed: spectra/s of each, measured in this run;
  4. R0-p(R1,C1)-Ws1: how the posterior shows the spectra where least
     squares lands in a local minimum;
  5. with the measured battery spectra (--data or $PHYSFLOW_DATA): a posterior
     with a box prior around fits of the training cells, scored on the
     held-out cells by the residual of its median spectrum.

Run:  python examples/circuit_posterior.py [--quick] [--out DIR]
Writes DIR/posterior (the SavedModel of the first circuit), DIR/ranks_*.png,
DIR/recovery_*.png and DIR/loss_*.png.
"""

import argparse
import os
import time
import warnings

import numpy as np

import tfp_physflow as pf
from tfp_physflow.physics import BoxPrior

CIRCUITS = ("R0-p(R1,CPE1)", "R0-p(R1,CPE1)-Wo1", "R0-p(R1,C1)-Ws1")
FREQUENCIES = np.geomspace(0.1, 1e5, 50)
BATTERY = "L0-R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
HELD_OUT = ("25C05", "35C02", "45C02")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def impedance_py_fit(circuit, frequencies, spectra, guess):
    """impedance.py's CustomCircuit.fit per spectrum, from ``guess``; (parameters (N, P), seconds)."""
    from impedance.models.circuits import CustomCircuit

    model = CustomCircuit(circuit, initial_guess=list(guess))
    out = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for z in spectra:
            try:
                out.append(model.fit(frequencies, z).parameters_)
            except RuntimeError:  # scipy's "optimal parameters not found"
                out.append(np.full(len(guess), np.nan))
    return np.array(out), time.perf_counter() - start


def relative_error(estimate, truth):
    """Median over spectra of |estimate / truth - 1|, per parameter (NaN fits count as infinite)."""
    err = np.abs(estimate / truth - 1)
    return np.median(np.where(np.isfinite(err), err, np.inf), axis=0)


def study(circuit_text, args, export_path=None):
    circuit = pf.Circuit(circuit_text)
    names = circuit.parameter_names
    print(f"\n=== {circuit_text}: {circuit.num_parameters} parameters, {len(FREQUENCIES)} frequencies, "
          f"1 % noise ===")
    posterior = pf.make_circuit_posterior(circuit, FREQUENCIES, noise=0.01, seed=args.seed)
    history, seconds = timed(pf.fit_circuit_posterior, posterior, epochs=args.epochs,
                             steps_per_epoch=args.steps, seed=args.seed, verbose=not args.quiet)
    print(f"trained on {args.epochs * args.steps * 512:,} simulated pairs in {seconds:.0f} s "
          f"(best validation NLL {min(history['val_loss']):.3f})")
    pf.plot_history(history).savefig(os.path.join(args.out, f"loss_{_slug(circuit_text)}.png"))
    if export_path:
        pf.export_circuit_posterior(posterior, export_path)
        print(f"SavedModel: {export_path}")

    truth, spectra = posterior.simulate(args.test, seed=10_000 + args.seed)
    samples, _ = timed(lambda: posterior.sample(spectra, 1000, seed=1).numpy())
    # 1. Calibration.
    print(f"\n1. Calibration on {args.test} held-out simulated spectra (1000 posterior samples each)")
    print(f"{'parameter':14}{'68 % coverage':>15}{'95 % coverage':>15}")
    cover = pf.metrics.interval_coverage(samples.transpose(1, 0, 2), truth, per_dimension=True)
    for j, name in enumerate(names):
        print(f"{name:14}{100 * cover[0.68][j]:>14.1f}%{100 * cover[0.95][j]:>14.1f}%")
    ranks = (samples[:, :99] < truth[:, None]).sum(1)  # rank of the truth among 99 draws, 0..99
    pf.plots.plot_rank_histograms(ranks, 99, names).savefig(os.path.join(args.out, f"ranks_{_slug(circuit_text)}.png"))

    # 2. Accuracy and 3. speed.
    median = np.median(samples, 1)
    # Every method is traced (tf.function) once on a few spectra before it is timed.
    pf.fit_circuit(spectra[:8], circuit, FREQUENCIES)
    pf.fit_circuit(spectra[:8], circuit, FREQUENCIES, initial=posterior)
    fit_default, t_fit = timed(pf.fit_circuit, spectra, circuit, FREQUENCIES)
    fit_initial, t_init = timed(pf.fit_circuit, spectra, circuit, FREQUENCIES, initial=posterior)
    n_imp = min(args.test, args.impedance_spectra)
    guess = np.sqrt(posterior.prior.low * posterior.prior.high)
    imp, t_imp = impedance_py_fit(circuit_text, FREQUENCIES, spectra[:n_imp], guess)
    many = np.tile(spectra, (max(1, 20_000 // len(spectra)), 1))
    posterior.summary(spectra[:64], n=100)  # traced once before timing
    _, t_post10 = timed(posterior.summary, many, n=10)
    _, t_post100 = timed(posterior.summary, many, n=100)
    _, t_post1000 = timed(posterior.summary, many[:5000], n=1000)
    print(f"\n2. Accuracy: median relative error against the truth ({args.test} spectra; impedance.py on {n_imp})")
    rows = [("posterior median", relative_error(median, truth)),
            ("fit_circuit (32 random starts)", relative_error(fit_default.parameters, truth)),
            ("fit_circuit from the posterior", relative_error(fit_initial.parameters, truth)),
            ("impedance.py CustomCircuit.fit", relative_error(imp, truth[:n_imp]))]
    print(f"{'method':34}" + "".join(f"{n:>12}" for n in names))
    for label, err in rows:
        print(f"{label:34}" + "".join(f"{e:>12.4f}" for e in err))
    ratio = np.max(rows[0][1] / np.maximum(rows[1][1], 1e-12))
    print(f"worst posterior-median / fit_circuit error ratio over parameters: {ratio:.2f}")
    imp_rate = n_imp / t_imp
    print("\n3. Speed (spectra/s, this machine, this run)")
    for label, rate in (("posterior summary, 10 samples", len(many) / t_post10),
                        ("posterior summary, 100 samples", len(many) / t_post100),
                        ("posterior summary, 1000 samples", 5000 / t_post1000),
                        ("fit_circuit from the posterior", len(spectra) / t_init),
                        ("fit_circuit (32 random starts)", len(spectra) / t_fit),
                        ("impedance.py CustomCircuit.fit", imp_rate)):
        print(f"{label:34}{rate:>12,.0f}{rate / imp_rate:>10.0f}x impedance.py")
    pf.plots.plot_recovery(truth, np.quantile(samples, [0.05, 0.5, 0.95], 1), names, circuit.parameter_units).savefig(
        os.path.join(args.out, f"recovery_{_slug(circuit_text)}.png"))
    if "Ws1" in circuit_text:
        local_minima(circuit, spectra, truth, {"posterior median": median, "fit_circuit (32 random starts)":
                                               fit_default.parameters, "fit_circuit from the posterior":
                                               fit_initial.parameters, "impedance.py CustomCircuit.fit": imp},
                     samples)
    return posterior


def local_minima(circuit, spectra, truth, fits, samples):
    """Fits that end above the residual of the true parameters (a local minimum: least squares should do at
    least as well as the truth), per method, and what the posterior says on those spectra."""
    def residual(params, z):
        model = circuit.impedance(np.where(np.isfinite(params), params, 1.0), FREQUENCIES).numpy()
        res = np.sqrt(np.mean(np.abs(model - z) ** 2 / np.abs(z) ** 2, 1))
        return np.where(np.all(np.isfinite(params), 1), res, np.inf)

    floor = residual(truth, spectra)
    print("\n4. Local minima: fits whose residual exceeds the true parameters' by more than 5 %")
    stuck = {}
    for label, params in fits.items():
        n = len(params)
        stuck[label] = residual(params, spectra[:n]) > 1.05 * floor[:n]
        print(f"   {label:34}{stuck[label].sum():>5} of {n}")
    width = np.log(np.quantile(samples, 0.95, 1) / np.quantile(samples, 0.05, 1))  # (N, P)
    median_error = np.abs(np.median(samples, 1) / truth - 1)
    for label, mask in stuck.items():
        if mask.any() and label != "posterior median":
            rows = np.flatnonzero(mask)
            other = np.setdiff1d(np.arange(len(mask)), rows)
            print(f"   on the {len(rows)} spectra where {label} is stuck: posterior median error "
                  f"{np.median(median_error[rows]):.3f} (elsewhere {np.median(median_error[other]):.3f}); "
                  f"90 % interval log-width {np.median(width[rows]):.3f} (elsewhere {np.median(width[other]):.3f})")


def battery(args):
    data = pf.data.load_zhang2020(args.data)
    f, cells = data.frequencies, data.metadata["cell"]
    held = np.isin(cells, HELD_OUT)
    train, test = data.spectra[~held][::args.battery_stride], data.spectra[held][::args.battery_stride]
    circuit = pf.Circuit(BATTERY)
    print(f"\n5. Measured battery spectra: {BATTERY}; prior: a box around fit_circuit of {len(train)} training-cell "
          f"spectra; scored on {len(test)} spectra of the held-out cells {', '.join(HELD_OUT)}")
    fits_train = pf.fit_circuit(train, circuit, f, starts="pilot", iterations=100)
    posterior = pf.make_circuit_posterior(circuit, f, BoxPrior.from_fits(fits_train.parameters, circuit), noise=0.01,
                                          seed=args.seed)
    _, seconds = timed(pf.fit_circuit_posterior, posterior, epochs=args.epochs, steps_per_epoch=args.steps,
                       seed=args.seed, verbose=not args.quiet)
    print(f"posterior trained in {seconds:.0f} s")
    posterior.summary(test[:8], (0.5,), n=200)
    pf.fit_circuit(test[:8], circuit, f, initial=posterior, iterations=100)
    summary, t_post = timed(posterior.summary, test, (0.5,), n=200)
    median_spectra = circuit.impedance(summary[:, 0], f).numpy()
    post_res = np.sqrt(np.mean(np.abs(median_spectra - test) ** 2 / np.abs(test) ** 2, 1))
    fit_init, t_init = timed(pf.fit_circuit, test, circuit, f, initial=posterior, iterations=100)
    fit_ref, t_ref = timed(pf.fit_circuit, test, circuit, f, starts=fits_train.parameters, iterations=100)
    print(f"{'method':40}{'median residual':>16}{'90 %':>8}{'worst':>8}{'spectra/s':>11}")
    for label, res, t in (("posterior median spectrum", post_res, t_post),
                          ("fit_circuit from the posterior", fit_init.residuals, t_init),
                          ("fit_circuit (starts from training fits)", fit_ref.residuals, t_ref)):
        print(f"{label:40}{np.median(res):>16.4f}{np.quantile(res, 0.9):>8.4f}{res.max():>8.4f}"
              f"{len(test) / t:>11,.0f}")


def _slug(text):
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer simulations and test spectra (a few minutes)")
    parser.add_argument("--out", default="out/circuit_posterior", help="folder for the SavedModel and figures")
    parser.add_argument("--epochs", type=int, help="training epochs per posterior (default 100, quick 12)")
    parser.add_argument("--data", help="folder of the Zhang et al. battery spectra (default: $PHYSFLOW_DATA)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    args.epochs = args.epochs or (12 if args.quick else 100)
    args.steps, args.test = 200, (200 if args.quick else 500)
    args.impedance_spectra = 40 if args.quick else 200
    args.battery_stride = 8 if args.quick else 2
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    for i, circuit in enumerate(CIRCUITS[:2] if args.quick else CIRCUITS):
        study(circuit, args, export_path=os.path.join(args.out, "posterior") if i == 0 else None)
    try:
        pf.data.zhang2020.find_zhang2020(args.data)
    except (FileNotFoundError, ValueError) as error:
        print(f"\n5. Measured battery spectra: skipped ({error})")
    else:
        battery(args)
    print(f"\ntotal {time.time() - started:.0f} s; figures in {args.out}")


if __name__ == "__main__":
    main()
