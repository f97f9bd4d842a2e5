"""physflow info, sample and evaluate: any SavedModel tfp_physflow wrote, called through its signatures."""

import json
import os

import numpy as np

from .io import check_output_file, read_array, write_array, write_generated


# -- SavedModels: info, sample, evaluate -------------------------------------------------------------------

def _load(path):
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ValueError(f"{path!r} is not a SavedModel folder (no saved_model.pb)")
    try:
        model = tf.saved_model.load(path)
        description = getattr(model, "description", None)
        description = json.loads(description.numpy().decode()) if description is not None else {}
    except (OSError, tf.errors.OpError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path!r} cannot be loaded as a SavedModel (damaged or incomplete?): "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from None
    return model, description


def _serve(model, signature, **inputs):
    """Calls a serving signature; its input checks' failures become one ValueError in their own words."""
    import tensorflow as tf

    from ..export.saving import serving_error

    try:
        return model.signatures[signature](**inputs)
    except tf.errors.InvalidArgumentError as err:
        raise ValueError(serving_error(err)) from None


def add_info_arguments(p):
    p.add_argument("saved_model", help="SavedModel folder")


def info(args):
    model, description = _load(args.saved_model)
    print(f"SavedModel {args.saved_model}")
    for name, fn in model.signatures.items():
        inputs = ", ".join(f"{k}: {_spec(s)}" for k, s in sorted(fn.structured_input_signature[1].items()))
        outputs = ", ".join(f"{k}: {_spec(s)}" for k, s in sorted(fn.structured_outputs.items()))
        print(f"  signature {name}({inputs}) -> {outputs}")
    frequencies = getattr(model, "frequencies", None)
    if frequencies is not None:
        f = frequencies.numpy()
        print(f"frequencies: {f.size} from {f.min():.4g} to {f.max():.4g} Hz")
    if description:
        print("description:")
        for key, value in description.items():
            print(f"  {key}: {json.dumps(value) if not isinstance(value, str) else value}")
    else:
        print("no tfp_physflow description (not written by tfp_physflow)")
    return 0


def _spec(spec):
    shape = "(" + ", ".join("None" if d is None else str(d) for d in spec.shape.as_list()) + ")"
    return f"{spec.dtype.name} {shape}"


def add_sample_arguments(p):
    p.add_argument("saved_model", help="SavedModel of a flow, a physics generator or a conditional sampler")
    p.add_argument("-n", type=int, default=1000, help="samples (per condition row) (default 1000)")
    p.add_argument("--condition", help="conditions, one row each (conditional models)")
    p.add_argument("--key", help="array name inside .npz files")
    p.add_argument("--out", help="write samples to this .npy (n, d) or, with --condition, (n, batch, d); or .csv, "
                                 "one row per sample, given conditions a first column condition_row; a physics "
                                 "generator writes parameters and spectra to a .csv or .npz "
                                 "(default: print a summary)")


def _draw(model, description, n, condition):
    """Samples (n, d), or (n, batch, d) given conditions, from any tfp_physflow SavedModel."""
    import tensorflow as tf

    form = description.get("format", "")
    n = tf.constant(n, tf.int32)
    if form.startswith("tfp_physflow.physics_flow"):
        return _serve(model, "sample_parameters", n=n)["parameters"].numpy(), description["parameter_names"]
    if form.startswith("tfp_physflow.sampler"):
        if condition is None:
            raise ValueError("this model samples given conditions: give --condition FILE")
        out = _serve(model, description["signature"], **{description["condition"]: tf.constant(
            condition, tf.float32), "n": n})
        return out[description["output"]].numpy(), None
    if form.startswith("tfp_physflow.flow"):
        if (condition is None) != (description.get("condition_dim") is None):
            raise ValueError("this flow is " + ("conditional: give --condition FILE" if condition is None
                                                else "unconditional: drop --condition"))
        inputs = {"n": n} if condition is None else {"n": n, "condition": tf.constant(
            condition, description.get("dtype", "float32"))}
        return _serve(model, "sample", **inputs)["samples"].numpy(), description.get("columns")
    if form.startswith("tfp_physflow.circuit_posterior"):
        raise ValueError("a circuit posterior samples given spectra: run 'physflow eis fit SPECTRA --circuit "
                         f"{description.get('circuit')!r} --posterior DIR' (it writes posterior.csv)")
    raise ValueError(f"this SavedModel ({form or 'not from tfp_physflow'}) has no sampling signature")


def _condition(args, description):
    if args.condition is None:
        return None
    dim = description.get("condition_dim")
    return read_array(args.condition, key=args.key, columns=dim, name="condition")


def _sample_physics(model, description, n, out):
    """A physics generator's parameters AND spectra: a wide .csv (read_spectra reads it) or a .npz."""
    import tensorflow as tf

    if not out.endswith((".csv", ".npz")):  # before drawing anything
        raise ValueError(f"a physics generator writes parameters and spectra: give --out a .csv or .npz, got {out!r}")
    check_output_file(out, (".csv", ".npz"))
    result = _serve(model, "sample_spectra", n=tf.constant(n, tf.int32))
    frequencies, names = model.frequencies.numpy(), description["parameter_names"]
    write_generated(out, frequencies, names, result["parameters"].numpy(),
                    result["real"].numpy() + 1j * result["imag"].numpy())
    print(f"wrote {n} parameter vectors {tuple(names)} with their spectra ({len(frequencies)} frequencies) to {out}")
    return 0


def sample(args):
    if args.n < 1:
        raise ValueError(f"-n must be >= 1, got {args.n}")
    model, description = _load(args.saved_model)
    if args.out and description.get("format", "").startswith("tfp_physflow.physics_flow"):
        return _sample_physics(model, description, args.n, args.out)
    if args.out:
        check_output_file(args.out)
    samples, names = _draw(model, description, args.n, _condition(args, description))
    if args.out:
        by_row = np.swapaxes(samples, 0, 1) if samples.ndim == 3 else samples  # (batch, n, d): one block per row
        array = samples if samples.ndim == 2 or args.out.endswith(".npy") else np.concatenate(
            [np.repeat(np.arange(len(by_row)), by_row.shape[1])[:, None], by_row.reshape(-1, samples.shape[-1])], 1)
        columns = list(names or [f"x{i}" for i in range(samples.shape[-1])])
        header = columns if samples.ndim == 2 else ["condition_row"] + columns
        write_array(args.out, array, header=header)
        print(f"wrote {samples.shape} samples to {args.out}")
    else:
        flat = samples.reshape(-1, samples.shape[-1])
        print(f"{samples.shape} samples; per column mean {np.array2string(flat.mean(0), precision=4)}, "
              f"std {np.array2string(flat.std(0), precision=4)}")
    return 0


def add_evaluate_arguments(p):
    p.add_argument("saved_model", help="SavedModel of a flow or a physics generator")
    p.add_argument("data", help="data to score (for a physics generator: the true parameters)")
    p.add_argument("--condition", help="conditions of the data rows (conditional flows)")
    p.add_argument("--key", help="array name inside .npz files")


def evaluate(args):
    import tensorflow as tf

    from .. import metrics

    model, description = _load(args.saved_model)
    form = description.get("format", "")
    dim = description.get("event_dim") or len(description.get("parameter_names", [])) or None
    x = read_array(args.data, key=args.key, columns=dim, name="data")
    if args.condition is not None and description.get("condition_dim") is None:
        raise ValueError("this model is unconditional: drop --condition")
    condition = _condition(args, description)
    if condition is not None and len(condition) != len(x):
        raise ValueError(f"data has {len(x)} rows but condition has {len(condition)}")
    if form.startswith("tfp_physflow.flow"):
        inputs = {"x": tf.constant(x, description.get("dtype", "float32"))}
        if condition is not None:
            inputs["condition"] = tf.constant(condition, description.get("dtype", "float32"))
        log_prob = _serve(model, "log_prob", **inputs)["log_prob"].numpy()
        print(f"mean log-likelihood {log_prob.mean():.4f} +- {log_prob.std() / np.sqrt(len(log_prob)):.4f} "
              f"per row over {len(x)} rows")
    if condition is not None:
        return 0
    samples, _ = _draw(model, description, len(x), None)
    print(f"samples against data (scores in [0, 1], 1 best): 1D-KS {metrics.ks_score(samples, x):.4f}", end="")
    if x.shape[1] >= 2:
        print(f", 2D-KS {metrics.ks2d_score(samples, x):.4f}, "
              f"correlation similarity {metrics.correlation_similarity(samples, x):.4f}")
    else:
        print()
    return 0
