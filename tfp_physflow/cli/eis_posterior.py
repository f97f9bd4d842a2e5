"""physflow eis posterior: train and export an amortized posterior of a circuit's parameters.

The posterior is trained on spectra simulated on the frequency grid of the
user's measurements (read from a spectra file or folder, or a file of
frequencies), checked on held-out simulations (interval coverage), and
written as DIR/saved_model with DIR/loss.png and DIR/history.json.
``physflow eis fit SPECTRA --posterior DIR`` then starts every fit from it
and writes each spectrum's posterior median and 5-95 % interval.
"""

import os

import numpy as np

from .io import check_output_folder

EXAMPLE = "physflow eis posterior --circuit 'R0-p(R1,CPE1)' --frequencies spectra.csv --epochs 40 --out post"


def add_posterior_arguments(sub):
    p = sub.add_parser("posterior", help="train and export an amortized posterior of the circuit's parameters",
                       description="Train a posterior of the circuit's parameters given a spectrum (a cINN on "
                                   "simulated spectra) for one frequency grid, and export it.\n\n"
                                   f"Example: {EXAMPLE}")
    p.add_argument("--circuit", required=True, help="circuit string, e.g. 'R0-p(R1,CPE1)'")
    p.add_argument("--frequencies", required=True,
                   help="spectra (file or folder, as for eis fit) whose frequency grid to use, or a .txt/.csv "
                        "file of frequencies in Hz (one per line)")
    p.add_argument("--prior", default="box", choices=["box", "fits"],
                   help="box: a log-uniform box from the frequency band (default); fits: a box around "
                        "fit_circuit of the spectra given to --frequencies (1-99 %% range, widened 2x)")
    p.add_argument("--noise", type=float, default=0.01, help="relative noise of the simulator (default 0.01)")
    p.add_argument("--epochs", type=int, default=40, help="training epochs (default 40)")
    p.add_argument("--steps", type=int, default=200, help="steps of 512 fresh simulations per epoch (default 200)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder (the SavedModel goes to OUT/saved_model)")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(eis_handler=posterior)


def _grid(path):
    """(frequencies, spectra or None) from a frequency list or from spectra."""
    from ..data import read_spectra

    if os.path.isfile(path) and os.path.splitext(path)[1].lower() in (".txt", ".csv"):
        try:
            values = np.loadtxt(path, ndmin=1, delimiter="," if path.lower().endswith(".csv") else None)
        except ValueError:
            values = None
        if values is not None and values.ndim == 1:
            return values, None
    data = read_spectra(path)
    return data.frequencies, data


def posterior(args):
    from ..export import export_circuit_posterior
    from ..inverse_metrics import interval_coverage
    from ..physics import BoxPrior, Circuit, fit_circuit, fit_circuit_posterior, make_circuit_posterior
    from ..plots import plot_history

    if args.epochs < 1 or args.steps < 1 or not 0 < args.noise < 1:
        raise ValueError("--epochs and --steps must be >= 1 and --noise in (0, 1)")
    check_output_folder(args.out)
    circuit = Circuit(args.circuit)
    frequencies, data = _grid(args.frequencies)
    prior = None
    if args.prior == "fits":
        if data is None:
            raise ValueError("--prior fits needs spectra in --frequencies, not a list of frequencies")
        print(f"fitting {len(data)} spectra for the prior's box ...")
        prior = BoxPrior.from_fits(fit_circuit(data.spectra, circuit, frequencies, starts="pilot",
                                               iterations=100).parameters, circuit)
    os.makedirs(args.out, exist_ok=True)
    model = make_circuit_posterior(circuit, frequencies, prior, noise=args.noise, seed=args.seed)
    print(f"{circuit.text} {circuit.parameter_names} on {frequencies.size} frequencies "
          f"{frequencies.min():.4g}-{frequencies.max():.4g} Hz; prior {model.prior!r}")
    history = fit_circuit_posterior(model, epochs=args.epochs, steps_per_epoch=args.steps, seed=args.seed,
                                    verbose=not args.quiet)
    truth, spectra = model.simulate(1000, seed=args.seed + 1)
    samples = model.sample(spectra, 500, seed=args.seed).numpy()
    print("coverage on 1000 held-out simulated spectra (nominal 68 % / 95 %):")
    cover = interval_coverage(samples.transpose(1, 0, 2), truth, per_dimension=True)
    for j, name in enumerate(circuit.parameter_names):
        print(f"  {name:14}{100 * cover[0.68][j]:6.1f} % {100 * cover[0.95][j]:6.1f} %")
    plot_history(history, title="posterior: negative log density of simulated pairs").savefig(
        os.path.join(args.out, "loss.png"))
    history.save(os.path.join(args.out, "history.json"))
    path = export_circuit_posterior(model, os.path.join(args.out, "saved_model"))
    print(f"{len(history)} epochs ({history.stop_reason}); wrote {path}, loss.png and history.json")
    return 0


def load(path, circuit, frequencies):
    """The posterior of ``eis fit --posterior``: OUT of ``eis posterior`` or its saved_model, checked."""
    from ..export import load_circuit_posterior

    inner = os.path.join(path, "saved_model")
    if not os.path.isdir(path):
        raise ValueError(f"--posterior {path!r} is not a folder (give the --out of 'physflow eis posterior')")
    served = load_circuit_posterior(inner if os.path.isdir(inner) else path)
    if served.circuit.text != circuit.text:
        raise ValueError(f"the posterior in {path} is of {served.circuit.text!r}, not of {circuit.text!r}")
    if served.frequencies.shape != frequencies.shape or not np.allclose(served.frequencies, frequencies, rtol=1e-6):
        raise ValueError(f"the posterior in {path} was trained on {served.frequencies.size} other frequencies "
                         f"than the spectra's {frequencies.size}")
    return served


def write_intervals(path, names, parameter_names, summary):
    """CSV: name, then per parameter its posterior median, q05 and q95 (summary (N, 3, P): q05, q50, q95)."""
    import csv

    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", *(f"{p}{suffix}" for p in parameter_names for suffix in ("", "_q05", "_q95"))])
        for name, q in zip(names, summary):
            writer.writerow([name, *(repr(float(v)) for j in range(q.shape[1]) for v in (q[1, j], q[0, j], q[2, j]))])
