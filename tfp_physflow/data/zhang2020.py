"""Measured impedance spectra of 12 lithium-ion coin cells cycled to end of life (Zhang et al. 2020).

Y. Zhang, Q. Tang, Y. Zhang, J. Wang, U. Stimming, A. A. Lee, "Identifying
degradation patterns of lithium ion batteries from impedance spectroscopy
using machine learning", Nature Communications 11, 1706 (2020); data on
Zenodo, doi:10.5281/zenodo.3633835. Eunicell LR2032 cells in climate
chambers: 25C01-25C08 at 25 °C, 35C01-35C02 at 35 °C, 45C01-45C02 at 45 °C.
``EIS_state_<state>_<cell>.txt`` holds one sweep per cycle (state V: 100 %
state of charge after a 15-minute rest): tab-separated time/s, cycle number,
freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm, |Z|/Ohm, Phase(Z)/deg; 60 frequencies from
20 kHz down to 20 mHz. The optional ``data_eis_zhang2020.csv`` (MIT, the
battery-data-commons tutorial) adds the discharge capacity Q (mAh) and
q = Q / Q(first cycle) for the 25 °C cells.
"""

import os
from pathlib import Path

import numpy as np

from .spectra import Spectra

CELLS = tuple(f"25C0{i}" for i in range(1, 9)) + ("35C01", "35C02", "45C01", "45C02")
CAPACITY_TABLE = "data_eis_zhang2020.csv"
SOURCE = ("Zenodo, doi:10.5281/zenodo.3633835 (the 'EIS data' files of Zhang et al., Nature Communications "
          "11:1706, 2020)")


def spectra_file(cell, state="V"):
    return f"EIS_state_{state}_{cell}.txt"


def find_zhang2020(folder=None, state="V"):
    """The folder holding the 12 cells' files: ``folder``, else ``$PHYSFLOW_DATA/eis/zhang2020`` or
    ``$PHYSFLOW_DATA``. Raises FileNotFoundError naming the missing files and where to get them."""
    if folder is not None:
        candidates = [Path(folder)]
    elif os.environ.get("PHYSFLOW_DATA"):
        root = Path(os.environ["PHYSFLOW_DATA"])
        candidates = [root / "eis" / "zhang2020", root]
    else:
        raise FileNotFoundError("no folder given and $PHYSFLOW_DATA is not set: pass the folder holding "
                                f"{spectra_file('25C01', state)} ... (from {SOURCE})")
    for candidate in candidates:
        missing = [spectra_file(c, state) for c in CELLS if not (candidate / spectra_file(c, state)).is_file()]
        if not missing:
            return candidate
    raise FileNotFoundError(f"{candidates[0]} lacks {len(missing)} of the 12 cells' files: {', '.join(missing)}. "
                            f"They are on {SOURCE}.")


def is_zhang2020_folder(path, state="V"):
    return Path(path).is_dir() and (Path(path) / spectra_file(CELLS[0], state)).is_file()


def load_zhang2020(folder=None, state="V"):
    """The complete sweeps of all 12 cells as ``Spectra``.

    ``spectra`` complex (N, 60) with Z'' < 0 capacitive (the files hold
    -Im(Z)); ``frequencies`` (60,) Hz from 20 kHz down to 20 mHz;
    ``names`` "<cell>/<cycle>"; ``metadata``: ``cell``, ``temperature``
    (°C), ``cycle`` and, for the cycles the capacity table lists, ``Q`` (mAh)
    and ``q`` (NaN elsewhere). Incomplete sweeps (cycle 1 of the 35 and 45 °C
    cells lacks the 20 kHz point) are left out: 2,784 spectra for state V.
    """
    folder = find_zhang2020(folder, state)
    capacity = _capacity(folder / CAPACITY_TABLE)
    frequencies, rows, meta = None, [], {"cell": [], "temperature": [], "cycle": [], "Q": [], "q": []}
    for cell in CELLS:
        table = np.loadtxt(folder / spectra_file(cell, state), skiprows=1, ndmin=2)
        if table.shape[1] != 7:
            raise ValueError(f"{folder / spectra_file(cell, state)}: expected 7 columns (time/s, cycle number, "
                             f"freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm, |Z|/Ohm, Phase(Z)/deg), got {table.shape[1]}")
        cycles = table[:, 1].astype(int)
        for cycle in np.unique(cycles):
            sweep = table[cycles == cycle]
            if len(sweep) != 60:
                continue
            if frequencies is None:
                frequencies = sweep[:, 2]
            elif not np.allclose(sweep[:, 2], frequencies, rtol=1e-4):
                raise ValueError(f"{spectra_file(cell, state)}, cycle {cycle}: another frequency grid")
            rows.append(sweep[:, 3] - 1j * sweep[:, 4])
            q_abs, q_rel = capacity.get((cell, int(cycle)), (np.nan, np.nan))
            for key, value in zip(meta, (cell, int(cell[:2]), int(cycle), q_abs, q_rel)):
                meta[key].append(value)
    names = [f"{c}/{k}" for c, k in zip(meta["cell"], meta["cycle"])]
    return Spectra(np.asarray(frequencies), np.array(rows), names, {k: np.array(v) for k, v in meta.items()})


def _capacity(path):
    """{(cell, cycle): (Q, q)} from the capacity table, empty where it is absent."""
    if not path.is_file():
        return {}
    import pandas as pd

    table = pd.read_csv(path, usecols=["seriesIdx", "cycle", "Q", "q"])
    return {(CELLS[int(i) - 1], int(c)): (float(big), float(small))
            for i, c, big, small in table.itertuples(index=False)}
