"""RR Lyrae stars and Stripe 82 standard stars, read from astroML's files.

Signal: ``RRLyrae.fit``, 483 RR Lyrae stars of SDSS Stripe 82, Table 1 of
Sesar et al. 2010 (ApJ 708:717, VizieR J/ApJ/708/717) as redistributed by
astroML (astroML-data repository, ``datasets/RRLyrae.fit``).
Background: ``stripe82calibStars_v2.6.dat.gz``, the Stripe 82 standard star
catalogue of Ivezic et al. 2007 (AJ 134:973), from Ivezic's SDSS catalogue
pages, as astroML's ``fetch_sdss_S82standards`` downloads it (about 100 MB),
or the ``sdss_S82standards.npy`` that astroML caches from it.

Files are looked up in this order: an explicit ``path``; the folder in
``$PHYSFLOW_DATA`` (and its ``rrlyrae/`` subfolder); astroML's data home
(``$ASTROML_DATA`` or ``~/astroML_data``). Features are the colours u-g, g-r,
r-i, i-z, as in astroML's ``fetch_rrlyrae_combined``.
"""

import gzip
import os

import numpy as np

COLOURS = ("u-g", "g-r", "r-i", "i-z")
SIGNAL_FILE = "RRLyrae.fit"
BACKGROUND_FILES = ("stripe82calibStars_v2.6.dat.gz", "stripe82calibStars_v2.6.dat", "sdss_S82standards.npy")
# astroML's cuts on the background colours (fetch_rrlyrae_combined).
BACKGROUND_CUTS = {"u-g": (0.7, 1.35), "g-r": (-0.15, 0.4), "r-i": (-0.15, 0.22), "i-z": (-0.21, 0.25)}
_SOURCES = {
    SIGNAL_FILE: "Table 1 of Sesar et al. 2010 as redistributed by astroML (astroML-data repository, "
                 "datasets/RRLyrae.fit; astroML's fetch_rrlyrae_mags downloads it)",
    "background": "the Stripe 82 standard star catalogue stripe82calibStars_v2.6.dat.gz (Ivezic et al. 2007), "
                  "about 100 MB; astroML's fetch_sdss_S82standards downloads it into its data home",
}
# Columns of the catalogue text file: 'CALIBSTARS', RA, DEC, RArms, DECrms,
# Ntot, A_r, then for each band u g r i z: Nobs, mmed, mmu, msig, mrms, mchi2.
_BAND_COLUMNS = ("Nobs", "mmed", "mmu", "msig", "mrms", "mchi2")
CATALOGUE_COLUMNS = 1 + 6 + 5 * len(_BAND_COLUMNS)


def _mean_magnitude_column(band):
    return 7 + "ugriz".index(band) * len(_BAND_COLUMNS) + _BAND_COLUMNS.index("mmu")


def _search_folders():
    folders = []
    if os.environ.get("PHYSFLOW_DATA"):
        root = os.environ["PHYSFLOW_DATA"]
        folders += [root, os.path.join(root, "rrlyrae")]
    folders.append(os.environ.get("ASTROML_DATA") or os.path.join(os.path.expanduser("~"), "astroML_data"))
    return folders


def find_file(names, path=None, what=None):
    """The first existing file among ``names`` in ``path`` (a file or folder) or the search folders.

    Raises FileNotFoundError naming the file, where it was looked for and where it comes from.
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    if path is not None:
        if os.path.isfile(path):
            return path
        folders = [path]
    else:
        folders = _search_folders()
    for folder in folders:
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
    source = _SOURCES.get(what or names[0], "")
    raise FileNotFoundError(f"{' or '.join(names)} not found in {', '.join(folders)}. It is {source}. "
                            "Pass path=, or put it in $PHYSFLOW_DATA or astroML's data home.")


def load_rrlyrae(path=None):
    """The RR Lyrae stars: colours (N, 4) float64 (u-g, g-r, r-i, i-z) and types ('ab' or 'c').

    Returns:
      dict with "colours", "type" (str array), "period" (days).
    """
    from astropy.io import fits

    file = find_file(SIGNAL_FILE, path)
    with fits.open(file) as hdus:
        table = hdus[1].data
        mags = np.stack([np.asarray(table[f"{b}mag"], dtype=np.float64) for b in "ugriz"], axis=1)
        types = np.char.strip(np.asarray(table["Type"]).astype(str))
        period = np.asarray(table["Per"], dtype=np.float64)
    return {"colours": mags[:, :-1] - mags[:, 1:], "type": types, "period": period}


def load_stripe82_background(path=None):
    """Stripe 82 standard stars as background: colours of the mean magnitudes, astroML's cuts applied."""
    file = find_file(BACKGROUND_FILES, path, what="background")
    if file.endswith(".npy"):
        table = np.load(file)
        mags = np.stack([np.asarray(table[f"mmu_{b}"], dtype=np.float64) for b in "ugriz"], axis=1)
    else:
        opener = gzip.open if file.endswith(".gz") else open
        with opener(file, "rt") as f:
            columns = [_mean_magnitude_column(b) for b in "ugriz"]
            mags = np.loadtxt(f, usecols=columns, dtype=np.float64, ndmin=2)
    colours = mags[:, :-1] - mags[:, 1:]
    keep = np.ones(len(colours), bool)
    for i, name in enumerate(COLOURS):
        lo, hi = BACKGROUND_CUTS[name]
        keep &= (colours[:, i] > lo) & (colours[:, i] < hi)
    return colours[keep]


def load_rrlyrae_combined(signal_path=None, background_path=None):
    """The astroML 'RR Lyrae combined' set: X (N, 4) colours, y 1 for RR Lyrae, 0 for background."""
    signal = load_rrlyrae(signal_path)["colours"]
    background = load_stripe82_background(background_path)
    x = np.concatenate([background, signal])
    y = np.concatenate([np.zeros(len(background), int), np.ones(len(signal), int)])
    return x, y
