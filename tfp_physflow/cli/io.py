"""Reading and writing the arrays the ``physflow`` command works on: .npy, .csv, .npz."""

import contextlib
import os
import zipfile

import numpy as np


def read_array(path, key=None, columns=None, name="data"):
    """A 2-D float array from .npy, .csv (comma-separated, optional header line) or .npz (``key``).

    Raises ValueError with one line that names the file and the problem.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{name} {path!r} is a folder: give a file (.npy, .csv or .npz)")
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
    except UnicodeDecodeError:
        raise ValueError(f"{name} file {path!r} is not a text file (a CSV holds comma-separated numbers)") from None
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{name} file {path!r} cannot be read: {err}") from None
    except ValueError as err:
        if "allow_pickle" in str(err):  # numpy's advice would be to load it unsafely
            raise ValueError(f"{name} file {path!r} holds Python objects (a pickled array), which physflow does "
                             "not load: save a numeric array") from None
        if suffix in (".npy", ".npz") and path not in str(err):
            raise ValueError(f"{name} file {path!r} is not a valid {suffix} file: {err}") from None
        raise
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


def check_output_file(path, suffixes=(".npy", ".csv")):
    """Raises ValueError, before any work, when ``path`` cannot be written as an output file."""
    path = os.fspath(path)
    if os.path.splitext(path)[1].lower() not in suffixes:
        raise ValueError(f"output {path!r}: use a {' or '.join(suffixes)} file name")
    if os.path.isdir(path):
        raise ValueError(f"output {path!r} is a folder: give a file name")
    check_writable_folder(os.path.dirname(os.path.abspath(path)), f"output {path!r}")


def check_output_folder(path, option="--out"):
    """Raises ValueError, before any work, when folder ``path`` cannot be created or written."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{option} {path!r} exists and is not a folder")
    check_writable_folder(path, f"{option} {path!r}")


def check_writable_folder(path, what):
    """The folder ``path``, or the nearest existing folder above it, must be writable."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{what}: {existing!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{what}: the folder {existing!r} is not writable")


@contextlib.contextmanager
def atomic_path(path):
    """A temporary name beside ``path`` (same suffix) to write to; renamed to ``path`` when the block
    ends without an error, removed otherwise: readers never see a partial file."""
    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_array(path, array, header=None):
    """Writes .npy or .csv (by suffix), atomically: a failure leaves no partial file."""
    check_output_file(path)
    with atomic_path(path) as tmp:
        if tmp.lower().endswith(".npy"):
            np.save(tmp, array)
        else:
            np.savetxt(tmp, array, delimiter=",", header=",".join(header) if header else "", comments="")


def read_header(path):
    """The column names of a .csv's header line, or None (no header, or not a .csv)."""
    path = os.fspath(path)
    if os.path.splitext(path)[1].lower() not in (".csv", ".txt"):
        return None
    with open(path) as f:
        first = next((line.strip() for line in f if line.strip()), "")
    names = [v.strip() for v in first.split(",")]
    try:
        [float(v) for v in names]
        return None
    except ValueError:
        return names


def write_generated(path, frequencies, names, parameters, spectra):
    """Generated parameters with their spectra: a .npz (frequencies, parameters, parameter_names,
    spectra) or a wide .csv that ``read_spectra`` reads back (parameters as metadata columns)."""
    from ..data import spectra_table

    path = os.fspath(path)
    if not path.endswith((".npz", ".csv")):
        raise ValueError(f"parameters with their spectra go to a .csv or .npz file, got {path!r}")
    with atomic_path(path) as tmp:
        if path.endswith(".npz"):
            np.savez(tmp, frequencies=frequencies, parameters=parameters, parameter_names=np.array(names),
                     spectra=spectra)
        else:
            spectra_table(frequencies, spectra, metadata=dict(zip(names, parameters.T))).to_csv(tmp, index=False)


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
