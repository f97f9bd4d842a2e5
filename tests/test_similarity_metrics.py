"""1D-KS, 2D-KS (Fasano-Franceschini), correlation similarity, MAPE and SLP on known distributions."""


import numpy as np
import pytest
from scipy.stats import ks_2samp

from tfp_physflow import metrics


def naive_ks2d(a, b):
    """The O(n^2) Fasano-Franceschini statistic, quadrants as documented (boundary -> upper/right)."""
    maxima = []
    for origins in (a, b):
        worst = 0.0
        for x0, y0 in origins:
            def fractions(s):
                left, below = s[:, 0] < x0, s[:, 1] < y0
                return np.array([np.mean(left & below), np.mean(left & ~below),
                                 np.mean(~left & below), np.mean(~left & ~below)])
            worst = max(worst, np.max(np.abs(fractions(a) - fractions(b))))
        maxima.append(worst)
    return np.mean(maxima)


@pytest.mark.parametrize("n, m, ties", [(60, 45, False), (200, 130, False), (1, 7, False), (90, 80, True)])
def test_ks2d_equals_the_naive_quadratic_method(n, m, ties):
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + [0.3, -0.2]
    if ties:
        a, b = np.round(a), np.round(b)
    assert metrics.ks2d_statistic(a, b) == pytest.approx(naive_ks2d(a, b), abs=1e-12)


def test_ks2d_handles_fifty_thousand_against_fifty_thousand():
    # The naive method needs 10^10 comparisons; the dominance counting finishes
    # (its speed belongs in a benchmark, not in a timed test).
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50_000, 2)), rng.normal(size=(50_000, 2))
    assert metrics.ks2d_statistic(a, b) < 0.02
    assert metrics.ks2d_statistic(a, b + [0.1, 0.0]) > 0.03


def test_ks_statistics_agree_with_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 3)), rng.standard_t(3, size=(211, 3))
    expected = [ks_2samp(a[:, i], b[:, i]).statistic for i in range(3)]
    np.testing.assert_allclose(metrics.ks_statistics(a, b), expected, atol=1e-12)


def test_identical_samples_score_one_and_disjoint_ones_zero():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(500, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1]])
    for score in (metrics.ks_score, metrics.ks2d_score, metrics.correlation_similarity):
        assert score(a, a) == pytest.approx(1.0)
    far = a + 100.0
    assert metrics.ks_score(a, far) == pytest.approx(0.0)
    assert metrics.ks2d_score(a, far) < 0.01
    assert metrics.correlation_similarity(a, -a[:, [0, 1, 2]] * [1, -1, 1]) < 0.9  # flipped signs


def test_correlation_similarity_is_documented_formula():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    b[:, 1] += b[:, 0]
    ra, rb = np.corrcoef(a, rowvar=False), np.corrcoef(b, rowvar=False)
    expected = 1 - np.mean(np.abs(ra - rb)[np.triu_indices(3, 1)]) / 2
    assert metrics.correlation_similarity(a, b) == pytest.approx(expected)


def test_scores_reject_bad_input():
    a = np.zeros((10, 2))
    with pytest.raises(ValueError, match="NaN"):
        metrics.ks_score(a, np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="one d"):
        metrics.ks_score(a, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="constant"):
        metrics.correlation_similarity(a, np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(ValueError, match="d >= 2"):
        metrics.ks2d_score(np.zeros((5, 1)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="undefined"):
        metrics.mape(np.zeros((3, 1)), np.ones((3, 1)))


def test_mape_and_slp():
    truth = np.array([[10.0, 100.0], [20.0, 200.0]])
    np.testing.assert_allclose(metrics.mape(truth, truth * [1.1, 0.98]), [10.0, 2.0])
    assert metrics.slp_score([10.0, 2.0]) == pytest.approx(0.94)
    assert metrics.slp_score([150.0, 200.0]) == 0.0


def test_supervised_mape_learns_a_smooth_positive_map():
    rng = np.random.default_rng(4)
    y = rng.uniform([1.0, 1e-6], [3.0, 5e-6], size=(2000, 2))
    x = np.column_stack([np.log(y), np.log(y).sum(1)])
    errors = metrics.supervised_mape(x[:1500], y[:1500], x[1500:], y[1500:], n_estimators=20)
    assert errors.shape == (2,) and np.all(errors < 3.0)
    shuffled = metrics.supervised_mape(x[:1500], rng.permutation(y[:1500]), x[1500:], y[1500:], n_estimators=20)
    assert np.all(shuffled > 5 * errors)  # labels that do not follow the inputs predict nothing


def test_the_classifier_two_sample_test_tells_shifted_samples_apart_and_not_equal_ones():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 3)), rng.normal(size=(600, 3))
    assert abs(metrics.classifier_two_sample_auc(a, b) - 0.5) < 0.08
    assert metrics.classifier_two_sample_auc(a, b + [1.5, 0, 0]) > 0.8
    with pytest.raises(ValueError, match="at least 5 points"):
        metrics.classifier_two_sample_auc(a[:3], b)


def test_spectrum_fidelity_scores_spectra_of_one_source_near_perfect_and_of_another_low():
    from tfp_physflow.data import simulate_impedance

    one, two = (simulate_impedance(300, seed=s) for s in (1, 2))
    f = one.frequencies
    same = metrics.spectrum_fidelity(one.spectra, two.spectra, f, nyquist_at=(1e3, 100, 10))
    other = metrics.spectrum_fidelity(one.spectra * 3.0, two.spectra, f)  # a factor of 3 in every impedance
    assert same["ks"] > 0.9 and same["ks2d"] > 0.85 and same["auc"] < 0.6
    assert other["ks"] < 0.75 and other["ks2d"] < 0.2 and other["auc"] > 0.95
    np.testing.assert_allclose(same["nyquist_frequencies"], [10, 100, 1e3], rtol=0.15)  # the nearest of the grid
    assert len(other["nyquist_frequencies"]) == 2  # 1 Hz and 0.1 Hz: both nearest to the lowest, 1.3 Hz
    with pytest.raises(ValueError, match="complex"):
        metrics.spectrum_fidelity(np.abs(one.spectra), two.spectra, f)
    with pytest.raises(ValueError, match=r"\(N, 48\)"):
        metrics.spectrum_fidelity(one.spectra[:, :5], two.spectra, f)
