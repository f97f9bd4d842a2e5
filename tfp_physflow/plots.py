"""Matplotlib figures."""

import matplotlib.pyplot as plt


def plot_history(history, ax=None, title=None):
    """Loss curves of a training ``History``: training and, if any, validation loss per epoch.

    Returns the matplotlib Figure (save it with ``fig.savefig(path)``).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
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
