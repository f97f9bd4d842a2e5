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
