"""Measured impedance spectra from files: instrument exports, folders of them, and collection tables.

``read_spectra(path)`` returns a ``Spectra``: ``frequencies`` (K,) in Hz,
``spectra`` complex (N, K) with Z = Z' + jZ'' (capacitive: Z'' < 0), one
``names`` entry per spectrum and any metadata columns. What it reads:

- one instrument export, through impedance.py's ``preprocessing.readFile``
  (Gamry .DTA, BioLogic .mpt, ZPlot .z, VersaStudio .par, and by their
  headers Autolab, Parstat, PowerSuite and CH Instruments .txt; a headerless
  f, Z', Z'' .csv), or ``instrument=`` to name the reader;
- a folder of such files, one spectrum each, on one frequency grid (a folder
  of Zhang et al.'s battery files is recognised and read by ``load_zhang2020``);
- a wide table, one spectrum per row: columns ``re_<f>`` and ``im_<f>``
  (f in Hz), other columns metadata (``name`` names the rows); a .csv, or a
  .npz holding ``frequencies`` and complex ``spectra`` (optional ``names``);
- a long table: one row per point, columns id (``id``, ``spectrum`` or
  ``name``), frequency (``frequency``, ``freq``, ``f``), Z' (``re``, ``z'``,
  ``zre``, ``zreal``) and Z'' (``im``, ``z''``, ``zim``, ``zimag``).

A leading ``-`` on an imaginary column's name (``-im_100``, ``-Z''``,
``-Im(Z)/Ohm``) says the column holds -Z'', the common export; it is negated.
Where the header does not say, ``imaginary="-Z''"`` does. Frequencies in
rad/s take ``frequency_unit="rad/s"``. Nothing is guessed silently.
"""

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

INSTRUMENT_BY_SUFFIX = {".dta": "gamry", ".mpt": "biologic", ".z": "zplot", ".par": "versastudio"}
# Distinctive header text of the .txt exports impedance.py reads.
INSTRUMENT_BY_HEADER = (("A.C. Impedance", "chinstruments"), ("Z'(a)", "autolab"), ("Zre (ohms)", "parstat"),
                        ("Zimg", "powersuite"))
INSTRUMENTS = ("gamry", "autolab", "parstat", "zplot", "versastudio", "powersuite", "biologic", "chinstruments")
_ID, _FREQ = ("id", "spectrum", "name"), ("frequency", "freq", "f")
_RE, _IM = ("re", "z'", "zre", "zreal", "re(z)", "real"), ("im", "z''", "zim", "zimag", "im(z)", "imag")


@dataclass
class Spectra:
    """Spectra read from files: ``frequencies`` (K,) Hz, ``spectra`` complex (N, K) in ohms
    (Z'' < 0 capacitive), ``names`` (N,) and ``metadata`` {column: (N,) array}."""
    frequencies: np.ndarray
    spectra: np.ndarray
    names: list
    metadata: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.spectra)


def read_spectra(path, *, instrument=None, imaginary=None, frequency_unit="Hz"):
    """Reads measured spectra from a file or a folder; see the module docstring for the formats.

    Args:
      path: an instrument export, a folder of them, or a .csv / .npz table.
      instrument: impedance.py's reader name for instrument exports (default:
        from the suffix or the header); one of ``INSTRUMENTS``.
      imaginary: "Z''" or "-Z''": what the imaginary columns of a table hold,
        where their names do not say (default: from the names, else Z'').
      frequency_unit: "Hz" (default) or "rad/s".
    Returns:
      ``Spectra``.
    Example:
      >>> import os, tempfile
      >>> path = os.path.join(tempfile.mkdtemp(), "long.csv")
      >>> _ = open(path, "w").write("id,freq,re,-im\\na,10,5,1\\na,100,4,2\\nb,10,6,1\\nb,100,5,3\\n")
      >>> s = read_spectra(path)
      >>> s.names, s.frequencies.tolist(), s.spectra[0].tolist()
      (['a', 'b'], [10.0, 100.0], [(5-1j), (4-2j)])
    """
    if imaginary not in (None, "Z''", "-Z''"):
        raise ValueError(f"imaginary must be \"Z''\" or \"-Z''\", got {imaginary!r}")
    if frequency_unit not in ("Hz", "rad/s"):
        raise ValueError(f"frequency_unit must be 'Hz' or 'rad/s', got {frequency_unit!r}")
    if instrument is not None and instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; impedance.py reads {', '.join(INSTRUMENTS)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        if path.is_dir():
            from .zhang2020 import is_zhang2020_folder, load_zhang2020

            result = load_zhang2020(path) if is_zhang2020_folder(path) else _read_folder(path, instrument)
        elif path.suffix.lower() == ".npz":
            result = _read_npz(path)
        elif path.suffix.lower() == ".csv" and instrument is None and _has_header(path):
            result = _read_table(path, imaginary)
        else:
            f, z = _read_instrument_file(path, instrument)
            result = Spectra(f, z[None], [path.stem])
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: a file is not text in a known encoding ({err.reason} at byte {err.start}); "
                         "spectra are read from text tables, instrument exports or .npz") from None
    if frequency_unit == "rad/s":
        result.frequencies = result.frequencies / (2 * np.pi)
    _check(result, path)
    return result


def _check(result, path):
    f, z = result.frequencies, result.spectra
    if z.ndim != 2 or z.shape[1] != f.size or z.shape[0] == 0:
        raise ValueError(f"{path}: no spectra read (shape {z.shape}, {f.size} frequencies)")
    if not np.all(np.isfinite(f)) or np.any(f <= 0):
        raise ValueError(f"{path}: frequencies must be positive and finite: {int(np.sum(~(f > 0)))} are not")
    bad = ~np.isfinite(z)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise ValueError(f"{path}: spectrum {result.names[row]!r} holds NaN or inf ({int(bad.sum())} values)")


def _instrument_for(path, instrument):
    if instrument is not None:
        return instrument
    by_suffix = INSTRUMENT_BY_SUFFIX.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    with open(path, encoding="latin-1") as f:
        head = f.read(4000)
    for marker, name in INSTRUMENT_BY_HEADER:
        if marker in head:
            return name
    return None  # impedance.py's plain csv: f, Z', Z''


def _read_instrument_file(path, instrument):
    from impedance.preprocessing import readFile

    name = _instrument_for(path, instrument)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f, z = readFile(str(path), instrument=name)
    except Exception as err:  # impedance.py raises AssertionError, ValueError, IndexError, ...
        what = f"as {name}" if name else "as f, Z', Z'' columns"
        raise ValueError(f"{path}: cannot read it {what} with impedance.py ({type(err).__name__}: "
                         f"{str(err).strip() or 'no detail'}); give instrument= one of {', '.join(INSTRUMENTS)}"
                         ) from None
    f, z = np.asarray(f, np.float64), np.asarray(z, np.complex128)
    if f.size == 0:
        raise ValueError(f"{path}: impedance.py read no data points from it (as {name or 'csv'})")
    return f, z


def _read_folder(folder, instrument):
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise ValueError(f"{folder} holds no files")
    frequencies, rows = None, []
    for p in files:
        f, z = _read_instrument_file(p, instrument)
        if frequencies is None:
            frequencies, first = f, p
        elif not _same_grid(f, frequencies):
            raise ValueError(f"{p.name} has another frequency grid ({f.size} points, {f.min():g}-{f.max():g} Hz) "
                             f"than {first.name} ({frequencies.size} points, {frequencies.min():g}-"
                             f"{frequencies.max():g} Hz): a folder holds spectra on one grid")
        rows.append(z)
    return Spectra(frequencies, np.stack(rows), [p.stem for p in files])


def _same_grid(f, reference):
    return f.shape == reference.shape and np.allclose(f, reference, rtol=1e-6)


def _read_npz(path):
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        if "frequencies" not in keys or not ({"spectra"} <= keys or {"real", "imag"} <= keys):
            raise ValueError(f"{path}: a .npz of spectra holds 'frequencies' and complex 'spectra' "
                             f"(or 'real' and 'imag'); it holds {sorted(keys)}")
        f = np.asarray(data["frequencies"], np.float64)
        z = data["spectra"] if "spectra" in keys else data["real"] + 1j * data["imag"]
        if not np.iscomplexobj(z):
            raise ValueError(f"{path}: 'spectra' must be complex, got {z.dtype}")
        names = [str(n) for n in data["names"]] if "names" in keys else [str(i) for i in range(len(z))]
        metadata = {k: data[k] for k in keys - {"frequencies", "spectra", "real", "imag", "names"}
                    if data[k].shape[:1] == (len(z),)}
    return Spectra(f, np.asarray(z, np.complex128), names, metadata)


def _has_header(path):
    """True when the first line is not all numbers (then it names the columns)."""
    with open(path, encoding="utf-8-sig") as f:
        first = f.readline()
    for cell in re.split(r"[,;\t ]+", first.strip()):
        try:
            float(cell)
        except ValueError:
            return True
    return False


def _bare(column):
    """Lower-case name without a unit: 'Freq/Hz' -> 'freq', "-Im(Z) (Ohm)" -> '-im(z)'."""
    return re.sub(r"\s*(/.*|\(ohm.*\)|\(hz\)|\[.*\])$", "", column.strip().lower())


def _sign(column, imaginary, path):
    """-1 where the imaginary column holds -Z'' (from its name or the option), else +1."""
    negated = column.strip().startswith("-")
    if negated and imaginary == "Z''":
        raise ValueError(f"{path}: column {column!r} is named as -Z'' but imaginary=\"Z''\" was given")
    return -1.0 if negated or imaginary == "-Z''" else 1.0


def _read_table(path, imaginary):
    import pandas as pd

    table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    bare = {c: _bare(c) for c in table.columns}
    wide = {c: m for c in table.columns if (m := re.fullmatch(r"(-?)(re|im)_([0-9.eE+-]+)", c.strip().lower()))}
    if wide:
        return _wide(path, table, wide, imaginary)
    roles = {}
    for role, names in (("id", _ID), ("freq", _FREQ), ("re", _RE), ("im", _IM)):
        found = [c for c, b in bare.items() if b.lstrip("-") in names and (role == "im" or not b.startswith("-"))]
        if len(found) != 1:
            shown = list(table.columns[:8]) + (["..."] if len(table.columns) > 8 else [])
            raise ValueError(f"{path}: a long table needs one {role} column (one of {', '.join(names)}), "
                             f"found {found or 'none'} among {shown}; a wide table names its "
                             "columns re_<f> and im_<f> with f a number in Hz")
        roles[role] = found[0]
    sign = _sign(roles["im"], imaginary, path)
    frequencies, spectra, names, metadata = None, [], [], {c: [] for c in table.columns if c not in roles.values()}
    for name, group in table.groupby(roles["id"], sort=False):
        f = _numbers(group, roles["freq"], path)
        if frequencies is None:
            frequencies, first = f, name
        elif not _same_grid(f, frequencies):
            raise ValueError(f"{path}: spectrum {name!r} has another frequency grid ({f.size} points) than "
                             f"{first!r} ({frequencies.size} points): give every spectrum the same frequencies")
        spectra.append(_numbers(group, roles["re"], path) + 1j * sign * _numbers(group, roles["im"], path))
        names.append(str(name))
        for c in metadata:
            metadata[c].append(group[c].iloc[0])
    return Spectra(frequencies, np.array(spectra), names, {c: np.array(v) for c, v in metadata.items()})


def _numbers(table, column, path):
    import pandas as pd

    values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values) & table[column].notna().to_numpy()
    if bad.any():
        raise ValueError(f"{path}: column {column!r} holds something that is not a number: "
                         f"{table[column].to_numpy()[bad][0]!r}")
    return values


def _wide(path, table, wide, imaginary):
    re_cols = {float(m.group(3)): c for c, m in wide.items() if m.group(2) == "re"}
    im_cols = {float(m.group(3)): c for c, m in wide.items() if m.group(2) == "im"}
    if sorted(re_cols) != sorted(im_cols):
        missing = sorted(set(re_cols) ^ set(im_cols))
        raise ValueError(f"{path}: every frequency needs a re_<f> and an im_<f> column; unpaired: {missing[:5]}")
    frequencies = np.array(list(re_cols))  # in column order
    real = np.column_stack([_numbers(table, re_cols[f], path) for f in frequencies])
    signs = np.array([_sign(im_cols[f], imaginary, path) for f in frequencies])
    spectra = real + 1j * signs * np.column_stack([_numbers(table, im_cols[f], path) for f in frequencies])
    others = [c for c in table.columns if c not in wide]
    name_column = next((c for c in others if _bare(c) in _ID), None)
    names = ([str(v) for v in table[name_column]] if name_column is not None
             else [str(i) for i in range(len(table))])
    metadata = {c: table[c].to_numpy() for c in others if c != name_column}
    return Spectra(frequencies, spectra, names, metadata)


def spectra_table(frequencies, spectra, names=None, metadata=None):
    """A pandas DataFrame in the wide layout ``read_spectra`` reads: name, metadata, re_<f>, im_<f>."""
    import pandas as pd

    spectra, frequencies = np.asarray(spectra), np.asarray(frequencies, np.float64)
    if not np.iscomplexobj(spectra) or spectra.ndim != 2 or spectra.shape[1] != frequencies.size:
        raise ValueError(f"spectra must be complex impedances (N, {frequencies.size}), one per frequency, got "
                         f"{spectra.dtype} {spectra.shape}")
    columns = {"name": list(names) if names is not None else [str(i) for i in range(len(spectra))]}
    columns.update(metadata or {})
    for k, f in enumerate(np.asarray(frequencies, np.float64)):
        columns[f"re_{float(f)!r}"] = spectra[:, k].real
    for k, f in enumerate(np.asarray(frequencies, np.float64)):
        columns[f"im_{float(f)!r}"] = spectra[:, k].imag
    return pd.DataFrame(columns)
