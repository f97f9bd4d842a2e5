"""The physics-aware adversarial flows experiment as a printed report (Schindler & Schmid, Table 1 and Fig. 1).

An application, not library code: ``physflow demo`` runs it for one flow and
``examples/ecm_adversarial.py`` for the paper's four. It holds the paper's
numbers and prints tables; the library parts it calls are
``train_physics_flow``, ``generator_scores`` and ``supervised_mape``. It simulates
impedance spectra of Rs-p(Re,Ce), trains each flow on the spectra alone,
scores 50,000 (or ``n_val``) generated parameter vectors against the truth,
compares random forests trained on generated and on labeled original spectra,
saves the figures and exports the generator. Beside the flows it reports the
baselines a user would otherwise reach for, from ``fit_circuit`` of the same
training spectra (no labels): the fits resampled, a Gaussian of the fits, and
a flow of each kind (and nsf, ``physflow eis learn``'s default generator)
trained by maximum likelihood on the fits.
"""

import os
import time

from .. import plots
from ..data import simulate_impedance
from ..export import export_physics_flow
from ..metrics import generator_scores, spectrum_regression_features, supervised_mape
from ..models.adversarial import train_physics_flow
from ..physics import DEFAULT_CIRCUIT, Circuit, fit_baselines, fit_circuit
from .io import tensorboard_callbacks

PAPER_LEFT = {"diagonal": (0.928, 0.874, 0.558, 0.946), "linear": (0.919, 0.857, 0.567, 0.949),
              "realnvp": (0.925, 0.851, 0.581, 0.934), "nsf": (0.902, 0.821, 0.576, 0.887)}
PAPER_RIGHT = {("original", 5000): (5.74, 0.27, 14.2), ("generated", 5000): (5.76, 0.45, 17.5),
               ("generated", 25000): (3.52, 0.33, 14.3), ("generated", 50000): (3.47, 0.30, 12.4)}
FLOW_OPTIONS = {"diagonal": {}, "linear": {},
                "realnvp": {"num_layers": 4, "network": "resnet", "hidden_units": (64, 64)},
                "nsf": {"num_layers": 2, "network": "resnet", "hidden_units": (64, 64), "bound": 3.0}}


def _cells(ours, reference, digits):
    """'ours | paper' cells, or ours alone when there is no paper figure to compare with."""
    if reference is None:
        return "".join(f"{o:16.{digits}f}" for o in ours)
    return "".join(f"{o:8.{digits}f} |{p:6.{digits}f}" for o, p in zip(ours, reference))


def run(kinds, n_train=5000, n_val=50000, epochs=150, seed=0, out="out/ecm_adversarial", verbose=True,
        generated_sizes=(5000, 25000, 50000), paper=True, n_jobs=None, tensorboard=None):
    """Runs the experiment, prints both tables (beside the paper's when ``paper``), writes
    figures and the SavedModel of the linear flow (else the first) to ``out``; returns the scores.
    ``n_jobs``: processes of the random forests (scikit-learn's meaning; None is one). ``tensorboard``: a
    folder for TensorBoard logs of each flow's training (a subfolder per kind)."""
    os.makedirs(out, exist_ok=True)
    train = simulate_impedance(n_train, seed=seed + 1)
    val = simulate_impedance(n_val, seed=seed + 2)
    names = train.parameter_names
    print(f"{n_train} training spectra (unlabeled), {n_val} validation spectra with ground truth")

    scores, generated = {}, {}
    for kind in kinds:
        start = time.time()
        generator, history = train_physics_flow(kind, train.spectra, train.frequencies, epochs=epochs, seed=seed,
                                                validation_spectra=val.spectra[:5000], verbose=verbose,
                                                flow_options=FLOW_OPTIONS.get(kind, {}),
                                                callbacks=tensorboard_callbacks(tensorboard, kind))
        params, spectra = (t.numpy() for t in generator.sample_spectra(n_val, seed=seed + 3))
        scores[kind] = generator_scores(params, val.parameters, spectra, val.spectra, seed=seed, n_jobs=n_jobs)
        generated[kind] = (generator, params)
        print(f"{kind}: {len(history)} epochs ({history.stop_reason}), trained and scored in "
              f"{time.time() - start:.0f} s")
        plots.plot_history(history, title=f"{kind}: adversarial training", labels=plots.ADVERSARIAL_LABELS,
                           mark_best=False).savefig(
            os.path.join(out, f"loss_{kind}.png"))
        plots.plot_marginals(val.parameters, params, names, model_label=kind).savefig(
            os.path.join(out, f"marginals_{kind}.png"))

    start, circuit = time.time(), Circuit(DEFAULT_CIRCUIT)
    fits = fit_circuit(train.spectra, circuit, train.frequencies, starts="pilot", seed=seed).parameters
    # Flows of the fits with the library's defaults, of each kind trained and nsf (physflow eis learn's default).
    baselines = fit_baselines(fits, circuit, n_val, seed=seed + 3, flows=dict.fromkeys([*kinds, "nsf"], {}))
    for name, params in baselines.items():
        spectra = circuit.impedance(params, train.frequencies).numpy()
        scores[name] = generator_scores(params, val.parameters, spectra, val.spectra, seed=seed, n_jobs=n_jobs)
        generated[name] = (None, params)
    print(f"baselines ({', '.join(baselines)}) from fit_circuit of the {n_train} training spectra: fitted, "
          f"trained and scored in {time.time() - start:.0f} s")

    print(f"\nTable 1 (left): {n_val} generated against {n_val} true parameter vectors; scores in [0, 1], "
          f"1 best; ours{' | paper' if paper else ''}")
    print(f"{'generator':24}" + "".join(f"{m:>16}" for m in ("1D-KS", "2D-KS", "CS", "SLP")))
    for kind, s in scores.items():
        if kind == next(iter(baselines)):
            print("baselines: fit_circuit of the training spectra, then")
        ref = PAPER_LEFT.get(kind) if paper else None
        print(f"{kind:24}" + _cells((s["ks"], s["ks2d"], s["cs"], s["slp"]), ref, 3))
    for kind, s in scores.items():
        print(f"  1D-KS per parameter, {kind}: " + ", ".join(
            f"{n} {v:.3f}" for n, v in zip(names, s["ks_per_parameter"])))

    source = "linear" if "linear" in generated else kinds[0]
    generator = generated[source][0]
    print(f"\nTable 1 (right): MAPE [%] of 50-tree forests tested on the {n_val} originals, trained on labeled "
          f"originals, on spectra generated by the {source} flow or by each baseline; ours{' | paper' if paper else ''}")
    print(f"{'train set':24}{'N':>7}" + "".join(f"{n:>16}" for n in names))
    test_x = spectrum_regression_features(val.spectra)
    rows = [("original", n_train, train.spectra, train.parameters)]
    for n in generated_sizes:
        params, spectra = (t.numpy() for t in generator.sample_spectra(n, seed=seed + 4))
        rows.append(("generated", n, spectra, params))
    largest = max(generated_sizes)
    for name, params in baselines.items():
        rows.append((name, largest, circuit.impedance(params[:largest], train.frequencies).numpy(),
                     params[:largest]))
    mapes = {}
    for label, n, spectra, params in rows:
        errors = supervised_mape(spectrum_regression_features(spectra), params, test_x, val.parameters, seed=seed,
                                 n_jobs=n_jobs)
        mapes[label, n] = errors
        ref = PAPER_RIGHT.get((label, n)) if paper else None
        shown = f"{source} flow" if label == "generated" else label
        print(f"{shown:24}{n:>7}" + _cells(errors, ref, 2))

    plots.plot_pairs_2d(val.parameters[:5000], generated[source][1][:5000], names, pairs=[(2, 1), (2, 0)],
                        model_label=source).savefig(os.path.join(out, "figure1.png"))
    export_physics_flow(generator, os.path.join(out, "generator"))
    print(f"\nfigures (loss_*, marginals_*, figure1.png) and the {source} generator's SavedModel "
          f"({os.path.join(out, 'generator')}) written")
    return {"scores": scores, "mape": mapes}
