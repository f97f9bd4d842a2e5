"""The benchmark's workloads W1-W5 and their FLOP counts.

Plain Python, no TensorFlow or PyTorch: both sides of the benchmark read the
same definitions.

FLOPs are those of the conditioners' dense layers (2 * fan_in * fan_out per
sample and layer, masked MADE weights counted as dense, since every library
multiplies them); a train step counts 3x the forward pass (forward, and the
gradients with respect to activations and to weights). Elementwise work
(transformers, activations, Adam) is left out, so the fractions of peak
are lower bounds.
"""

# kind: our make_flow kind. d: event dim. c: condition dim. hidden: the
# conditioner's hidden widths. batch: train / log_prob batch. tasks: what is timed.
WORKLOADS = {
    "W1": dict(kind="realnvp", d=4, c=None, layers=8, hidden=(100,) * 4, batch=1000, tasks=("train",)),
    "W2": dict(kind="maf", d=4, c=None, layers=8, hidden=(200,) * 2, batch=1000, tasks=("train", "sample")),
    "W3": dict(kind="cinn", d=9, c=9, layers=20, hidden=(128,) * 2, batch=512, tasks=("train", "sample")),
    "W4": dict(kind="nsf", d=3, c=None, layers=4, hidden=(64,) * 2, bins=8, bound=4.0, batch=1024,
               tasks=("train", "sample")),
    "W5": dict(kind="realnvp", d=4, c=None, layers=8, hidden=(100,) * 4, batch=10_000, points=100_000,
               tasks=("log_prob",)),
}
SAMPLES = 10_000  # the sampling tasks draw this many (one per condition for W3)

# What each task's figure counts: samples per second.
TASK_LABELS = {"train": "train step", "sample": f"sample {SAMPLES:,}", "log_prob": "log_prob"}


def params_per_dim(spec):
    """Conditioner outputs per transformed dimension: 2 (affine) or 3K - 1 (spline)."""
    return 3 * spec["bins"] - 1 if spec["kind"] == "nsf" else 2


def conditioner_widths(spec):
    """Layer widths (input, hidden..., output) of one block's conditioner."""
    d, c, hidden = spec["d"], spec["c"] or 0, tuple(spec["hidden"])
    if spec["kind"] == "maf":
        return (d + c, *hidden, d * params_per_dim(spec))
    kept = d // 2
    return (kept + c, *hidden, (d - kept) * params_per_dim(spec))


def forward_flops(spec):
    """Dense FLOPs of one pass through all conditioners, per sample."""
    widths = conditioner_widths(spec)
    per_block = sum(2 * a * b for a, b in zip(widths[:-1], widths[1:]))
    return spec["layers"] * per_block


def task_flops(spec, task):
    """Dense FLOPs per sample of a task (see the module docstring)."""
    if task == "train":
        return 3 * forward_flops(spec)
    if task == "sample" and spec["kind"] == "maf":
        return spec["d"] * forward_flops(spec)  # d sequential MADE passes per layer
    return forward_flops(spec)


def task_size(spec, task):
    """Samples per timed call of a task."""
    return {"train": spec["batch"], "sample": SAMPLES, "log_prob": spec.get("points", spec["batch"])}[task]
