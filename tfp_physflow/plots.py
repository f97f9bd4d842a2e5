"""Matplotlib figures."""

import matplotlib.pyplot as plt
import numpy as np


def plot_history(history, ax=None, title=None):
    """Loss curves of a training ``History``: training and, if any, validation loss per epoch.

    Returns the matplotlib Figure (save it with ``fig.savefig(path)``).
    """
    fig, ax = _figure(ax)
    epochs = history["epoch"]
    ax.plot(epochs, history["loss"], label="training")
    if any(v is not None for v in history["val_loss"]):
        ax.plot(epochs, history["val_loss"], label="validation")
    if history.best_epoch:
        ax.axvline(history.best_epoch, color="grey", ls=":", label=f"best (epoch {history.best_epoch})")
    ax.set(xlabel="epoch", ylabel="loss", title=title or "loss curves")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_roc(y_true, score, positive=1, ax=None, label=None):
    """ROC curve of ``score`` (larger means ``positive``), with its AUC in the legend."""
    from .metrics import roc

    fig, ax = _figure(ax)
    fpr, tpr, auc = roc(y_true, score, positive)
    ax.plot(fpr, tpr, label=f"{label or 'model'} (AUC {auc:.4f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_statistic(t, y_true, cut=0.0, ax=None, bins=60, names=("class 0", "class 1")):
    """Histograms of the test statistic t per class, with the cut (the RR Lyrae paper's Fig. 4)."""
    fig, ax = _figure(ax)
    t, y_true = np.asarray(t), np.asarray(y_true)
    edges = np.histogram_bin_edges(t[np.isfinite(t)], bins=bins)
    for value, name in zip(np.unique(y_true), names):
        ax.hist(t[y_true == value], bins=edges, histtype="step", density=True, label=name)
    ax.axvline(cut, color="k", ls="--", label=f"cut {cut:g}")
    ax.set(xlabel="t = ln p(0|x) - ln p(1|x)", ylabel="density", yscale="log", title="test statistic")
    ax.legend()
    fig.tight_layout()
    return fig


def _figure(ax):
    if ax is None:
        return plt.subplots(figsize=(6, 4))
    return ax.figure, ax
