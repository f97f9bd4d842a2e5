"""Matplotlib figures."""

import matplotlib.pyplot as plt
import numpy as np

# What the two curves of an adversarial run's history are.
ADVERSARIAL_LABELS = ("critic loss (training)", "Wasserstein estimate, held-out spectra (validation)")

SCI_LIMITS = (-3, 4)  # linear axes of values like 2e-5 F or 5e-7 H: "x1e-5" beside the axis, not 0.000020


def plot_history(history, ax=None, title=None, labels=("training loss", "validation loss"), mark_best=True):
    """Loss curves of a training ``History``: training and, if any, validation loss per epoch.

    ``labels`` say what the two curves are (an adversarial run: the critic's
    loss and its Wasserstein estimate on held-out spectra); ``mark_best``
    marks the best epoch (off where epochs are not comparable, as the
    estimates of a critic that keeps learning).
    Returns the matplotlib Figure (save it with ``fig.savefig(path)``).
    """
    if not all(hasattr(history, a) for a in ("rows", "best_epoch")):
        raise TypeError(f"plot_history takes a History (what fit returns), got {type(history).__name__}")
    fig, ax = _figure(ax)
    epochs = history["epoch"]
    ax.plot(epochs, history["loss"], label=labels[0])
    if any(v is not None for v in history["val_loss"]):
        ax.plot(epochs, history["val_loss"], label=labels[1])
    if mark_best and history.best_epoch:
        ax.axvline(history.best_epoch, color="grey", ls=":", label=f"best (epoch {history.best_epoch})")
    ax.set(xlabel="epoch", ylabel="loss", title=title or "loss curves")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_roc(y_true, score, positive=1, ax=None, label=None, threshold=None):
    """ROC curve of ``score`` (larger means ``positive``), with its AUC in the legend.

    The title names the positive class; with ``threshold`` (predict ``positive``
    where score > threshold) the operating point is marked with its rates.
    """
    from .metrics import roc

    fig, ax = _figure(ax)
    fpr, tpr, auc = roc(y_true, score, positive)
    ax.plot(fpr, tpr, label=f"{label or 'model'} (AUC {auc:.4f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":")
    if threshold is not None:
        y, score = np.asarray(y_true) == positive, np.asarray(score)
        picked = score > threshold
        point = (np.mean(picked[~y]), np.mean(picked[y]))
        ax.plot(*point, "o", color="k", label=f"operating point: threshold {threshold:g}, FPR {point[0]:.3f}, "
                                              f"TPR {point[1]:.3f}")
    ax.set(xlabel="false positive rate", ylabel="true positive rate",
           title=f"ROC curve, positive class {_label(positive)}")
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


def plot_pairs_2d(truth, model, names, pairs=None, bins=30, model_label="model", reference_label="truth", units=None):
    """2-D histograms of parameter pairs, a reference (top row; the truth, a fit, or None) above the model.

    The physics-aware flows paper's Fig. 1 with ``pairs=[(2, 1), (2, 0)]``
    (Ce against Re and Rs): y is the first index of each pair, x the second.
    Each pair's bins span the reference's (else the model's) 0.5-99.5
    percentile range, widened by 10 %; axes carry ``units``.
    """
    model = np.asarray(model)
    rows = [(model, model_label)] if truth is None else [(np.asarray(truth), reference_label), (model, model_label)]
    span = rows[0][0]
    pairs = pairs or [(i, j) for i in range(model.shape[1]) for j in range(i + 1, model.shape[1])]
    fig, axes = plt.subplots(len(rows), len(pairs), figsize=(4 * len(pairs), 3.5 * len(rows)), squeeze=False)
    for col, (iy, ix) in enumerate(pairs):
        edges = []
        for i in (ix, iy):
            lo, hi = np.percentile(span[:, i], [0.5, 99.5])
            pad = 0.1 * (hi - lo)
            edges.append(np.linspace(lo - pad, hi + pad, bins + 1))
        for row, (data, label) in enumerate(rows):
            ax = axes[row, col]
            ax.hist2d(data[:, ix], data[:, iy], bins=edges, cmap="viridis")
            ax.set(xlabel=_axis_label(names[ix], units[ix] if units else None),
                   ylabel=_axis_label(names[iy], units[iy] if units else None), title=f"{label}: {names[iy]} vs {names[ix]}")
            ax.ticklabel_format(axis="both", style="sci", scilimits=SCI_LIMITS)
    fig.tight_layout()
    return fig


def plot_marginals(truth, model, names, bins=50, model_label="model", units=None, reference_label="truth"):
    """Histograms of each parameter: a reference (the truth, a fit, or None) against a model.

    ``model`` is an (N, P) array, or a dict {label: (N, P) array} to compare
    several models on the same axes (``model_label`` is then unused).
    ``truth`` may be None (a user's measured data have no truth): then the
    bins span the (first) model's own range. Axes carry ``units`` (one per
    name) and are logarithmic where a parameter spans more than a decade. At
    most five panels per row.
    """
    models = {k: np.asarray(v) for k, v in model.items()} if isinstance(model, dict) else {
        model_label: np.asarray(model)}
    reference = None if truth is None else np.asarray(truth)
    span = next(iter(models.values())) if reference is None else reference
    fig, axes = _panel_grid(span.shape[1])
    for i, ax in enumerate(axes):
        lo, hi = np.percentile(span[:, i], [0.5, 99.5])
        log = lo > 0 and hi / lo > 10
        if log:
            edges = np.geomspace(lo / (hi / lo) ** 0.3, hi * (hi / lo) ** 0.3, bins + 1)
        else:
            edges = np.linspace(lo - 0.3 * (hi - lo), hi + 0.3 * (hi - lo), bins + 1)
        if reference is not None:
            ax.hist(reference[:, i], edges, density=True, histtype="stepfilled", alpha=0.4, label=reference_label)
        for label, values in models.items():
            ax.hist(values[:, i], edges, density=True, histtype="step", lw=1.5, label=label)
        ax.set(xlabel=_axis_label(names[i], units[i] if units else None), ylabel="density",
               xscale="log" if log else "linear")
        if not log:
            ax.ticklabel_format(axis="x", style="sci", scilimits=SCI_LIMITS)
        if i == 0 or len(models) == 1:  # several models: one legend, on the first panel
            ax.legend(fontsize="small" if len(models) == 1 else "x-small")
    fig.tight_layout()
    return fig


def plot_spectra_bands(frequencies, measured, generated=None, labels=("measured", "generated")):
    """Nyquist and Bode plots of spectra sets: each set's median and its 5-95 % band per frequency.

    ``measured`` and ``generated`` are complex (N, K) in ohms at ``frequencies`` (Hz).
    """
    f = np.asarray(frequencies)
    fig, (nyquist, magnitude, phase) = plt.subplots(1, 3, figsize=(15, 4.2))
    for z, label, color in ((measured, labels[0], "C0"), (generated, labels[1], "C1")):
        if z is None:
            continue
        z = np.asarray(z)
        real, minus_imag = (np.percentile(part, [5, 50, 95], axis=0) for part in (z.real, -z.imag))
        nyquist.plot(real[1], minus_imag[1], color=color, label=f"{label} median")
        nyquist.plot(real[0], minus_imag[0], ":", color=color, label=f"{label} 5 % and 95 %")
        nyquist.plot(real[2], minus_imag[2], ":", color=color)
        mag = np.percentile(np.abs(z), [5, 50, 95], axis=0)
        ph = np.percentile(np.degrees(np.angle(z)), [5, 50, 95], axis=0)
        for ax, (q05, q50, q95) in ((magnitude, mag), (phase, ph)):
            ax.plot(f, q50, color=color, label=f"{label} median")
            ax.fill_between(f, q05, q95, color=color, alpha=0.25, label=f"{label} 5-95 %")
    nyquist.set(xlabel="Z' [ohm]", ylabel="-Z'' [ohm]", title="Nyquist")
    nyquist.set_aspect("equal", adjustable="datalim")
    magnitude.set(xlabel="frequency [Hz]", ylabel="|Z| [ohm]", xscale="log", yscale="log", title="Bode: magnitude")
    phase.set(xlabel="frequency [Hz]", ylabel="phase [deg]", xscale="log", title="Bode: phase")
    for ax in (nyquist, magnitude, phase):
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_fits(frequencies, measured, fitted, names):
    """Nyquist and Bode overlays: measured spectra (points) and their fits (lines), one colour each."""
    f = np.asarray(frequencies)
    fig, (nyquist, magnitude, phase) = plt.subplots(1, 3, figsize=(15, 4.2))
    for k, (z, zf, name) in enumerate(zip(np.asarray(measured), np.asarray(fitted), names)):
        color = f"C{k}"
        nyquist.plot(z.real, -z.imag, "o", ms=3, color=color, label=f"{name} measured")
        nyquist.plot(zf.real, -zf.imag, "-", color=color, label=f"{name} fit")
        magnitude.plot(f, np.abs(z), "o", ms=3, color=color)
        magnitude.plot(f, np.abs(zf), "-", color=color)
        phase.plot(f, np.degrees(np.angle(z)), "o", ms=3, color=color)
        phase.plot(f, np.degrees(np.angle(zf)), "-", color=color)
    nyquist.set(xlabel="Z' [ohm]", ylabel="-Z'' [ohm]", title="Nyquist")
    nyquist.set_aspect("equal", adjustable="datalim")
    nyquist.legend(fontsize="small")
    magnitude.set(xlabel="frequency [Hz]", ylabel="|Z| [ohm]", xscale="log", yscale="log", title="Bode: magnitude")
    phase.set(xlabel="frequency [Hz]", ylabel="phase [deg]", xscale="log", title="Bode: phase")
    fig.tight_layout()
    return fig


def plot_rank_histograms(ranks, num_draws, names, bins=20):
    """Simulation-based calibration: per parameter, the histogram of the truth's rank among
    ``num_draws`` posterior draws (ranks (N, P) in 0..num_draws). A calibrated posterior gives flat
    histograms; the band is the 99 % range of a bin's count under uniform ranks (Talts et al. 2018).
    Each bin holds equally many rank values (``bins`` is lowered to a divisor of num_draws + 1):
    take num_draws = 99 for 20 bins."""
    ranks = np.asarray(ranks)
    bins = max(b for b in range(1, bins + 1) if (num_draws + 1) % b == 0)
    fig, axes = _panel_grid(ranks.shape[1])
    expected = len(ranks) / bins
    band = 2.576 * np.sqrt(expected * (1 - 1 / bins))
    for i, ax in enumerate(axes):
        ax.axhspan(max(expected - band, 0), expected + band, color="grey", alpha=0.25, label="99 % band (uniform)")
        ax.hist(ranks[:, i], np.linspace(-0.5, num_draws + 0.5, bins + 1), histtype="step", lw=1.5, label="ranks")
        ax.set(xlabel=f"rank of the true {names[i]} among {num_draws} draws", ylabel="spectra",
               ylim=(0, 1.6 * (expected + band)))
    axes[0].legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def plot_recovery(truth, quantiles, names, units=None, max_points=300):
    """Posterior median (dots) and 5-95 % interval (bars) against the true value, per parameter.

    ``quantiles`` is (3, N, P): 5 %, 50 %, 95 %. Log axes where a parameter spans more than a decade.
    """
    truth, q = np.asarray(truth)[:max_points], np.asarray(quantiles)[:, :max_points]
    fig, axes = _panel_grid(truth.shape[1])
    for i, ax in enumerate(axes):
        ax.errorbar(truth[:, i], q[1, :, i], yerr=[q[1, :, i] - q[0, :, i], q[2, :, i] - q[1, :, i]], fmt=".",
                    ms=3, lw=0.5, alpha=0.6, label="posterior median, 5-95 %")
        lo, hi = truth[:, i].min(), truth[:, i].max()
        ax.plot([lo, hi], [lo, hi], "k:", lw=1, label="truth")
        log = lo > 0 and hi / lo > 10
        label = _axis_label(names[i], units[i] if units else None)
        ax.set(xlabel=f"true {label}", ylabel="posterior", xscale="log" if log else "linear",
               yscale="log" if log else "linear")
        if log:  # a decade and a half: no crowded minor-tick labels
            ax.xaxis.set_minor_formatter(plt.NullFormatter())
            ax.yaxis.set_minor_formatter(plt.NullFormatter())
        else:
            ax.ticklabel_format(axis="both", style="sci", scilimits=SCI_LIMITS)
    axes[0].legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def _panel_grid(count, columns=5):
    """A figure of ``count`` panels, at most ``columns`` per row; returns (fig, the used axes)."""
    columns = min(columns, count)
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.5 * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _axis_label(name, unit):
    return name if not unit or unit == "1" else f"{name} [{unit.replace('Ohm', 'ohm')}]"


def _figure(ax):
    if ax is None:
        return plt.subplots(figsize=(6, 4))
    return ax.figure, ax


def _label(value):
    """A class label as people write it: 1, 'right' (not np.int64(1), np.str_('right'))."""
    value = value.item() if hasattr(value, "item") else value
    return repr(value) if isinstance(value, str) else str(value)
