"""Evaluation metrics: held-out likelihood baselines, classification reports,
distribution similarity of generated parameters (1D-KS, 2D-KS, correlation
similarity) and of generated spectra (``spectrum_fidelity``: KS scores and a
classifier two-sample test), and supervised-learning performance (SLP) of
generated data; the inverse-problem metrics (mse, mean_relative_error,
interval_coverage) live in ``inverse_metrics`` and are re-exported here."""

import numpy as np
from scipy import stats

from . import inverse_metrics as _inverse

mse, mean_relative_error, interval_coverage = _inverse.mse, _inverse.mean_relative_error, _inverse.interval_coverage


def gaussian_log_likelihood(train, test, diagonal=False):
    """Mean held-out log-likelihood of a Gaussian fitted to ``train`` by maximum likelihood.

    The baseline a flow must beat: with ``diagonal=True`` the covariance is
    diagonal (what a DiagonalAffine flow can represent), otherwise full (what
    an LULinear flow can represent).
    """
    train, test = _two_samples(train, test)
    mean = train.mean(0)
    cov = np.cov(train, rowvar=False, bias=True)
    if diagonal:
        cov = np.diag(np.diag(cov))
    return float(stats.multivariate_normal(mean, cov).logpdf(test).mean())


def classification_fractions(y_true, y_pred, positive=1):
    """The RR Lyrae paper's Table III, each as a fraction of ALL samples.

    correctly_classified = (TP + TN) / all, false_positive = FP / all,
    false_negative = FN / all, with ``positive`` the signal class.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and of one shape, got {y_true.shape}, {y_pred.shape}")
    true_pos, pred_pos = y_true == positive, y_pred == positive
    n = y_true.size
    return {"correctly_classified": float(np.mean(true_pos == pred_pos)),
            "false_positive": float(np.sum(pred_pos & ~true_pos) / n),
            "false_negative": float(np.sum(~pred_pos & true_pos) / n)}


def roc(y_true, score, positive=1):
    """ROC curve and AUC (scikit-learn) for a score that is larger for ``positive``: (fpr, tpr, auc)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(y_true) == positive
    fpr, tpr, _ = roc_curve(y, score)
    return fpr, tpr, float(roc_auc_score(y, score))


# -- distribution similarity (the physics-aware flows paper's Table 1) -------------------------------

def _two_samples(a, b, min_dim=1):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = (x[:, None] if x.ndim == 1 else x for x in (a, b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or a.shape[1] < min_dim or not len(a) or not len(b):
        raise ValueError(f"samples must be non-empty (N, d) arrays with one d >= {min_dim}, got {a.shape}, {b.shape}")
    for name, x in (("first sample", a), ("second sample", b)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"the {name} contains NaN or inf")
    return a, b


def ks_statistics(a, b):
    """Two-sample Kolmogorov-Smirnov statistic D of each column: (d,) in [0, 1]
    (equal to ``scipy.stats.ks_2samp(a[:, i], b[:, i]).statistic``)."""
    a, b = _two_samples(a, b)
    out = []
    for x, y in zip(a.T, b.T):
        x, y = np.sort(x), np.sort(y)
        grid = np.concatenate([x, y])
        cdf_x = np.searchsorted(x, grid, side="right") / len(x)
        cdf_y = np.searchsorted(y, grid, side="right") / len(y)
        out.append(np.max(np.abs(cdf_x - cdf_y)))
    return np.array(out)


def ks_score(a, b):
    """1D-KS score: 1 - mean over columns of the two-sample KS statistic; 1 for identical samples."""
    return float(1.0 - ks_statistics(a, b).mean())


def _count_lower_left(px, py, qx, qy):
    """For each query q: #{points p with px < qx and py < qy}, in O((n + m) log^2 n).

    Points sorted by x; the prefix of the first r = #{px < qx} points is split
    into aligned power-of-two blocks (the binary digits of r); each block is
    pre-sorted by y, so one searchsorted per level counts its points below qy.
    """
    order = np.argsort(px, kind="stable")
    xs, ys = px[order], py[order]
    n = len(xs)
    size = 1 << max(0, (n - 1).bit_length())
    yrank = np.full(size, n, np.int64)  # padding ranks sort last and never count
    yrank[:n] = np.searchsorted(np.sort(py), ys, side="left")
    r = np.searchsorted(xs, qx, side="left")
    q_rank = np.searchsorted(np.sort(py), qy, side="left")
    count = np.zeros(len(qx), np.int64)
    level = 1
    while level <= size:
        blocks = np.sort(yrank.reshape(-1, level), axis=1)
        keys = (np.arange(size // level, dtype=np.int64)[:, None] * (n + 1) + blocks).ravel()
        has = (r & level) != 0
        block = (r[has] >> level.bit_length()) << 1  # the block of this level inside prefix [0, r)
        found = np.searchsorted(keys, block * (n + 1) + q_rank[has], side="left")
        count[has] += found - block * level
        level <<= 1
    return count


def _quadrant_fractions(px, py, qx, qy):
    """(m, 4) fractions of the points in the four quadrants around each query point."""
    n = len(px)
    lower_left = _count_lower_left(px, py, qx, qy)
    left = np.searchsorted(np.sort(px), qx, side="left")
    below = np.searchsorted(np.sort(py), qy, side="left")
    quadrants = np.stack([lower_left, left - lower_left, below - lower_left,
                          n - left - below + lower_left], axis=1)
    return quadrants / n


def ks2d_statistic(a, b):
    """Fasano-Franceschini two-sample 2-D KS statistic of (N, 2) samples a and b.

    Around every point of a (then of b) as origin, the largest difference
    between the fractions of a and of b in any of the four quadrants; D is the
    mean of the two maxima (Fasano & Franceschini 1987, MNRAS 225, 155).
    Points on a quadrant's boundary count toward the upper/right quadrants.
    Quadrant counts come from a dominance count in O(n log^2 n), so 50,000
    against 50,000 takes about a second instead of the naive O(n^2).
    """
    a, b = _two_samples(a, b, min_dim=2)
    if a.shape[1] != 2:
        raise ValueError(f"ks2d_statistic takes (N, 2) samples, got {a.shape[1]} columns")
    maxima = []
    for origins in (a, b):
        fa = _quadrant_fractions(a[:, 0], a[:, 1], origins[:, 0], origins[:, 1])
        fb = _quadrant_fractions(b[:, 0], b[:, 1], origins[:, 0], origins[:, 1])
        maxima.append(np.max(np.abs(fa - fb)))
    return float(np.mean(maxima))


def ks2d_score(a, b):
    """2D-KS score: 1 - mean over all column pairs of the Fasano-Franceschini statistic."""
    a, b = _two_samples(a, b, min_dim=2)
    pairs = [(i, j) for i in range(a.shape[1]) for j in range(i + 1, a.shape[1])]
    return float(1.0 - np.mean([ks2d_statistic(a[:, [i, j]], b[:, [i, j]]) for i, j in pairs]))


def classifier_two_sample_auc(a, b, folds=5, seed=0, n_jobs=None):
    """Classifier two-sample test: the cross-validated ROC AUC of a random forest telling a from b.

    0.5 means the forest cannot tell the samples apart; 1.0 that it always
    can. The larger sample is subsampled to the smaller's size first, so
    that the AUC does not reward a lopsided class balance. (Lopez-Paz &
    Oquab, "Revisiting classifier two-sample tests", ICLR 2017.)
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    a, b = _two_samples(a, b)
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b))
    if n < folds:
        raise ValueError(f"a classifier two-sample test needs at least {folds} points in each sample, got {n}")
    x = np.concatenate([a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]])
    y = np.repeat([0, 1], n)
    forest = RandomForestClassifier(100, min_samples_leaf=3, random_state=seed, n_jobs=n_jobs)
    score = cross_val_predict(forest, x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                              method="predict_proba")[:, 1]
    return float(roc_auc_score(y, score))


def spectrum_fidelity(generated, measured, frequencies, nyquist_at=(1e3, 1.0, 0.1), seed=0, n_jobs=None):
    """How alike generated and measured complex spectra (N, K) are; each score for one set against the other.

    Returns a dict: ``ks`` the 1D-KS score (1 - mean KS statistic) over the
    features log10|Z| and phase at every frequency; ``ks2d`` the mean 2-D
    KS score in the Nyquist plane (Z', Z'') at the frequencies nearest to
    ``nyquist_at`` (Hz); ``auc`` the classifier two-sample test on the same
    features (0.5 = indistinguishable). KS scores: 1 best; AUC: 0.5 best.
    """
    generated, measured = np.asarray(generated), np.asarray(measured)
    f = np.asarray(frequencies, np.float64)
    if generated.ndim != 2 or measured.ndim != 2 or not generated.shape[1] == measured.shape[1] == f.size:
        raise ValueError(f"spectra must be (N, {f.size}) for {f.size} frequencies, got {generated.shape} and "
                         f"{measured.shape}")
    if not (np.iscomplexobj(generated) and np.iscomplexobj(measured)):
        raise ValueError("spectrum_fidelity compares complex spectra")
    features = [spectrum_regression_features(z) for z in (generated, measured)]
    columns = sorted({int(np.argmin(np.abs(np.log(f / at)))) for at in nyquist_at})
    ks2d = [ks2d_statistic(np.column_stack([g.real, g.imag]), np.column_stack([m.real, m.imag]))
            for g, m in ((generated[:, k], measured[:, k]) for k in columns)]
    return {"ks": ks_score(*features), "ks2d": float(1.0 - np.mean(ks2d)),
            "auc": classifier_two_sample_auc(*features, seed=seed, n_jobs=n_jobs),
            "nyquist_frequencies": f[columns]}


def correlation_similarity(a, b):
    """CS score: 1 - mean over column pairs i < j of |r_a(i, j) - r_b(i, j)| / 2,
    r the Pearson correlation; 1 for equal correlation structure, 0 for opposite +-1.

    What it does not measure: location and scale. Correlations are invariant
    to shifting and rescaling each column, so parameters wrong by two orders
    of magnitude (or independent columns in both samples) still score close
    to 1 (measured: 0.98-0.99 for such a generator). Report it beside a
    scale-sensitive score such as ``ks_score`` or ``ks2d_score``, as
    ``generator_scores`` does.
    Example:
      >>> rng = np.random.default_rng(0)
      >>> a = rng.normal(size=(2000, 2)); a[:, 1] += a[:, 0]
      >>> round(correlation_similarity(a, 100.0 * a + 5.0), 3), round(ks_score(a, 100.0 * a + 5.0), 2)
      (1.0, 0.5)
    """
    a, b = _two_samples(a, b, min_dim=2)
    if np.any(np.ptp(a, axis=0) == 0) or np.any(np.ptp(b, axis=0) == 0):
        raise ValueError("a column is constant: its correlation is undefined")
    upper = np.triu_indices(a.shape[1], 1)
    ra, rb = (np.corrcoef(x, rowvar=False)[upper] for x in (a, b))
    return float(1.0 - np.mean(np.abs(ra - rb)) / 2.0)


def mape(y_true, y_pred):
    """Mean absolute percentage error of each column, in percent: (d,)."""
    y_true, y_pred = _two_samples(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape}, {y_pred.shape}")
    if np.any(y_true == 0):
        raise ValueError("MAPE is undefined where y_true is 0")
    return 100.0 * np.mean(np.abs((y_pred - y_true) / y_true), axis=0)


def supervised_mape(train_x, train_y, test_x, test_y, n_estimators=50, seed=0, n_jobs=None):
    """MAPE (d,) of a random forest trained on (train_x -> train_y), tested on (test_x, test_y).

    One multi-output ``RandomForestRegressor`` of ``n_estimators`` trees on
    log(train_y): the targets differ by orders of magnitude (ohms and
    microfarads) and a forest on their logarithms weighs relative errors
    alike. (The paper's SLP protocol: 50 trees, trained on generated data,
    tested on the original.) Targets must be positive.
    """
    from sklearn.ensemble import RandomForestRegressor

    train_y, test_y = np.asarray(train_y, np.float64), np.asarray(test_y, np.float64)
    if np.any(train_y <= 0) or np.any(test_y <= 0):
        raise ValueError("supervised_mape regresses log(targets): targets must be positive")
    forest = RandomForestRegressor(n_estimators, random_state=seed, n_jobs=n_jobs)
    forest.fit(train_x, np.log(train_y))
    return mape(test_y, np.exp(forest.predict(test_x)).reshape(test_y.shape))


def slp_score(mape_percent):
    """SLP score from per-target MAPE in percent: max(0, 1 - mean MAPE / 100)."""
    return float(max(0.0, 1.0 - np.mean(mape_percent) / 100.0))


def spectrum_regression_features(spectra):
    """Features of complex spectra (N, K) for the SLP forests: [log10 |Z|, phase]."""
    spectra = np.asarray(spectra)
    return np.concatenate([np.log10(np.abs(spectra)), np.angle(spectra)], axis=1)


def generator_scores(generated_parameters, true_parameters, generated_spectra=None, true_spectra=None,
                     n_estimators=50, seed=0, n_jobs=None):
    """The physics-aware flows paper's Table 1 (left) for one generator, each in [0, 1], 1 best.

    Returns a dict: ``ks`` (1D-KS score), ``ks_per_parameter`` (1 - D of
    each), ``ks2d`` (2D-KS score over all pairs), ``cs`` (correlation
    similarity); with spectra also ``mape`` (per parameter, percent, of
    forests trained on the generated spectra -> parameters and tested on the
    true ones) and ``slp`` = 1 - mean MAPE / 100.
    """
    scores = {"ks": ks_score(generated_parameters, true_parameters),
              "ks_per_parameter": 1.0 - ks_statistics(generated_parameters, true_parameters),
              "ks2d": ks2d_score(generated_parameters, true_parameters),
              "cs": correlation_similarity(generated_parameters, true_parameters)}
    if generated_spectra is not None:
        scores["mape"] = supervised_mape(spectrum_regression_features(generated_spectra), generated_parameters,
                                         spectrum_regression_features(true_spectra), true_parameters,
                                         n_estimators, seed, n_jobs)
        scores["slp"] = slp_score(scores["mape"])
    return scores
