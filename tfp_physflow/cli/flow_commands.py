"""physflow train and export: a flow on the user's own data (model_commands: its SavedModel)."""

import json
import math
import os

import numpy as np

from .io import (add_tensorboard_argument, atomic_path, check_output_folder, read_array, read_header,
                 tensorboard_callbacks)

CONFIG, WEIGHTS = "flow.json", "flow.weights.h5"


# -- train -----------------------------------------------------------------------------------------------

def add_train_arguments(p):
    from ..flows import KINDS

    p.add_argument("data", help="samples, one per row (.npy, .csv with optional header, or .npz)")
    p.add_argument("--condition", help="conditions, one row per sample (a conditional flow p(x | c))")
    p.add_argument("--key", help="array name inside .npz files")
    p.add_argument("--kind", default="realnvp", choices=KINDS, help="flow kind (default realnvp; cinn needs --condition)")
    p.add_argument("--layers", type=int, help="number of blocks (default per kind)")
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 64], help="hidden widths (default 64 64)")
    p.add_argument("--network", default="mlp", choices=["mlp", "resnet"], help="coupling networks (default mlp)")
    p.add_argument("--epochs", type=int, default=100, help="maximum epochs (default 100)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--validation-split", type=float, default=0.1, help="held out for early stopping (default 0.1)")
    p.add_argument("--patience", type=int, default=10, help="epochs without improvement before stopping (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="folder for flow.json, flow.weights.h5, history.json and loss.png")
    p.add_argument("--checkpoint-dir", metavar="DIR",
                   help="save the run there after every epoch; the same command run again resumes it where it "
                        "stopped (after a kill, a crash or Ctrl-C) and ends as the uninterrupted run would")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_tensorboard_argument(p)


def _check_train_options(args):
    """Every option that cannot be right, refused before the data is read or anything is trained."""
    for option, value, least in (("--epochs", args.epochs, 1), ("--batch-size", args.batch_size, 1),
                                 ("--patience", args.patience, 0), ("--layers", args.layers, 1)):
        if value is not None and value < least:
            raise ValueError(f"{option} must be >= {least}, got {value}")
    if not (math.isfinite(args.learning_rate) and args.learning_rate > 0):
        raise ValueError(f"--learning-rate must be a positive number, got {args.learning_rate}")
    if not 0 <= args.validation_split < 1:
        raise ValueError(f"--validation-split must be in [0, 1), got {args.validation_split}")
    if any(h < 1 for h in args.hidden):
        raise ValueError(f"--hidden widths must be >= 1, got {args.hidden}")
    check_output_folder(args.out)
    if args.checkpoint_dir:
        check_output_folder(args.checkpoint_dir, "--checkpoint-dir")


def train(args):
    from ..flows import make_flow
    from ..plots import plot_history
    from ..train import fit_flow

    _check_train_options(args)
    x = read_array(args.data, key=args.key, name="data")
    columns = read_header(args.data)
    if columns is not None and len(columns) != x.shape[1]:
        columns = None
    condition = None if args.condition is None else read_array(args.condition, key=args.key, name="condition")
    if condition is not None and len(condition) != len(x):
        raise ValueError(f"data has {len(x)} rows but condition has {len(condition)}")
    mean, std = x.mean(0), x.std(0)
    if np.any(std == 0):
        raise ValueError(f"data column {int(np.argmax(std == 0))} is constant: a density needs spread")
    # The flow starts as N(mean, diag std^2): a learnable scale and shift after the
    # chain, so it trains on the data as given and serves it without a separate scaler.
    # make_flow checks the kind against the data (conditional or not, enough columns).
    try:
        flow = make_flow(args.kind, x.shape[1], None if condition is None else condition.shape[1],
                         num_layers=args.layers, hidden_units=tuple(args.hidden), network=args.network,
                         scale=list(std), loc=list(mean), seed=args.seed)
    except ValueError as err:
        raise ValueError(f"--kind {args.kind} with {x.shape[1]} data column(s)"
                         f"{'' if condition is None else ' and a --condition file'}: {err}") from None
    history = fit_flow(flow, x.astype("float32"), None if condition is None else condition.astype("float32"),
                       epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
                       validation_split=args.validation_split, patience=args.patience, seed=args.seed,
                       verbose=not args.quiet, callbacks=tensorboard_callbacks(args.tensorboard),
                       checkpoint_dir=args.checkpoint_dir)
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, WEIGHTS)) as tmp:
        flow.save_weights(tmp)
    record = {"config": flow.get_config(), "data": os.path.basename(args.data), "columns": columns}
    with atomic_path(os.path.join(args.out, CONFIG)) as tmp, open(tmp, "w") as f:
        json.dump(record, f, indent=1, default=str)
    history.save(os.path.join(args.out, "history.json"))
    with atomic_path(os.path.join(args.out, "loss.png")) as tmp:
        plot_history(history, title=f"{args.kind}: negative log-likelihood").savefig(tmp, format="png")
    monitored = history["val_loss"][history.best_epoch - 1] if history.best_epoch else history["loss"][-1]
    print(f"trained {args.kind} on {len(x)} rows x {x.shape[1]} columns: {len(history)} epochs "
          f"({history.stop_reason}), best held-out NLL {monitored:.4f} per row; flow in {args.out}/ "
          f"(export it with: physflow export {args.out} {os.path.join(args.out, 'saved_model')})")
    return 0


def load_trained_flow(run_dir):
    """The Flow written by ``physflow train`` into ``run_dir``."""
    from ..flows import make_flow

    config_path, weights_path = os.path.join(run_dir, CONFIG), os.path.join(run_dir, WEIGHTS)
    if not (os.path.isfile(config_path) and os.path.isfile(weights_path)):
        raise ValueError(f"{run_dir!r} holds no trained flow ({CONFIG} and {WEIGHTS} from physflow train)")
    try:
        with open(config_path) as f:
            record = json.load(f)
        config = record["config"]
        config["hidden_units"] = tuple(config["hidden_units"])
        flow = make_flow(**config)
        flow.load_weights(weights_path)
    except (json.JSONDecodeError, KeyError, TypeError, OSError) as err:
        raise ValueError(f"{run_dir!r}: its trained flow cannot be read ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}); train it again") from None
    return flow, record.get("columns")


# -- export ----------------------------------------------------------------------------------------------

def add_export_arguments(p):
    p.add_argument("run_dir", help="folder written by physflow train")
    p.add_argument("saved_model", help="folder to write the SavedModel to (replaced atomically)")


def export(args):
    from ..export import export_flow

    run, target = os.path.abspath(args.run_dir), os.path.abspath(args.saved_model)
    if run == target or run.startswith(target + os.sep):
        raise ValueError(f"the SavedModel {args.saved_model!r} would replace the trained run {args.run_dir!r}: "
                         f"write it elsewhere, e.g. {os.path.join(args.run_dir, 'saved_model')}")
    flow, columns = load_trained_flow(args.run_dir)
    path = export_flow(flow, args.saved_model, columns=columns)
    print(f"SavedModel with signatures log_prob and sample in {path}")
    return 0
