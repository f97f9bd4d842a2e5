"""physflow demo, classify and smoke: whole jobs from one command."""

import os

import numpy as np

from .io import add_tensorboard_argument, check_output_folder, read_array


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
    check_output_folder(args.out)
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
    """(features, labels) of a labeled table; labels may be integers or, in a .csv, names (strings)."""
    if os.path.splitext(str(path))[1].lower() in (".csv", ".txt") and os.path.isfile(path):
        return _labeled_csv(path, column, name)
    table = read_array(path, key=key, name=name)
    _check_label_column(table.shape[1], column, path, name)
    labels = table[:, column]
    if not np.all(labels == np.round(labels)):
        raise ValueError(f"label column {column} of {path!r} holds non-integer values")
    return np.delete(table, column, axis=1), labels.astype(int)


def _check_label_column(width, column, path, name):
    if width < 2:
        raise ValueError(f"{name} file {path!r} needs feature columns and a label column, got {width} column")
    if not -width <= column < width:
        raise ValueError(f"--label-column {column} is outside the {width} columns of {path!r}")


def _labeled_csv(path, column, name):
    """A .csv with an optional header whose label column holds integers or class names."""
    try:
        with open(path) as f:
            rows = [[v.strip() for v in line.split(",")] for line in f if line.strip()]
    except UnicodeDecodeError:
        raise ValueError(f"{name} file {path!r} is not a text file (a CSV holds comma-separated values)") from None
    if not rows:
        raise ValueError(f"{name} file {path!r} is empty")
    width = len(rows[0])
    _check_label_column(width, column, path, name)
    features, header = [], False
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"{name} file {path!r}, line {number}: {len(row)} values, the first line has {width}")
        try:
            features.append([float(v) for i, v in enumerate(row) if i != column % width])
        except ValueError:
            if number == 1:
                header = True  # a header line
                continue
            raise ValueError(f"{name} file {path!r}, line {number}: a feature is not a number: "
                             f"{','.join(row)[:60]!r}") from None
    if not features:
        raise ValueError(f"{name} file {path!r} holds no data rows")
    labels = np.array([row[column] for row in rows[int(header):]])
    x = np.array(features)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} file {path!r} contains NaN or inf features "
                         f"(first in row {int(np.argwhere(~np.isfinite(x))[0, 0]) + 1})")
    try:
        numeric = labels.astype(float)
    except ValueError:
        return x, labels  # class names
    if not np.all(numeric == np.round(numeric)):
        raise ValueError(f"label column {column} of {path!r} holds non-integer numbers (class labels are "
                         "integers or names)")
    return x, numeric.astype(int)


def classify(args):
    from ..export import export_classifier
    from ..export.saving import check_replaceable
    from ..models import FlowClassifier

    if args.epochs < 1 or (args.layers is not None and args.layers < 1) or any(h < 1 for h in args.hidden):
        raise ValueError(f"--epochs, --layers and --hidden must be >= 1, got {args.epochs}, {args.layers}, "
                         f"{args.hidden}")
    try:
        cut = "roc" if args.cut == "roc" else float(args.cut)
    except ValueError:
        raise ValueError(f"--cut must be a number or 'roc', got {args.cut!r}") from None
    check_output_folder(args.out)
    saved_model = os.path.join(args.out, "saved_model")
    check_replaceable(os.path.abspath(saved_model))
    x, y = _features_and_labels(args.train, args.label_column, args.key, "training")
    test = None if not args.test else _features_and_labels(args.test, args.label_column, args.key, "test")
    if test is not None and test[0].shape[1] != x.shape[1]:  # before training
        raise ValueError(f"test file has {test[0].shape[1]} feature columns, training had {x.shape[1]}")
    if len(np.unique(y)) < 2:
        raise ValueError(f"the training labels hold one class only ({np.unique(y)}): nothing to classify")
    flow_kwargs = {"hidden_units": tuple(args.hidden)}
    if args.layers:
        flow_kwargs["num_layers"] = args.layers
    model = FlowClassifier(args.kind, flow_kwargs, epochs=args.epochs, cut=cut, random_state=args.seed,
                           verbose=not args.quiet).fit(x, y)
    counts = ", ".join(f"{c}: {n}" for c, n in zip(model.classes_.tolist(), np.unique(y, return_counts=True)[1]))
    print(f"trained one {args.kind} flow per class on {len(x)} rows, {x.shape[1]} features, classes "
          f"{model.classes_.tolist()} ({counts} rows)")
    if len(model.classes_) == 2:
        chosen = "chosen on the held-out rows by Youden's J, --cut roc" if cut == "roc" else "--cut"
        c0, c1 = model.classes_
        print(f"cut: class {c1} where t = ln p({c0}|x) - ln p({c1}|x) < {model.cut_:.4f} ({chosen})")
    os.makedirs(args.out, exist_ok=True)
    if test is not None:
        _report_test(model, *test, args.kind, args.out)
    path = export_classifier(model, saved_model)
    print(f"classifier SavedModel (signature classify) in {path}")
    return 0


def _report_test(model, xt, yt, kind, out):
    """Accuracy, the confusion matrix with each class's fraction right, and (two classes) the ROC curve."""
    from sklearn.metrics import confusion_matrix

    from ..metrics import roc
    from ..plots import plot_roc

    predicted, classes = model.predict(xt), model.classes_
    print(f"test accuracy {np.mean(predicted == yt):.4f} on {len(xt)} rows")
    unseen = sorted(set(np.unique(yt).tolist()) - set(classes.tolist()))
    if unseen:
        print(f"test labels not seen in training (always wrong): {unseen}")
    matrix = confusion_matrix(yt, predicted, labels=classes)
    width = max(len(str(c)) for c in classes) + 2
    print("confusion matrix (rows: true class, columns: predicted; last: the fraction of the class predicted right)")
    print(" " * width + "".join(f"{str(c):>{width}}" for c in classes))
    for k, (c, row) in enumerate(zip(classes, matrix)):
        print(f"{str(c):>{width}}" + "".join(f"{v:>{width}}" for v in row) + f"  {row[k] / max(row.sum(), 1):.3f}")
    if len(classes) == 2:
        score = -model.statistic(xt)  # larger means class 1
        print(f"test ROC AUC {roc(yt, score, positive=classes[1])[2]:.4f}")
        path = os.path.join(out, "roc.png")
        plot_roc(yt, score, positive=classes[1], label=kind, threshold=-model.cut_).savefig(path)
        print(f"ROC curve: {path}")


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

    if args.epochs < 1 or (args.layers is not None and args.layers < 1):
        raise ValueError(f"--epochs and --layers must be >= 1, got {args.epochs}, {args.layers}")
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
