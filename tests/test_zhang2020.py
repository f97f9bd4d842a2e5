"""load_zhang2020: the measured battery spectra of Zhang et al. 2020 (in ../shared/data, not shipped)."""

import collections
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfp_physflow.data import load_zhang2020, read_spectra

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eis" / "zhang2020"
PER_CELL = {"25C01": 261, "25C02": 250, "25C03": 229, "25C04": 81, "25C05": 275, "25C06": 212, "25C07": 140,
            "25C08": 86, "35C01": 326, "35C02": 317, "45C01": 298, "45C02": 309}


@pytest.fixture(scope="module")
def battery():
    return load_zhang2020(FOLDER)


@pytest.mark.shared_data("eis/zhang2020/EIS_state_V_25C01.txt")
def test_every_complete_sweep_of_every_cell(battery):
    assert battery.spectra.shape == (2784, 60)
    assert dict(collections.Counter(battery.metadata["cell"].tolist())) == PER_CELL
    f = battery.frequencies
    assert np.isclose(f[0], 20004.453) and np.isclose(f[-1], 0.01999) and np.all(np.diff(f) < 0)
    temperature = dict(zip(battery.metadata["cell"], battery.metadata["temperature"]))
    assert temperature["25C03"] == 25 and temperature["35C02"] == 35 and temperature["45C01"] == 45
    # The files hold -Im(Z): capacitive at low frequency, inductive at the 20 kHz end.
    assert np.all(battery.spectra[:, -1].imag < 0) and np.all(battery.spectra[:, 0].imag > 0)
    assert battery.names[0] == "25C01/1" and battery.metadata["cycle"][0] == 1


@pytest.mark.shared_data("eis/zhang2020/EIS_state_V_25C01.txt", "eis/zhang2020/data_eis_zhang2020.csv")
def test_capacity_of_the_25_degree_cells_from_the_table(battery):
    known = np.isfinite(battery.metadata["Q"])
    assert known.sum() == 1343 and set(battery.metadata["cell"][known]) == {f"25C0{i}" for i in range(1, 9)}
    table = pd.read_csv(FOLDER / "data_eis_zhang2020.csv")
    row = table.iloc[100]
    cell, cycle = f"25C0{int(row['seriesIdx'])}", int(row["cycle"])
    i = battery.names.index(f"{cell}/{cycle}")
    assert battery.metadata["Q"][i] == pytest.approx(row["Q"]) and battery.metadata["q"][i] == pytest.approx(row["q"])
    re = row[[c for c in table.columns if c.startswith("ZReal_")]].to_numpy(float)
    minus_im = row[[c for c in table.columns if c.startswith("ZImag_")]].to_numpy(float)
    np.testing.assert_allclose(battery.spectra[i], re - 1j * minus_im, rtol=1e-6)  # the table's spectra are these


@pytest.mark.shared_data("eis/zhang2020/EIS_state_V_25C01.txt")
def test_found_through_the_environment_and_by_read_spectra(battery, monkeypatch):
    monkeypatch.setenv("PHYSFLOW_DATA", str(FOLDER.parent.parent))
    assert load_zhang2020().spectra.shape == battery.spectra.shape
    np.testing.assert_array_equal(read_spectra(FOLDER).spectra, battery.spectra)  # recognised by its files


def test_missing_files_are_named_with_their_source(tmp_path, monkeypatch):
    (tmp_path / "EIS_state_V_25C01.txt").write_text("time/s\tcycle number\n")
    with pytest.raises(FileNotFoundError, match=r"lacks 11 of the 12 cells' files: EIS_state_V_25C02.txt.*"
                                                r"zenodo.3633835"):
        load_zhang2020(tmp_path)
    monkeypatch.delenv("PHYSFLOW_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"PHYSFLOW_DATA is not set"):
        load_zhang2020()
