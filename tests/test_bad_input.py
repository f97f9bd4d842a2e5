"""The bad-input corpus: the public API and every physflow command, fed what users get wrong.

Every case must end in a clear error that names the problem: at the API a
ValueError or TypeError (or the ecosystem's own type: scikit-learn's
NotFittedError, FileNotFoundError for a missing data folder), never a
TensorFlow error from deep inside; at the command line one line
``physflow: error: ...`` and exit status 2, with the working folder exactly as
it was (nothing half-written, nothing deleted). ``test_corpus_size`` prints
the count that the closing note quotes.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.exceptions import NotFittedError

import tfp_physflow as pf
from tfp_physflow.cli import main

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 2)).astype("float32")
F = np.geomspace(1.0, 1e4, 12)
P = np.array([[10.0, 100.0, 1e-4]])


@pytest.fixture(scope="module")
def api():
    """The objects the API cases call into: small and untrained, built once."""
    circuit = pf.Circuit("Rs-p(Re,Ce)")
    z = circuit.impedance(np.repeat(P, 4, 0) * [[1.0], [1.1], [0.9], [1.2]], F).numpy()
    return {
        "flow": pf.make_flow("realnvp", 2, num_layers=1, hidden_units=(4,)),
        "cflow": pf.make_flow("cinn", 2, 1, num_layers=1, hidden_units=(4,)),
        "circuit": circuit, "z": z, "layer": pf.ImpedanceLayer(circuit, F),
        "posterior": pf.make_circuit_posterior("R0-p(R1,C1)", F, num_layers=1, hidden_units=(4,),
                                               embedding_units=(8,), calibration_size=64),
    }


def _file(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "a_file"
    path.write_text("not a folder")
    return str(path)


API = {  # id: (call(objects, a_file), exception types, message pattern)
    # make_flow
    "make_flow unknown kind": (lambda o, p: pf.make_flow("glow", 2), ValueError, "unknown flow kind 'glow'"),
    "make_flow event_dim 0": (lambda o, p: pf.make_flow("realnvp", 0), ValueError, "event_dim must be a positive int"),
    "make_flow event_dim 2.5": (lambda o, p: pf.make_flow("maf", 2.5), ValueError, "event_dim must be a positive int"),
    "make_flow event_dim str": (lambda o, p: pf.make_flow("maf", "2"), ValueError, "event_dim must be a positive int"),
    "make_flow event_dim None": (lambda o, p: pf.make_flow("maf", None), ValueError, "event_dim"),
    "make_flow condition_dim 0": (lambda o, p: pf.make_flow("maf", 2, 0), ValueError, "condition_dim"),
    "make_flow num_layers 0": (lambda o, p: pf.make_flow("maf", 2, num_layers=0), ValueError, "num_layers"),
    "make_flow num_layers -1": (lambda o, p: pf.make_flow("nsf", 2, num_layers=-1), ValueError, "num_layers"),
    "make_flow dtype": (lambda o, p: pf.make_flow("maf", 2, dtype="float16"), ValueError, "dtype"),
    "make_flow clamp 0": (lambda o, p: pf.make_flow("realnvp", 2, clamp=0), ValueError, "clamp must be positive"),
    "make_flow clamp nan": (lambda o, p: pf.make_flow("realnvp", 2, clamp=np.nan), ValueError, "clamp"),
    "make_flow num_bins 1": (lambda o, p: pf.make_flow("nsf", 2, num_bins=1), ValueError, "num_bins"),
    "make_flow bound -1": (lambda o, p: pf.make_flow("nsf", 2, bound=-1), ValueError, "bound must be positive"),
    "make_flow positive": (lambda o, p: pf.make_flow("maf", 2, positive="abs"), ValueError, "positive"),
    "make_flow scale length": (lambda o, p: pf.make_flow("maf", 2, scale=[1.0]), ValueError, "scale must hold 2"),
    "make_flow scale negative": (lambda o, p: pf.make_flow("maf", 2, scale=[1, -1]), ValueError, "scale"),
    "make_flow unit index": (lambda o, p: pf.make_flow("maf", 2, positive="exp", unit=[5]), ValueError, "unit"),
    "make_flow network": (lambda o, p: pf.make_flow("realnvp", 2, network="cnn"), ValueError, "network"),
    "make_flow hidden 0": (lambda o, p: pf.make_flow("realnvp", 2, hidden_units=(0,)), ValueError, "units"),
    "make_flow activation": (lambda o, p: pf.make_flow("realnvp", 2, activation="nope"), ValueError, "activation"),
    "make_flow cinn without condition": (lambda o, p: pf.make_flow("cinn", 2), ValueError, "conditional"),
    "make_flow realnvp 1-D": (lambda o, p: pf.make_flow("realnvp", 1), ValueError, "event_dim >= 2"),
    # Flow
    "log_prob wrong width": (lambda o, p: o["flow"].log_prob(np.zeros((3, 3))), ValueError, r"shape \(\.\.\., 2\)"),
    "log_prob scalar": (lambda o, p: o["flow"].log_prob(np.float32(1)), ValueError, "shape"),
    "log_prob NaN": (lambda o, p: o["flow"].log_prob(X * np.nan), ValueError, "NaN or inf"),
    "log_prob inf": (lambda o, p: o["flow"].log_prob(np.full((2, 2), np.inf)), ValueError, "NaN or inf"),
    "log_prob strings": (lambda o, p: o["flow"].log_prob([["a", "b"]]), ValueError, "real numbers"),
    "log_prob complex": (lambda o, p: o["flow"].log_prob(X + 1j), ValueError, "real numbers"),
    "log_prob None": (lambda o, p: o["flow"].log_prob(None), ValueError, "real numbers"),
    "log_prob condition on unconditional": (lambda o, p: o["flow"].log_prob(X, X), ValueError, "unconditional"),
    "log_prob conditional without": (lambda o, p: o["cflow"].log_prob(X), ValueError, "pass condition="),
    "log_prob condition width": (lambda o, p: o["cflow"].log_prob(X, X), ValueError, "condition must have shape"),
    "log_prob batches differ": (lambda o, p: o["cflow"].log_prob(X, X[:5, :1]), ValueError, "do not broadcast"),
    "sample -1": (lambda o, p: o["flow"].sample(-1), ValueError, "n .* must be a non-negative int"),
    "sample int64 -1": (lambda o, p: o["flow"].sample(np.int64(-1)), ValueError, "non-negative int"),
    "sample 2.5": (lambda o, p: o["flow"].sample(2.5), ValueError, "non-negative int, got 2.5"),
    "sample '3'": (lambda o, p: o["flow"].sample("3"), ValueError, "non-negative int, got '3'"),
    "sample True": (lambda o, p: o["flow"].sample(True), ValueError, "non-negative int, got True"),
    "sample None": (lambda o, p: o["flow"].sample(None), ValueError, "non-negative int"),
    "sample seed str": (lambda o, p: o["flow"].sample(3, seed="abc"), ValueError, "seed must be"),
    "sample conditional without": (lambda o, p: o["cflow"].sample(3), ValueError, "conditional"),
    "distribution condition on unconditional": (lambda o, p: o["flow"].distribution(X), ValueError, "unconditional"),
    # fit_flow and fit
    "fit batch_size 0": (lambda o, p: pf.fit_flow(o["flow"], X, batch_size=0), ValueError, "batch_size must be"),
    "fit batch_size 2.5": (lambda o, p: pf.fit_flow(o["flow"], X, batch_size=2.5), ValueError, "batch_size"),
    "fit epochs 0": (lambda o, p: pf.fit_flow(o["flow"], X, epochs=0), ValueError, "epochs must be a positive int"),
    "fit learning_rate nan": (lambda o, p: pf.fit_flow(o["flow"], X, learning_rate=np.nan), ValueError,
                              "learning_rate must be a positive finite"),
    "fit learning_rate 0": (lambda o, p: pf.fit_flow(o["flow"], X, learning_rate=0), ValueError, "learning_rate"),
    "fit learning_rate -1": (lambda o, p: pf.fit_flow(o["flow"], X, learning_rate=-1), ValueError, "learning_rate"),
    "fit patience -1": (lambda o, p: pf.fit_flow(o["flow"], X, patience=-1), ValueError, "patience"),
    "fit min_delta nan": (lambda o, p: pf.fit_flow(o["flow"], X, min_delta=np.nan), ValueError, "min_delta"),
    "fit validation_split 1": (lambda o, p: pf.fit_flow(o["flow"], X, validation_split=1.0), ValueError,
                               "validation_split"),
    "fit validation_split -0.1": (lambda o, p: pf.fit_flow(o["flow"], X, validation_split=-0.1), ValueError,
                                  "validation_split"),
    "fit split of one row": (lambda o, p: pf.fit_flow(o["flow"], X[:1], validation_split=0.5), ValueError,
                             "leaves none to train on"),
    "fit x None": (lambda o, p: pf.fit_flow(o["flow"], None), ValueError, "x is None"),
    "fit x empty": (lambda o, p: pf.fit_flow(o["flow"], X[:0]), ValueError, "data is empty"),
    "fit x NaN": (lambda o, p: pf.fit_flow(o["flow"], X * np.nan), ValueError, "NaN or inf"),
    "fit x 3-D": (lambda o, p: pf.fit_flow(o["flow"], X[None]), ValueError, r"x must have shape \(N, 2\)"),
    "fit x width": (lambda o, p: pf.fit_flow(o["flow"], X[:, :1]), ValueError, r"x must have shape \(N, 2\)"),
    "fit x strings": (lambda o, p: pf.fit_flow(o["flow"], [["a", "b"]]), ValueError, "array of numbers"),
    "fit condition on unconditional": (lambda o, p: pf.fit_flow(o["flow"], X, X), ValueError, "conditional"),
    "fit lengths differ": (lambda o, p: pf.fit_flow(o["cflow"], X, X[:5, :1]), ValueError, "differ in length"),
    "fit callbacks str": (lambda o, p: pf.fit_flow(o["flow"], X, callbacks="tb"), TypeError, "keras.callbacks"),
    "fit jit_compile": (lambda o, p: pf.fit_flow(o["flow"], X, epochs=1, jit_compile="maybe", verbose=False),
                        ValueError, "jit_compile"),
    "fit checkpoint_dir a file": (lambda o, p: pf.fit_flow(o["flow"], X, checkpoint_dir=p), ValueError,
                                  "checkpoint_dir .* is a file"),
    "fit unbuilt model": (lambda o, p: pf.fit(keras.Sequential([keras.layers.Dense(1)]), None, X), ValueError,
                          "no trainable variables: build it"),
    # circuits
    "Circuit not a string": (lambda o, p: pf.Circuit(123), ValueError, "a circuit is a string"),
    "Circuit empty": (lambda o, p: pf.Circuit(""), ValueError, "empty circuit"),
    "Circuit dangling -": (lambda o, p: pf.Circuit("R0-"), ValueError, "missing element at the end"),
    "Circuit unknown element": (lambda o, p: pf.Circuit("R0-X1"), ValueError, "unknown circuit element 'X1'"),
    "Circuit impedance.py La": (lambda o, p: pf.Circuit("R0-La0"), ValueError, "modified inductor.*not implement"),
    "Circuit impedance.py Gerischer": (lambda o, p: pf.Circuit("R0-G1"), ValueError, "Gerischer"),
    "Circuit case Cpe1": (lambda o, p: pf.Circuit("R0-Cpe1"), ValueError, "case-sensitive.*'CPE'"),
    "Circuit one-branch p()": (lambda o, p: pf.Circuit("R0-p(R1)"), ValueError, "at least two branches"),
    "Circuit unclosed p(": (lambda o, p: pf.Circuit("R0-p(R1,C1"), ValueError, "never closed"),
    "impedance width": (lambda o, p: o["circuit"].impedance(P[:, :2], F), ValueError, r"shape \(N, 3\)"),
    "impedance NaN": (lambda o, p: o["circuit"].impedance(P * np.nan, F), ValueError, "NaN or inf"),
    "impedance negative": (lambda o, p: o["circuit"].impedance(-P, F), ValueError, "must be positive: Rs"),
    "impedance strings": (lambda o, p: o["circuit"].impedance([["10", "100", "1e-3"]], F), ValueError,
                          "real numbers"),
    "impedance complex parameters": (lambda o, p: o["circuit"].impedance(P + 0j, F), ValueError, "complex"),
    "impedance complex frequencies": (lambda o, p: o["circuit"].impedance(P, F + 0j), ValueError,
                                      "frequencies must hold real numbers"),
    "impedance negative frequency": (lambda o, p: o["circuit"].impedance(P, -F), ValueError,
                                     "frequencies must be positive"),
    "impedance zero frequency": (lambda o, p: o["circuit"].impedance(P, [0.0, 1.0]), ValueError, "positive"),
    "impedance empty frequencies": (lambda o, p: o["circuit"].impedance(P, []), ValueError, "non-empty"),
    "impedance 2-D frequencies": (lambda o, p: o["circuit"].impedance(P, [F]), ValueError, "1-D"),
    "ImpedanceLayer representation": (lambda o, p: pf.ImpedanceLayer(representation="polar"), ValueError,
                                      "representation"),
    "ImpedanceLayer normalization": (lambda o, p: pf.ImpedanceLayer(frequencies=F, normalization=([0], [1])),
                                     ValueError, "normalization"),
    "features of |Z|": (lambda o, p: o["layer"].features(np.abs(o["z"])), ValueError, "complex"),
    "features width": (lambda o, p: o["layer"].features(o["z"][:, :3]), ValueError, r"shape \(N, 12\)"),
    "spectrum_features of real": (lambda o, p: pf.physics.spectrum_features(o["z"].real), ValueError, "complex"),
    "fit_circuit empty": (lambda o, p: pf.fit_circuit(o["z"][:0], "Rs-p(Re,Ce)", F), ValueError, "empty"),
    "fit_circuit real": (lambda o, p: pf.fit_circuit(np.abs(o["z"]), "Rs-p(Re,Ce)", F), ValueError, "complex"),
    "fit_circuit width": (lambda o, p: pf.fit_circuit(o["z"][:, :3], "Rs-p(Re,Ce)", F), ValueError, "shape"),
    "fit_circuit NaN": (lambda o, p: pf.fit_circuit(o["z"] * np.nan, "Rs-p(Re,Ce)", F), ValueError, "NaN"),
    "fit_circuit restarts 0": (lambda o, p: pf.fit_circuit(o["z"], "Rs-p(Re,Ce)", F, restarts=0), ValueError,
                               "restarts must be a positive int"),
    "fit_circuit chunk_size 0": (lambda o, p: pf.fit_circuit(o["z"], "Rs-p(Re,Ce)", F, chunk_size=0), ValueError,
                                 "chunk_size"),
    "make_physics_flow real spectra": (lambda o, p: pf.make_physics_flow("linear", np.abs(o["z"]), F), ValueError,
                                       "complex"),
    "make_physics_flow frequencies": (lambda o, p: pf.make_physics_flow("linear", o["z"], F[:5]), ValueError,
                                      "frequencies"),
    "make_physics_flow noise": (lambda o, p: pf.make_physics_flow("linear", o["z"], F, noise=-1), ValueError,
                                "noise"),
    "train_physics_flow epochs 0": (lambda o, p: pf.train_physics_flow("linear", o["z"], F, epochs=0,
                                                                       verbose=False), ValueError, "epochs"),
    "make_circuit_posterior noise": (lambda o, p: pf.make_circuit_posterior("R0-p(R1,C1)", F, noise=-0.1),
                                     ValueError, "noise"),
    "posterior sample of |Z|": (lambda o, p: o["posterior"].sample(np.abs(o["z"]), 3), ValueError, "complex"),
    "posterior sample n 0": (lambda o, p: o["posterior"].sample(o["z"], 0), ValueError, "positive int"),
    "fit_circuit_posterior epochs 0": (lambda o, p: pf.fit_circuit_posterior(o["posterior"], epochs=0),
                                       ValueError, "epochs"),
    "load_circuit_posterior not a SavedModel": (lambda o, p: pf.load_circuit_posterior(os.path.dirname(p)),
                                                ValueError, "no saved_model.pb"),
    # models
    "FlowClassifier predict unfitted": (lambda o, p: pf.FlowClassifier().predict(X), NotFittedError, "not fitted"),
    "FlowClassifier decision unfitted": (lambda o, p: pf.FlowClassifier().decision_function(X), NotFittedError,
                                         "not fitted"),
    "FlowClassifier one class": (lambda o, p: pf.FlowClassifier().fit(X, np.zeros(len(X))), ValueError, "1 class"),
    "FlowClassifier NaN": (lambda o, p: pf.FlowClassifier().fit(X * np.nan, np.arange(len(X)) % 2), ValueError,
                           "NaN"),
    "FlowClassifier cut": (lambda o, p: pf.FlowClassifier(cut="x").fit(X, np.arange(len(X)) % 2), ValueError, "cut"),
    "FlowClassifier kind": (lambda o, p: pf.FlowClassifier("glow").fit(X, np.arange(len(X)) % 2), ValueError,
                            "unknown flow kind"),
    "fit_adversarial not a model": (lambda o, p: pf.fit_adversarial(None, None), ValueError, "AdversarialModel"),
    "fit_cvae not a model": (lambda o, p: pf.fit_cvae(None, None, None), ValueError, "CVAE"),
    # export
    "export_flow onto a file": (lambda o, p: pf.export_flow(o["flow"], p), ValueError, "not a folder"),
    "export_flow onto a data folder": (lambda o, p: pf.export_flow(o["flow"], os.path.dirname(p)), ValueError,
                                       "not a SavedModel.*refusing"),
    "export_flow of a string": (lambda o, p: pf.export_flow("flow", p + ".sm"), TypeError, "takes a Flow"),
    "export_physics_flow of a string": (lambda o, p: pf.export_physics_flow("g", p + ".sm"), TypeError,
                                        "PhysicsFlow"),
    "export_circuit_posterior of a string": (lambda o, p: pf.export_circuit_posterior("g", p + ".sm"), TypeError,
                                             "CircuitPosterior"),
    "export_classifier unfitted": (lambda o, p: pf.export_classifier(pf.FlowClassifier(), p + ".sm"),
                                   NotFittedError, "not fitted"),
    # data, metrics, plots
    "simulate_impedance n 0": (lambda o, p: pf.data.simulate_impedance(0), ValueError, "n must be a positive int"),
    "simulate_impedance noise -1": (lambda o, p: pf.data.simulate_impedance(10, noise=-1), ValueError, "noise"),
    "simulate_coulomb n 0": (lambda o, p: pf.data.simulate_coulomb(0), ValueError, "n must be a positive int"),
    "two_moons -1": (lambda o, p: pf.data.two_moons(-1), ValueError, "n must be a non-negative int"),
    "read_spectra missing": (lambda o, p: pf.data.read_spectra(p + ".missing"), FileNotFoundError, "does not exist"),
    "read_spectra instrument": (lambda o, p: pf.data.read_spectra(p, instrument="foo"), ValueError,
                                "unknown instrument"),
    "read_spectra binary": (lambda o, p: pf.data.read_spectra(_binary(p)), ValueError, "not text"),
    "spectra_table of real": (lambda o, p: pf.data.spectra_table(F, np.abs(o["z"])), ValueError, "complex"),
    "load_zhang2020 missing": (lambda o, p: pf.data.load_zhang2020(p + ".missing"), FileNotFoundError, "lacks"),
    "load_rrlyrae missing": (lambda o, p: pf.data.load_rrlyrae(p + ".missing"), FileNotFoundError, "RRLyrae.fit"),
    "ks_score widths": (lambda o, p: pf.metrics.ks_score(X, X[:, :1]), ValueError, r"\(N, d\)"),
    "ks_score empty": (lambda o, p: pf.metrics.ks_score(X[:0], X), ValueError, "non-empty"),
    "ks_score NaN": (lambda o, p: pf.metrics.ks_score(X * np.nan, X), ValueError, "NaN"),
    "ks2d_score 1-D": (lambda o, p: pf.metrics.ks2d_score(X[:, :1], X[:, :1]), ValueError, "d >= 2"),
    "gaussian_log_likelihood widths": (lambda o, p: pf.metrics.gaussian_log_likelihood(X, X[:, :1]), ValueError,
                                       r"\(N, d\)"),
    "mape shapes": (lambda o, p: pf.metrics.mape(X, X[:3]), ValueError, "differ in shape"),
    "plot_history of a list": (lambda o, p: pf.plot_history([1, 2]), TypeError, "takes a History"),
}


def _binary(path):
    binary = path + ".csv"
    with open(binary, "wb") as f:
        f.write(bytes(range(256)) * 4)
    return binary


@pytest.mark.parametrize("case", list(API))
def test_api_bad_input_raises_a_clear_error(case, api, tmp_path_factory):
    call, expected, pattern = API[case]
    with pytest.raises(expected, match=pattern) as err:
        call(api, _file(tmp_path_factory))
    assert not isinstance(err.value, tf.errors.OpError), f"{case}: a TensorFlow error, not ours: {err.value}"
    assert "function_node" not in str(err.value) and "Traceback" not in str(err.value)


# -- the command line ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    """A folder of good and bad inputs, a trained run and its SavedModels, built once."""
    d = tmp_path_factory.mktemp("cli_corpus")
    np.savetxt(d / "data.csv", RNG.standard_normal((200, 2)), delimiter=",", header="alpha,beta", comments="")
    np.savetxt(d / "three.csv", RNG.standard_normal((20, 3)), delimiter=",")
    np.savetxt(d / "const.csv", np.c_[RNG.standard_normal(20), np.ones(20)], delimiter=",")
    np.savetxt(d / "labels.csv", np.c_[RNG.standard_normal((40, 2)), np.arange(40) % 2], delimiter=",")
    np.savetxt(d / "wide_labels.csv", np.c_[RNG.standard_normal((40, 3)), np.arange(40) % 2], delimiter=",")
    np.savetxt(d / "half_labels.csv", np.c_[RNG.standard_normal((40, 2)), np.arange(40) % 2 + 0.5], delimiter=",")
    np.savetxt(d / "one_class.csv", np.c_[RNG.standard_normal((40, 2)), np.zeros(40)], delimiter=",")
    np.save(d / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (d / "bad.csv").write_text("a,b\n1,2\n3,x\n")
    (d / "ragged.csv").write_text("1,2\n3\n")
    (d / "nan.csv").write_text("1,2\nnan,3\n")
    (d / "empty.csv").write_text("")
    (d / "data.json").write_text("{}")
    (d / "a_file").write_text("not a folder")
    (d / "folder.csv").mkdir()
    (d / "notrun").mkdir()
    (d / "notrun" / "keep.txt").write_text("user data")
    circuit = pf.Circuit("R0-p(R1,C1)")
    z = circuit.impedance(np.array([[10.0, 100.0, 1e-4]]) * RNG.uniform(0.8, 1.2, (30, 3)), F).numpy()
    pf.data.spectra_table(F, z).to_csv(d / "spectra.csv", index=False)
    assert main(["train", str(d / "data.csv"), "--layers", "1", "--hidden", "4", "--epochs", "1",
                 "--out", str(d / "run"), "--quiet"]) == 0
    assert main(["export", str(d / "run"), str(d / "model")]) == 0
    (d / "broken_run").mkdir()
    (d / "broken_run" / "flow.json").write_text("{not json")
    (d / "broken_run" / "flow.weights.h5").write_text("")
    (d / "broken_model").mkdir()
    (d / "broken_model" / "saved_model.pb").write_text("garbage")
    pf.export_physics_flow(pf.make_physics_flow("diagonal", z, F, circuit), str(d / "generator"))
    return d


CLI = [  # (argv with {d} for the folder, what the one error line must say)
    (["train", "{d}/missing.csv", "--out", "{d}/x"], "does not exist"),
    (["train", "{d}", "--out", "{d}/x"], "is a folder: give a file"),
    (["train", "{d}/pickled.npy", "--out", "{d}/x"], "pickled"),
    (["train", "{d}/binary.csv", "--out", "{d}/x"], "is not a text file"),
    (["train", "{d}/bad.csv", "--out", "{d}/x"], "line 3: not comma-separated numbers"),
    (["train", "{d}/ragged.csv", "--out", "{d}/x"], "different numbers of columns"),
    (["train", "{d}/nan.csv", "--out", "{d}/x"], "NaN or inf (first in row 2)"),
    (["train", "{d}/empty.csv", "--out", "{d}/x"], "is empty"),
    (["train", "{d}/data.json", "--out", "{d}/x"], "unknown format"),
    (["train", "{d}/const.csv", "--out", "{d}/x"], "is constant"),
    (["train", "{d}/data.csv", "--epochs", "0", "--out", "{d}/x"], "--epochs must be >= 1"),
    (["train", "{d}/data.csv", "--batch-size", "0", "--out", "{d}/x"], "--batch-size must be >= 1"),
    (["train", "{d}/data.csv", "--learning-rate", "nan", "--out", "{d}/x"], "--learning-rate must be a positive"),
    (["train", "{d}/data.csv", "--learning-rate", "-1", "--out", "{d}/x"], "--learning-rate"),
    (["train", "{d}/data.csv", "--validation-split", "1", "--out", "{d}/x"], "--validation-split must be in"),
    (["train", "{d}/data.csv", "--patience", "-1", "--out", "{d}/x"], "--patience must be >= 0"),
    (["train", "{d}/data.csv", "--layers", "0", "--out", "{d}/x"], "--layers must be >= 1"),
    (["train", "{d}/data.csv", "--hidden", "0", "--out", "{d}/x"], "--hidden widths must be >= 1"),
    (["train", "{d}/data.csv", "--out", "{d}/a_file"], "exists and is not a folder"),
    (["train", "{d}/data.csv", "--out", "{d}/a_file/x"], "is a file, not a folder"),
    (["train", "{d}/data.csv", "--kind", "cinn", "--out", "{d}/x"], "kind 'cinn' is conditional"),
    (["train", "{d}/data.csv", "--condition", "{d}/three.csv", "--out", "{d}/x"], "200 rows but condition has 20"),
    (["train", "{d}/data.csv", "--tensorboard", "{d}/a_file", "--out", "{d}/x"], "cannot create the log folder"),
    (["train", "{d}/data.csv", "--checkpoint-dir", "{d}/a_file", "--out", "{d}/x"], "exists and is not a folder"),
    (["export", "{d}/notrun", "{d}/sm"], "holds no trained flow"),
    (["export", "{d}/broken_run", "{d}/sm"], "cannot be read"),
    (["export", "{d}/run", "{d}/run"], "would replace the trained run"),
    (["export", "{d}/run", "{d}/notrun"], "not a SavedModel"),
    (["export", "{d}/run", "{d}/a_file"], "not a folder"),
    (["info", "{d}/notrun"], "not a SavedModel"),
    (["info", "{d}/missing"], "not a SavedModel"),
    (["info", "{d}/broken_model"], "cannot be loaded as a SavedModel"),
    (["sample", "{d}/model", "-n", "0"], "-n must be >= 1"),
    (["sample", "{d}/model", "--out", "{d}/folder.csv"], "is a folder"),
    (["sample", "{d}/model", "--out", "{d}/samples.txt"], "use a .npy or .csv"),
    (["sample", "{d}/model", "--out", "{d}/a_file/s.csv"], "is a file, not a folder"),
    (["sample", "{d}/model", "--condition", "{d}/data.csv"], "unconditional"),
    (["sample", "{d}/generator", "--out", "{d}/g.npy"], "give --out a .csv or .npz"),
    (["sample", "{d}/missing"], "not a SavedModel"),
    (["evaluate", "{d}/model", "{d}/three.csv"], "has 3 columns, expected 2"),
    (["evaluate", "{d}/model", "{d}/data.csv", "--condition", "{d}/data.csv"], "unconditional"),
    (["evaluate", "{d}/model", "{d}/missing.csv"], "does not exist"),
    (["classify", "{d}/labels.csv", "--label-column", "5", "--out", "{d}/c"], "outside the 3 columns"),
    (["classify", "{d}/one_class.csv", "--out", "{d}/c"], "one class only"),
    (["classify", "{d}/half_labels.csv", "--out", "{d}/c"], "non-integer"),
    (["classify", "{d}/labels.csv", "--test", "{d}/wide_labels.csv", "--out", "{d}/c"], "test file has 3 feature columns"),
    (["classify", "{d}/labels.csv", "--cut", "x", "--out", "{d}/c"], "--cut must be a number or 'roc'"),
    (["classify", "{d}/labels.csv", "--epochs", "0", "--out", "{d}/c"], "must be >= 1"),
    (["classify", "{d}/labels.csv", "--out", "{d}/a_file"], "exists and is not a folder"),
    (["classify", "{d}/binary.csv", "--out", "{d}/c"], "is not a text file"),
    (["eis", "fit", "{d}/missing.csv", "--circuit", "R0-p(R1,C1)", "--out", "{d}/e"], "does not exist"),
    (["eis", "fit", "{d}/spectra.csv", "--circuit", "R0-X1", "--out", "{d}/e"], "unknown circuit element 'X1'"),
    (["eis", "fit", "{d}/spectra.csv", "--circuit", "R0-La0", "--out", "{d}/e"], "modified inductor"),
    (["eis", "fit", "{d}/spectra.csv", "--circuit", "R0-p(R1,C1)", "--out", "{d}/a_file"], "not a folder"),
    (["eis", "fit", "{d}/binary.csv", "--circuit", "R0-p(R1,C1)", "--out", "{d}/e"], "not text"),
    (["eis", "fit", "{d}/spectra.csv", "--circuit", "R0-p(R1,C1)", "--posterior", "{d}/a_file", "--out", "{d}/e"],
     "is not a folder"),
    (["eis", "learn", "{d}/spectra.csv", "--circuit", "R0-p(R1,C1)", "--epochs", "2", "--out", "{d}/e"],
     "--epochs counts adversarial epochs"),
    (["eis", "learn", "{d}/spectra.csv", "--circuit", "R0-p(R1,C1)", "-n", "0", "--out", "{d}/e"], "must be >= 1"),
    (["eis", "posterior", "--circuit", "R0-p(R1,C1)", "--frequencies", "{d}/spectra.csv", "--epochs", "0",
      "--out", "{d}/e"], "--epochs and --steps must be >= 1"),
    (["eis", "posterior", "--circuit", "R0-p(R1,C1)", "--frequencies", "{d}/missing.csv", "--out", "{d}/e"],
     "does not exist"),
    (["demo", "--epochs", "0", "--out", "{d}/demo"], "--epochs must be >= 1"),
    (["demo", "--out", "{d}/a_file"], "exists and is not a folder"),
    (["smoke", "--epochs", "0"], "--epochs and --layers must be >= 1"),
]


def _snapshot(folder):
    return {(os.path.relpath(os.path.join(root, name), folder), os.path.getsize(os.path.join(root, name)),
             os.path.getmtime(os.path.join(root, name)))
            for root, dirs, files in os.walk(folder) for name in files + dirs}


@pytest.mark.parametrize("argv, message", CLI, ids=[" ".join(a[:2]) + f" [{m[:30]}]" for a, m in CLI])
def test_cli_bad_input_ends_in_one_line_and_status_2_writing_nothing(argv, message, cli_files, capsys):
    before = _snapshot(cli_files)
    capsys.readouterr()
    assert main([a.format(d=cli_files) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and err[-1].startswith("physflow: error:"), err
    assert message in err[-1], err[-1]
    assert not any("Traceback" in line or line.startswith("physflow: error") for line in err[:-1])
    assert _snapshot(cli_files) == before, "a failed command changed the folder"


def test_corpus_size():
    print(f"bad-input corpus: {len(API)} API cases, {len(CLI)} command-line cases, "
          f"{len({a[0] for a, _ in CLI})} commands")
    assert len(API) >= 100 and {a[0] if a[0] != "eis" else a[1] for a, _ in CLI} >= {
        "train", "export", "info", "sample", "evaluate", "classify", "fit", "learn", "posterior", "demo", "smoke"}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write into a read-only folder")
def test_cli_refuses_a_read_only_output_folder_before_training(cli_files, capsys):
    locked = cli_files / "locked"
    locked.mkdir(exist_ok=True)
    locked.chmod(0o555)
    try:
        assert main(["train", str(cli_files / "data.csv"), "--out", str(locked / "run")]) == 2
        assert "is not writable" in capsys.readouterr().err
        assert not (locked / "run").exists()
    finally:
        locked.chmod(0o755)
