"""Rebuilds the reference SavedModels in this folder (about 75 seconds on 2 cores).

    python saved_models/build.py

impedance_generator  a linear physics-aware flow trained adversarially on 2,000
                     simulated Rs-p(Re,Ce) spectra (no labels): sample_parameters, sample_spectra
density_classifier   a FlowClassifier (one MAF per class) on scikit-learn's breast-cancer
                     data (30 features, malignant = 0, benign = 1): classify
coulomb_cinn         a cINN giving OCS atom positions from Coulomb-explosion momenta: sample_positions
Each folder's README shows saved_model_cli and a Python snippet that needs TensorFlow only.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sklearn.datasets import load_breast_cancer  # noqa: E402

import tfp_physflow as pf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
verbose = "--quiet" not in sys.argv


def impedance_generator():
    data = pf.data.simulate_impedance(2000, seed=1)
    generator, _ = pf.train_physics_flow("linear", data.spectra, data.frequencies, epochs=60, verbose=verbose)
    pf.export_physics_flow(generator, os.path.join(HERE, "impedance_generator"))


def density_classifier():
    x, y = load_breast_cancer(return_X_y=True)
    model = pf.FlowClassifier("maf", {"num_layers": 2, "hidden_units": (32, 32)}, epochs=60, verbose=verbose)
    pf.export_classifier(model.fit(x, y), os.path.join(HERE, "density_classifier"))


def coulomb_cinn():
    data = pf.data.simulate_coulomb(3000, seed=0)
    mean, std = data.momenta.mean(0), data.momenta.std(0)
    cinn = pf.make_flow("cinn", 9, 9, num_layers=8, hidden_units=(64, 64), seed=0)
    pf.fit_flow(cinn, data.positions.astype("float32"), ((data.momenta - mean) / std).astype("float32"),
                epochs=40, batch_size=256, validation_split=0.15, patience=10, verbose=verbose)
    pf.export_conditional_sampler(cinn, os.path.join(HERE, "coulomb_cinn"), mean, std)


def keeping_readme(build):
    """Runs ``build``; the export swaps the whole folder in, so its README is carried over."""
    readme = os.path.join(HERE, build.__name__, "README.md")
    text = open(readme).read() if os.path.exists(readme) else None
    build()
    if text is not None:
        with open(readme, "w") as f:
            f.write(text)


if __name__ == "__main__":
    for build in (impedance_generator, density_classifier, coulomb_cinn):
        print(f"building {build.__name__}")
        keeping_readme(build)
    print(f"SavedModels written to {HERE}")
