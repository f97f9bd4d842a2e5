"""Reading and writing the arrays the ``physflow`` command works on: .npy, .csv, .npz."""

import os

import numpy as np


def read_array(path, key=None, columns=None, name="data"):
    """A 2-D float array from .npy, .csv (comma-separated, optional header line) or .npz (``key``).

    Raises ValueError with one line that names the file and the problem.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{name} file {path!r} does not exist")
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                if key is None and len(keys) != 1:
                    raise ValueError(f"{path} holds arrays {keys}: choose one with --key")
                if key is not None and key not in keys:
                    raise ValueError(f"{path} has no array {key!r} (it holds {keys})")
                array = archive[key or keys[0]]
        elif suffix in (".csv", ".txt"):
            array = _read_csv(path)
        else:
            raise ValueError(f"{name} file {path!r}: unknown format {suffix!r} (use .npy, .csv or .npz)")
    except (OSError, EOFError) as err:
        raise ValueError(f"{name} file {path!r} cannot be read: {err}") from None
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} file {path!r} holds {array.dtype} values, not numbers")
    array = np.asarray(array, np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name} file {path!r} must hold a non-empty table (rows x columns), got shape {array.shape}")
    if columns is not None and array.shape[1] != columns:
        raise ValueError(f"{name} file {path!r} has {array.shape[1]} columns, expected {columns}")
    if not np.all(np.isfinite(array)):
        row = int(np.argwhere(~np.isfinite(array))[0, 0])
        raise ValueError(f"{name} file {path!r} contains NaN or inf (first in row {row + 1})")
    return array


def _read_csv(path):
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    if not lines:
        raise ValueError(f"{path} is empty")
    try:
        [float(v) for v in lines[0].split(",")]
        start = 0
    except ValueError:
        start = 1  # a header line
    rows = []
    for number, line in enumerate(lines[start:], start=start + 1):
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            raise ValueError(f"{path}, line {number}: not comma-separated numbers: {line[:60]!r}") from None
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise ValueError(f"{path}: rows have different numbers of columns {sorted(widths)}")
    return np.array(rows)


def write_array(path, array, header=None):
    """Writes .npy or .csv (by suffix), atomically."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".npy", ".csv"):
        raise ValueError(f"output {path!r}: use a .npy or .csv file name")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp{suffix}")
    if suffix == ".npy":
        np.save(tmp, array)
    else:
        np.savetxt(tmp, array, delimiter=",", header=",".join(header) if header else "", comments="")
    os.replace(tmp, path)


def write_generated(path, frequencies, names, parameters, spectra):
    """Generated parameters with their spectra: a .npz (frequencies, parameters, parameter_names,
    spectra) or a wide .csv that ``read_spectra`` reads back (parameters as metadata columns)."""
    from ..data import spectra_table

    path = os.fspath(path)
    if path.endswith(".npz"):
        np.savez(path, frequencies=frequencies, parameters=parameters, parameter_names=np.array(names),
                 spectra=spectra)
    elif path.endswith(".csv"):
        spectra_table(frequencies, spectra, metadata=dict(zip(names, parameters.T))).to_csv(path, index=False)
    else:
        raise ValueError(f"parameters with their spectra go to a .csv or .npz file, got {path!r}")


def add_tensorboard_argument(parser):
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="write TensorBoard logs (each epoch's losses, per phase, and the learning rate) to DIR; "
                             "watch them with: tensorboard --logdir DIR")


def tensorboard_callbacks(directory, run=None):
    """[keras.callbacks.TensorBoard] writing to ``directory`` (its subfolder ``run``), or [] without one."""
    if directory is None:
        return []
    import keras

    path = os.path.join(directory, run) if run else directory
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise ValueError(f"--tensorboard {directory}: cannot create the log folder ({err.strerror})") from None
    if not os.access(path, os.W_OK):
        raise ValueError(f"--tensorboard {directory}: the log folder is not writable")
    return [keras.callbacks.TensorBoard(path, write_graph=False)]
