"""physflow demo, classify and smoke: whole jobs from one command."""

import os

import numpy as np

from .io import add_tensorboard_argument, read_array


def _kinds():
    from ..flows import KINDS

    return [k for k in KINDS if k != "cinn"]


# -- demo ------------------------------------------------------------------------------------------------

def add_demo_arguments(p):
    p.add_argument("--full", action="store_true",
                   help="the paper-sized run: 5,000 training and 50,000 validation spectra, 150 epochs "
                        "(about 8 minutes per flow on 2 cores); default is quick (about 2 minutes)")
    p.add_argument("--kind", default="linear", choices=["diagonal", "linear", "realnvp", "nsf"],
                   help="flow of the circuit parameters (default linear, the paper's best data generator)")
    p.add_argument("--epochs", type=int, help="training epochs (default 60, --full 150)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="physflow_demo", help="folder for figures and the SavedModel (default physflow_demo)")
    p.add_argument("--jobs", type=int, default=-1,
                   help="processes for the random forests of the scores (default -1: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_tensorboard_argument(p)


def demo(args):
    """The main job: the physics-aware adversarial flow experiment for one flow."""
    from . import ecm_report

    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    sizes = {} if args.full else {"n_train": 2000, "n_val": 5000, "generated_sizes": (2000, 5000)}
    ecm_report.run([args.kind], epochs=args.epochs or (150 if args.full else 60), seed=args.seed, out=args.out,
                   verbose=not args.quiet, paper=args.full, n_jobs=args.jobs, tensorboard=args.tensorboard, **sizes)
    print(f"serve it: saved_model_cli show --dir {os.path.join(args.out, 'generator')} --all")
    return 0


# -- classify --------------------------------------------------------------------------------------------

def add_classify_arguments(p):
    p.add_argument("train", help="labeled training table (.npy, .csv or .npz): features and a label column")
    p.add_argument("--label-column", type=int, default=-1, help="index of the label column (default -1, the last)")
    p.add_argument("--test", help="labeled test table with the same columns, to report accuracy on")
    p.add_argument("--key", help="array name inside .npz files")
    p.add_argument("--kind", default="maf", choices=_kinds(), help="flow per class (default maf)")
    p.add_argument("--layers", type=int, help="blocks per flow (default per kind)")
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 64], help="hidden widths (default 64 64)")
    p.add_argument("--epochs", type=int, default=100, help="maximum epochs per flow (default 100)")
    p.add_argument("--cut", default="0", help="threshold of t = ln p(0|x) - ln p(1|x), or 'roc' (two classes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="folder of the exported classifier SavedModel")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _features_and_labels(path, column, key, name):
    table = read_array(path, key=key, name=name)
    if table.shape[1] < 2:
        raise ValueError(f"{name} file {path!r} needs feature columns and a label column, got {table.shape[1]} column")
    if not -table.shape[1] <= column < table.shape[1]:
        raise ValueError(f"--label-column {column} is outside the {table.shape[1]} columns of {path!r}")
    labels = table[:, column]
    if not np.all(labels == np.round(labels)):
        raise ValueError(f"label column {column} of {path!r} holds non-integer values")
    return np.delete(table, column, axis=1), labels.astype(int)


def classify(args):
    from ..export import export_classifier
    from ..metrics import roc
    from ..plots import plot_roc
    from ..models import FlowClassifier

    x, y = _features_and_labels(args.train, args.label_column, args.key, "training")
    if len(np.unique(y)) < 2:
        raise ValueError(f"the training labels hold one class only ({np.unique(y)}): nothing to classify")
    flow_kwargs = {"hidden_units": tuple(args.hidden)}
    if args.layers:
        flow_kwargs["num_layers"] = args.layers
    cut = args.cut if args.cut == "roc" else float(args.cut)
    model = FlowClassifier(args.kind, flow_kwargs, epochs=args.epochs, cut=cut, random_state=args.seed,
                           verbose=not args.quiet).fit(x, y)
    print(f"trained one {args.kind} flow per class on {len(x)} rows, {x.shape[1]} features, classes "
          f"{model.classes_.tolist()}")
    os.makedirs(args.out, exist_ok=True)
    if args.test:
        xt, yt = _features_and_labels(args.test, args.label_column, args.key, "test")
        if xt.shape[1] != x.shape[1]:
            raise ValueError(f"test file has {xt.shape[1]} feature columns, training had {x.shape[1]}")
        print(f"test accuracy {np.mean(model.predict(xt) == yt):.4f} on {len(xt)} rows")
        if len(model.classes_) == 2:
            score = -model.statistic(xt)  # larger means class 1
            print(f"test ROC AUC {roc(yt, score, positive=model.classes_[1])[2]:.4f}")
            plot_roc(yt, score, positive=model.classes_[1], label=args.kind, threshold=-model.cut_).savefig(
                os.path.join(args.out, "roc.png"))
    path = export_classifier(model, os.path.join(args.out, "saved_model"))
    print(f"classifier SavedModel (signature classify) in {path}")
    return 0


# -- smoke -----------------------------------------------------------------------------------------------

def add_smoke_arguments(p):
    p.add_argument("--kind", default="realnvp", choices=_kinds())
    p.add_argument("--layers", type=int, default=None, help="number of blocks (default per kind)")
    p.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="print only the result")


def smoke(args):
    """Trains a flow on two moons and compares held-out log-likelihood with a Gaussian."""
    import keras

    from ..data import two_moons
    from ..flows import make_flow
    from ..metrics import gaussian_log_likelihood
    from ..train import fit_flow

    train, test = two_moons(4000, seed=args.seed), two_moons(2000, seed=args.seed + 1)
    flow = make_flow(args.kind, 2, num_layers=args.layers)
    if not args.quiet:
        print(f"training a {args.kind} flow ({flow.count_params()} parameters) on two moons")
    batch_size = 256
    steps = args.epochs * (int(0.9 * len(train)) // batch_size)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps))
    fit_flow(flow, train, epochs=args.epochs, batch_size=batch_size, validation_split=0.1, optimizer=optimizer,
             seed=args.seed, verbose=not args.quiet)
    flow_ll = float(flow.log_prob(test).numpy().mean())
    gauss_ll = gaussian_log_likelihood(train, test)
    print(f"held-out log-likelihood per point: flow {flow_ll:.3f}, fitted Gaussian {gauss_ll:.3f}, "
          f"gain {flow_ll - gauss_ll:+.3f} nats")
    return 0
