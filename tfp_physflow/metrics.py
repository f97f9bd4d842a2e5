"""Evaluation metrics."""

import numpy as np
from scipy import stats


def gaussian_log_likelihood(train, test, diagonal=False):
    """Mean held-out log-likelihood of a Gaussian fitted to ``train`` by maximum likelihood.

    The baseline a flow must beat: with ``diagonal=True`` the covariance is
    diagonal (what a DiagonalAffine flow can represent), otherwise full (what
    an LULinear flow can represent).
    """
    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    mean = train.mean(0)
    cov = np.cov(train, rowvar=False, bias=True)
    if diagonal:
        cov = np.diag(np.diag(cov))
    return float(stats.multivariate_normal(mean, cov).logpdf(test).mean())
