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


def plot_pairs_2d(truth, model, names, pairs=None, bins=30, model_label="model"):
    """2-D histograms of parameter pairs, truth (top row) beside model (bottom row), shared bins.

    The physics-aware flows paper's Fig. 1 with ``pairs=[(2, 1), (2, 0)]``
    (Ce against Re and Rs): y is the first index of each pair, x the second.
    Each pair's bins span the truth's 0.5-99.5 percentile range, widened by 10 %.
    """
    truth, model = np.asarray(truth), np.asarray(model)
    pairs = pairs or [(i, j) for i in range(truth.shape[1]) for j in range(i + 1, truth.shape[1])]
    fig, axes = plt.subplots(2, len(pairs), figsize=(4 * len(pairs), 7), squeeze=False)
    for col, (iy, ix) in enumerate(pairs):
        edges = []
        for i in (ix, iy):
            lo, hi = np.percentile(truth[:, i], [0.5, 99.5])
            pad = 0.1 * (hi - lo)
            edges.append(np.linspace(lo - pad, hi + pad, bins + 1))
        for row, (data, label) in enumerate(((truth, "truth"), (model, model_label))):
            ax = axes[row, col]
            ax.hist2d(data[:, ix], data[:, iy], bins=edges, cmap="viridis")
            ax.set(xlabel=names[ix], ylabel=names[iy], title=f"{label}: {names[iy]} vs {names[ix]}")
    fig.tight_layout()
    return fig


def plot_marginals(truth, model, names, bins=50, model_label="model"):
    """Histograms of each parameter, truth against model, on the truth's range (widened)."""
    truth, model = np.asarray(truth), np.asarray(model)
    fig, axes = plt.subplots(1, truth.shape[1], figsize=(4 * truth.shape[1], 3.5), squeeze=False)
    for i, ax in enumerate(axes[0]):
        lo, hi = np.percentile(truth[:, i], [0.5, 99.5])
        edges = np.linspace(lo - 0.3 * (hi - lo), hi + 0.3 * (hi - lo), bins + 1)
        ax.hist(truth[:, i], edges, density=True, histtype="stepfilled", alpha=0.4, label="truth")
        ax.hist(model[:, i], edges, density=True, histtype="step", lw=1.5, label=model_label)
        ax.set(xlabel=names[i], ylabel="density")
        ax.legend()
    fig.tight_layout()
    return fig


def _figure(ax):
    if ax is None:
        return plt.subplots(figsize=(6, 4))
    return ax.figure, ax
