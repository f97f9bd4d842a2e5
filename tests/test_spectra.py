"""read_spectra: instrument exports against impedance.py's own reader, folders, wide and long tables."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from impedance.preprocessing import readFile

from tfp_physflow.data import read_spectra, simulate_impedance, spectra_table

FILES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eis" / "instrument_files"
# Each export of impedance.py's example data and the reader impedance.py's docs name for it.
INSTRUMENT = {
    "exampleData.csv": None, "exampleDataGamry.DTA": "gamry", "exampleDataGamryABORT.DTA": "gamry",
    "exampleDataBioLogic.mpt": "biologic", "exampleDataZPlot.z": "zplot", "exampleDataZPlot_noComments.z": "zplot",
    "Circuit1_EIS_1.z": "zplot", "Circuit1_EIS_2.z": "zplot", "Circuit2_EIS_1.z": "zplot",
    "Circuit2_EIS_2.z": "zplot", "Circuit3_EIS_1.z": "zplot", "Circuit3_EIS_2.z": "zplot",
    "exampleDataCHInstruments.txt": "chinstruments", "exampleDataAutolab.txt": "autolab",
    "exampleDataParstat.txt": "parstat", "exampleDataVersaStudio.par": "versastudio",
    "exampleDataPowersuite.txt": "powersuite",
}
DATA = simulate_impedance(5, seed=4)


@pytest.mark.shared_data("eis/instrument_files")
@pytest.mark.parametrize("name", sorted(INSTRUMENT))
def test_every_instrument_export_reads_as_impedance_py_reads_it(name):
    got = read_spectra(FILES / name)  # the reader chosen from the suffix or the header
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, z = readFile(str(FILES / name), instrument=INSTRUMENT[name])
    assert got.names == [Path(name).stem] and got.spectra.shape == (1, len(f))
    np.testing.assert_array_equal(got.frequencies, f)
    np.testing.assert_array_equal(got.spectra[0], z)


@pytest.mark.shared_data("eis/instrument_files")
def test_every_file_of_the_folder_is_read_or_refused_with_a_reason():
    assert {p.name for p in FILES.iterdir()} - set(INSTRUMENT) == {"LICENSE", "exampleDataBioLogic_MissingFreq.mpt"}
    with pytest.raises(ValueError, match=r"MissingFreq.mpt: cannot read it as biologic .*freq/Hz"):
        read_spectra(FILES / "exampleDataBioLogic_MissingFreq.mpt")


def _export(path, f, z):
    np.savetxt(path, np.column_stack([f, z.real, z.imag]), delimiter=",")


def test_a_headerless_csv_with_plain_exponents_is_one_export(tmp_path):
    (tmp_path / "one.csv").write_text("1e3,10,-2\n1e2,11,-5\n1E1,15,-7\n")
    got = read_spectra(tmp_path / "one.csv")
    assert got.frequencies.tolist() == [1000.0, 100.0, 10.0] and got.spectra[0].tolist() == [10 - 2j, 11 - 5j, 15 - 7j]


def test_a_folder_of_exports_on_one_grid(tmp_path):
    for i, z in enumerate(DATA.spectra[:3]):
        _export(tmp_path / f"cell_{i}.csv", DATA.frequencies, z)
    got = read_spectra(tmp_path)
    assert got.names == ["cell_0", "cell_1", "cell_2"]
    np.testing.assert_allclose(got.spectra, DATA.spectra[:3], rtol=1e-12)
    np.testing.assert_allclose(got.frequencies, DATA.frequencies, rtol=1e-12)
    _export(tmp_path / "cell_9.csv", DATA.frequencies[:-1], DATA.spectra[3, :-1])
    with pytest.raises(ValueError, match="cell_9.csv has another frequency grid"):
        read_spectra(tmp_path)


def test_wide_table_round_trip_and_the_minus_convention(tmp_path):
    table = spectra_table(DATA.frequencies, DATA.spectra, names=list("abcde"), metadata={"cycle": np.arange(5)})
    table.to_csv(tmp_path / "wide.csv", index=False)
    got = read_spectra(tmp_path / "wide.csv")
    assert got.names == list("abcde") and got.metadata["cycle"].tolist() == list(range(5))
    np.testing.assert_allclose(got.spectra, DATA.spectra, rtol=1e-12)
    np.testing.assert_array_equal(got.frequencies, DATA.frequencies)
    # -Z'' exported (positive for a capacitive cell): named so, or said by the option.
    minus = table.rename(columns={c: "-" + c for c in table.columns if c.startswith("im_")})
    minus[[c for c in minus.columns if c.startswith("-im_")]] *= -1
    minus.to_csv(tmp_path / "minus.csv", index=False)
    np.testing.assert_allclose(read_spectra(tmp_path / "minus.csv").spectra, DATA.spectra, rtol=1e-12)
    unnamed = table.copy()
    unnamed[[c for c in table.columns if c.startswith("im_")]] *= -1
    unnamed.to_csv(tmp_path / "unnamed.csv", index=False)
    np.testing.assert_allclose(read_spectra(tmp_path / "unnamed.csv", imaginary="-Z''").spectra, DATA.spectra)
    assert np.all(read_spectra(tmp_path / "unnamed.csv").spectra.imag > 0)  # as written: nothing guessed
    with pytest.raises(ValueError, match="named as -Z''"):
        read_spectra(tmp_path / "minus.csv", imaginary="Z''")


def test_long_table_with_instrument_style_headers_and_rad_per_s(tmp_path):
    k = len(DATA.frequencies)
    rows = ["spectrum,freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm,temperature"]
    for i, z in enumerate(DATA.spectra[:2]):
        rows += [f"s{i},{float(2 * np.pi * f)!r},{float(v.real)!r},{float(-v.imag)!r},{25 + i}"
                 for f, v in zip(DATA.frequencies, z)]
    (tmp_path / "long.csv").write_text("\n".join(rows) + "\n")
    got = read_spectra(tmp_path / "long.csv", frequency_unit="rad/s")
    assert got.names == ["s0", "s1"] and got.spectra.shape == (2, k)
    assert got.metadata["temperature"].tolist() == [25, 26]
    np.testing.assert_allclose(got.frequencies, DATA.frequencies, rtol=1e-12)
    np.testing.assert_allclose(got.spectra, DATA.spectra[:2], rtol=1e-12)
    (tmp_path / "ragged.csv").write_text("\n".join(rows[:-1]) + "\n")
    with pytest.raises(ValueError, match="spectrum 's1' has another frequency grid"):
        read_spectra(tmp_path / "ragged.csv")
    (tmp_path / "nofreq.csv").write_text("id,re,im\na,1,2\n")
    with pytest.raises(ValueError, match="needs one freq column"):
        read_spectra(tmp_path / "nofreq.csv")
    (tmp_path / "text.csv").write_text("id,f,re,im\na,1,2,x\na,2,2,3\n")
    with pytest.raises(ValueError, match="column 'im' holds something that is not a number: 'x'"):
        read_spectra(tmp_path / "text.csv")


def test_npz_and_bad_requests(tmp_path):
    np.savez(tmp_path / "s.npz", frequencies=DATA.frequencies, spectra=DATA.spectra, names=np.array(list("abcde")))
    got = read_spectra(tmp_path / "s.npz")
    assert got.names == list("abcde") and len(got) == 5
    np.testing.assert_array_equal(got.spectra, DATA.spectra)
    np.savez(tmp_path / "bad.npz", spectra=DATA.spectra)
    with pytest.raises(ValueError, match="holds 'frequencies' and complex 'spectra'"):
        read_spectra(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_spectra(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="unknown instrument"):
        read_spectra(tmp_path / "s.npz", instrument="solartron")
    with pytest.raises(ValueError, match="frequency_unit"):
        read_spectra(tmp_path / "s.npz", frequency_unit="kHz")
