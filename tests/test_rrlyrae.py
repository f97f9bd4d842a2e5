"""RR Lyrae and Stripe 82 readers: the real signal file, the background format, missing files."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from tfp_physflow.data import load_rrlyrae, load_rrlyrae_combined, load_stripe82_background
from tfp_physflow.data.rrlyrae import CATALOGUE_COLUMNS

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.shared_data("rrlyrae/RRLyrae.fit")


@needs_shared
def test_the_signal_file_gives_483_stars_and_their_colours():
    from astropy.io import fits

    data = load_rrlyrae(SHARED / "rrlyrae")
    assert data["colours"].shape == (483, 4) and np.all(np.isfinite(data["colours"]))
    assert (data["type"] == "ab").sum() == 379 and (data["type"] == "c").sum() == 104
    with fits.open(SHARED / "rrlyrae" / "RRLyrae.fit") as hdus:
        row = hdus[1].data[0]
        expected = [row["umag"] - row["gmag"], row["gmag"] - row["rmag"], row["rmag"] - row["imag"],
                    row["imag"] - row["zmag"]]
    np.testing.assert_allclose(data["colours"][0], expected)


@needs_shared
def test_the_environment_variable_points_to_the_data(monkeypatch):
    monkeypatch.setenv("PHYSFLOW_DATA", str(SHARED))
    assert load_rrlyrae()["colours"].shape == (483, 4)


def test_a_missing_file_names_itself_and_its_source(monkeypatch, tmp_path):
    monkeypatch.setenv("PHYSFLOW_DATA", str(tmp_path))
    monkeypatch.setenv("ASTROML_DATA", str(tmp_path / "astroml"))
    with pytest.raises(FileNotFoundError, match="RRLyrae.fit not found.*Sesar et al. 2010"):
        load_rrlyrae()
    with pytest.raises(FileNotFoundError, match="stripe82calibStars_v2.6.dat.gz.*Ivezic et al. 2007"):
        load_stripe82_background()


def catalogue_rows(mean_mags):
    """Rows in the exact column layout of stripe82calibStars_v2.6.dat."""
    rows = []
    for i, mmu in enumerate(mean_mags):
        fields = ["CALIBSTARS", f"{10 + i:.6f}", "-0.5", "0.01", "0.01", "12", "0.1"]
        for m in mmu:  # Nobs, mmed (deliberately different from mmu), mmu, msig, mrms, mchi2
            fields += ["10", f"{m + 5:.4f}", f"{m:.4f}", "0.01", "0.02", "1.1"]
        rows.append(" ".join(fields))
    return "\n".join(rows) + "\n"


MAGS = np.array([[19.0, 18.0, 17.8, 17.7, 17.6],     # u-g 1.0 g-r 0.2 r-i 0.1 i-z 0.1: kept
                 [19.0, 17.0, 16.8, 16.7, 16.6],     # u-g 2.0: cut
                 [18.5, 17.6, 17.5, 17.45, 17.3],    # kept
                 [18.5, 17.6, 17.1, 17.0, 16.9]])    # g-r 0.5: cut


@pytest.mark.parametrize("name", ["stripe82calibStars_v2.6.dat.gz", "stripe82calibStars_v2.6.dat"])
def test_background_reader_uses_mean_magnitudes_and_astroml_cuts(tmp_path, name):
    text = catalogue_rows(MAGS)
    assert len(text.split("\n")[0].split()) == CATALOGUE_COLUMNS == 37
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    colours = load_stripe82_background(tmp_path)
    np.testing.assert_allclose(colours, (MAGS[:, :-1] - MAGS[:, 1:])[[0, 2]], atol=1e-6)


def test_background_reader_takes_astroml_cached_npy(tmp_path):
    table = np.zeros(len(MAGS), dtype=[(f"mmu_{b}", "f4") for b in "ugriz"] + [("RA", "f8")])
    for i, b in enumerate("ugriz"):
        table[f"mmu_{b}"] = MAGS[:, i]
    np.save(tmp_path / "sdss_S82standards.npy", table)
    assert load_stripe82_background(tmp_path).shape == (2, 4)


@needs_shared
def test_the_combined_set_labels_background_0_and_rr_lyrae_1(tmp_path):
    (tmp_path / "stripe82calibStars_v2.6.dat").write_text(catalogue_rows(MAGS))
    x, y = load_rrlyrae_combined(SHARED / "rrlyrae", tmp_path)
    assert x.shape == (485, 4) and y.sum() == 483 and (y == 0).sum() == 2
