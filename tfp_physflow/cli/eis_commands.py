"""physflow eis fit, learn and posterior: a user's measured spectra and a circuit, without Python.

fit:   every spectrum fitted by least squares (``fit_circuit``); parameters.csv, a
       summary with units, and overlays of the median and the worst fits; with
       --posterior, fits start from it and posterior.csv holds the intervals.
learn: a generator of the circuit's parameters learned from the unlabeled
       spectra (by default a flow trained on their fits; or a physics-aware
       flow trained adversarially); its parameter ranges beside the fits', a
       generated labeled data set (generated.npz, generated.csv), figures that
       need no truth, the training history and the generator's SavedModel.
posterior: in ``eis_posterior``.
"""

import csv
import os
import sys
import time

import numpy as np

from . import eis_posterior
from .io import add_tensorboard_argument, check_output_folder, tensorboard_callbacks, write_generated

METHODS = ("fits", "adversarial", "hybrid")
EXAMPLES = {
    "fit": "physflow eis fit spectra/ --circuit 'R0-p(R1,CPE1)' --out fit_run",
    "learn": "physflow eis learn spectra.csv --circuit 'R0-p(R1,CPE1)' --out learn_run",
}


def add_eis_arguments(p):
    sub = p.add_subparsers(dest="eis_command", required=True, metavar="{fit,learn,posterior}")
    fit_parser = sub.add_parser("fit", help="fit the circuit to every spectrum (least squares)",
                                description=f"Fit a circuit to every spectrum.\n\nExample: {EXAMPLES['fit']}")
    learn_parser = sub.add_parser("learn", help="train a physics-aware flow on the spectra (no labels)",
                                  description="Learn the distribution of the circuit parameters from unlabeled "
                                              f"spectra and generate labeled ones.\n\nExample: {EXAMPLES['learn']}")
    for q in (fit_parser, learn_parser):
        q.add_argument("spectra", help="an instrument export, a folder of them, or a .csv / .npz table "
                                       "(see tfp_physflow.data.read_spectra)")
        q.add_argument("--circuit", required=True, help="circuit string, e.g. 'R0-p(R1,CPE1)' (elements R, C, L, "
                                                        "CPE, W, Wo, Ws; '-' series, p(a,b) parallel)")
        q.add_argument("--instrument", help="impedance.py reader of the exports (default: from suffix or header)")
        q.add_argument("--imaginary", choices=["Z''", "-Z''"],
                       help="what unnamed imaginary columns hold (default: from the header, else Z'')")
        q.add_argument("--frequency-unit", default="Hz", choices=["Hz", "rad/s"])
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--out", required=True, help="output folder")
        q.add_argument("--quiet", action="store_true", help="no progress")
    fit_parser.add_argument("--restarts", type=int, default=32,
                            help="starts per spectrum (default 32; every 8th spectrum is fitted first from 4x as "
                                 "many, and half of the starts of all come from those fits)")
    fit_parser.add_argument("--posterior", help="OUT folder of 'physflow eis posterior' for this circuit and grid: "
                                                "every fit starts from the posterior (4 starts instead of 32) and "
                                                "posterior.csv gets each spectrum's median and 5-95 %% interval")
    fit_parser.set_defaults(eis_handler=fit)
    eis_posterior.add_posterior_arguments(sub)
    learn_parser.add_argument("--method", default="fits", choices=METHODS,
                              help="fits (default): the flow trained by maximum likelihood on fit_circuit of every "
                                   "spectrum, the best generator measured (README, 'Which generator to use'); "
                                   "adversarial: a physics-aware flow trained on the spectra against a critic "
                                   "(Schindler & Schmid); hybrid: the flow of the fits, then adversarial")
    learn_parser.add_argument("--kind", default="nsf", choices=["diagonal", "linear", "realnvp", "maf", "nsf"],
                              help="flow of the parameters (default nsf)")
    learn_parser.add_argument("--epochs", type=int,
                              help="adversarial epochs of --method adversarial or hybrid (default 100)")
    learn_parser.add_argument("--batch-size", type=int, default=128, help="adversarial batch size (default 128)")
    learn_parser.add_argument("-n", type=int, default=5000, help="generated spectra to write (default 5000)")
    add_tensorboard_argument(learn_parser)
    learn_parser.set_defaults(eis_handler=learn)


def eis(args):
    return args.eis_handler(args)


def _read(args):
    from ..data import read_spectra
    from ..physics import Circuit

    check_output_folder(args.out)
    circuit = Circuit(args.circuit)
    data = read_spectra(args.spectra, instrument=args.instrument, imaginary=args.imaginary,
                        frequency_unit=args.frequency_unit)
    capacitive = np.mean(data.spectra.imag < 0)
    print(f"{len(data)} spectra, {data.frequencies.size} frequencies {data.frequencies.min():.4g}-"
          f"{data.frequencies.max():.4g} Hz, from {args.spectra}; circuit {circuit.text} "
          f"{circuit.parameter_names}")
    if capacitive < 0.5:
        print(f"note: only {capacitive:.0%} of the points have Z'' < 0 (capacitive). If the file holds -Z'', "
              "say so with --imaginary \"-Z''\"", file=sys.stderr)
    return data, circuit


def _fit(data, circuit, restarts, seed, quiet, initial=None):
    from ..physics import fit_circuit

    start = time.time()
    if initial is not None:
        if not quiet:
            print(f"  fitting all {len(data)} spectra, each from its posterior median and 3 posterior samples")
        return fit_circuit(data.spectra, circuit, data.frequencies, iterations=100, seed=seed, initial=initial,
                           progress=None if quiet else _progress(start), chunk_size=128)
    if not quiet:
        print(f"  fitting every 8th spectrum first ({len(data.spectra[::8])}) from {4 * restarts} starts each, then "
              f"all {len(data)} starting from those fits")

    progress = None if quiet else _progress(start)
    # Two passes: every 8th spectrum from 4x the starts, then all of them from those fits
    # (measured on battery spectra: median residual 1.8 % -> 0.5 %); chunks of 128: progress every few seconds.
    result = fit_circuit(data.spectra, circuit, data.frequencies, restarts=restarts, iterations=100, starts="pilot",
                         seed=seed, progress=progress, chunk_size=128)
    return result


def _progress(start):
    def progress(done, total):
        print(f"\r  fitted {done}/{total} spectra ({time.time() - start:.0f} s)", end="\n" if done == total else "",
              flush=True)
    return progress


def _summary(title, names, units, columns):
    """Prints one row per parameter: name, unit and, per column, '5 % / median / 95 %'."""
    print(title)
    print(f"  {'parameter':14}{'unit':16}" + "".join(f"{label:>36}" for label in columns))
    for i, (name, unit) in enumerate(zip(names, units)):
        cells = "".join(f"{q[0][i]:>12.4g}{q[1][i]:>12.4g}{q[2][i]:>12.4g}" for q in columns.values())
        print(f"  {name:14}{unit:16}{cells}")


def _quantiles(values):
    return np.percentile(values, [5, 50, 95], axis=0)


def fit(args):
    from ..plots import plot_fits

    data, circuit = _read(args)
    served = None if args.posterior is None else eis_posterior.load(args.posterior, circuit, data.frequencies)
    result = _fit(data, circuit, args.restarts, args.seed, args.quiet, served)
    os.makedirs(args.out, exist_ok=True)
    if served is not None:
        summary = served.summary(data.spectra, (0.05, 0.5, 0.95), n=500)
        eis_posterior.write_intervals(os.path.join(args.out, "posterior.csv"), data.names, circuit.parameter_names,
                                      summary)
        _summary("posterior medians (5 % / median / 95 % over the spectra):", circuit.parameter_names,
                 circuit.parameter_units, {"posterior median": _quantiles(summary[:, 1])})
        print(f"wrote {os.path.join(args.out, 'posterior.csv')} (median and 5-95 % interval per spectrum)")
    table = np.column_stack([result.parameters, result.residuals])
    header = ["name", *circuit.parameter_names, "relative_residual"]
    with open(os.path.join(args.out, "parameters.csv"), "w", newline="") as f:
        writer = csv.writer(f)  # quotes a name that holds a comma
        writer.writerow(header)
        for name, row in zip(data.names, table):
            writer.writerow([name, *(repr(float(v)) for v in row)])
    _summary("fitted parameters (5 % / median / 95 % over the spectra):", circuit.parameter_names,
             circuit.parameter_units, {"fit_circuit": _quantiles(result.parameters)})
    order = np.argsort(result.residuals)
    median, worst = order[len(order) // 2], order[-1]
    print(f"relative residual: median {np.median(result.residuals):.3g}, worst {result.residuals[worst]:.3g} "
          f"({data.names[worst]})")
    rows = sorted({median, worst})
    fitted = circuit.impedance(result.parameters[rows], data.frequencies).numpy()
    plot_fits(data.frequencies, data.spectra[rows], fitted,
              [f"{data.names[i]} ({'median' if i == median else 'worst'} fit)" for i in rows]).savefig(
        os.path.join(args.out, "fits.png"))
    print(f"wrote {os.path.join(args.out, 'parameters.csv')} and fits.png")
    return 0


def learn(args):
    from ..export import export_physics_flow
    from ..plots import ADVERSARIAL_LABELS, plot_history, plot_marginals, plot_pairs_2d, plot_spectra_bands

    if args.method == "fits" and args.epochs is not None:
        raise ValueError("--epochs counts adversarial epochs: give it with --method adversarial or hybrid "
                         "(--method fits trains on the fits by maximum likelihood until held-out fits stop improving)")
    epochs = 100 if args.epochs is None else args.epochs
    if epochs < 1 or args.n < 1:
        raise ValueError("--epochs and -n must be >= 1")
    callbacks = tensorboard_callbacks(args.tensorboard)
    data, circuit = _read(args)
    reference = _fit(data, circuit, 16, args.seed, args.quiet)
    generator, history = _learn(args, data, circuit, reference.parameters, epochs, callbacks)
    params, spectra = (t.numpy() for t in generator.sample_spectra(args.n, seed=args.seed + 1))
    names, units = circuit.parameter_names, circuit.parameter_units
    _summary(f"parameters (5 % / median / 95 %): the flow's {args.n} generated against fit_circuit on the "
             f"{len(data)} spectra", names, units,
             {f"{args.kind} flow": _quantiles(params), "fit_circuit": _quantiles(reference.parameters)})
    out = args.out
    os.makedirs(out, exist_ok=True)
    for name in ("generated.npz", "generated.csv"):
        write_generated(os.path.join(out, name), data.frequencies, names, params, spectra)
    plot_marginals(reference.parameters, params, names, units=units, model_label=f"{args.kind} flow (generated)",
                   reference_label="fit_circuit (measured)").savefig(os.path.join(out, "marginals.png"))
    pairs = [(i + 1, i) for i in range(min(len(names) - 1, 4))]  # neighbours, at most four panels
    plot_pairs_2d(reference.parameters, params, names, pairs=pairs, model_label=f"{args.kind} flow",
                  reference_label="fit_circuit", units=units).savefig(os.path.join(out, "pairs.png"))
    plot_spectra_bands(data.frequencies, data.spectra, spectra).savefig(os.path.join(out, "spectra.png"))
    if args.method == "fits":
        figure = plot_history(history, title=f"{args.kind} flow of the fits: maximum likelihood",
                              labels=("training NLL (fits)", "held-out NLL (10 % of the fits)"))
    else:
        figure = plot_history(history, title=f"{args.kind}: adversarial training ({args.method})",
                              labels=ADVERSARIAL_LABELS, mark_best=False)
    figure.savefig(os.path.join(out, "loss.png"))
    history.save(os.path.join(out, "history.json"))
    export_physics_flow(generator, os.path.join(out, "saved_model"))
    print(f"{len(history)} epochs ({history.stop_reason}); wrote generated.npz and generated.csv ({args.n} "
          f"parameter vectors with their spectra), marginals.png, pairs.png, spectra.png, loss.png, "
          f"history.json and saved_model/ to {out}")
    return 0


def _learn(args, data, circuit, fits, epochs, callbacks):
    """(generator, history): the flow of the fits, trained by maximum likelihood (--method fits), or
    trained adversarially on the spectra, from a log-normal around the fits or from the flow of the fits."""
    from ..models import train_physics_flow
    from ..physics import make_physics_flow
    from ..physics.generator import pretrain_on_fits

    if args.method == "fits":
        if not args.quiet:
            print(f"  training the {args.kind} flow on the {len(fits)} fits (maximum likelihood)")
        generator = make_physics_flow(args.kind, data.spectra, data.frequencies, circuit, fits=fits)
        return generator, pretrain_on_fits(generator.flow, fits, circuit, seed=args.seed, verbose=not args.quiet,
                                           callbacks=callbacks)
    return train_physics_flow(args.kind, data.spectra, data.frequencies, circuit.text, epochs=epochs, seed=args.seed,
                              verbose=not args.quiet, flow_options={"fits": fits, "pretrain": args.method == "hybrid"},
                              batch_size=min(args.batch_size, len(data)),
                              validation_split=0.1 if len(data) >= 20 else 0.0, callbacks=callbacks)
