"""How a train step grows: time per sample and peak memory of a RealNVP and a
spline flow, ours beside TFP's built-ins, as the dimension, the depth and the
batch grow, with the exponent of the fitted power law.

From one base configuration (d = 8, 8 coupling layers, batch 1,024, hidden
(64, 64), 8 spline bins) one quantity changes at a time:

    dimension   d = 2, 8, 32, 128
    depth       2, 8, 32 layers
    batch       256, 1,024, 4,096, 16,384

Both flows and both libraries run under tf.function. XLA is left out: its
compile would dominate the study (the spline's train step, ours: 6 s at 4
layers, 9 s at 8, 15 s at 16, 36 s at 32 on a 2-core machine).
A train step is the benchmark's (log_prob, mean NLL, gradients, one Adam
update). Time per sample is the median of 3 rounds of at least 0.5 s (and
2 steps); peak memory is
the process's resident memory during the timed steps (model, optimizer,
compiled step and activations) above its level after import. One subprocess
per (flow, library, axis) runs its configurations in ascending size, so a
memory figure is the larger of its own peak and its predecessors'.

The exponent b of time ~ a x^b is fitted by least squares in log-log. Per
sample, b = 0 along the batch means cost linear in the batch (b < 0:
overhead amortised); along the dimension and the depth, b <= 1 means the
step grows at most linearly. A larger b is flagged "super-linear".

    python bench/scaling.py                   # about 11 minutes
    python bench/scaling.py --quick           # the two smallest values per axis, short rounds
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from machine import write_json

HERE = Path(__file__).resolve().parent
BASE = dict(d=8, layers=8, batch=1024)
AXES = {"dimension": ("d", (2, 8, 32, 128)), "depth": ("layers", (2, 8, 32)),
        "batch": ("batch", (256, 1024, 4096, 16384))}
# Both flows under tf.function: XLA's compile of a deep spline step would dominate the study.
MODE = "tf.function"
KIND_LABELS = {"realnvp": "RealNVP", "nsf": "spline"}
LIBRARIES = ("ours", "tfp")


def spec_for(kind, **changes):
    """A workload spec (as in workloads.py) for one scaling configuration."""
    spec = dict(kind=kind, c=None, hidden=(64, 64), bins=8, bound=4.0, tasks=("train",), **BASE)
    spec.update(changes)
    return spec


def run_group(kind, library, axis, values, budget_s):
    """In this process: time each configuration of one axis; prints a JSON line per cell."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import gc

    import keras
    import tf_flows
    from machine import PeakMemory, rss_bytes

    gc.collect()
    baseline = rss_bytes()
    key = AXES[axis][0]
    for value in values:
        keras.backend.clear_session()
        spec = spec_for(kind, **{key: value})
        model = tf_flows.build(library, spec)
        call, sync = tf_flows.task_call(library, model, spec, "train", MODE == "XLA")
        start = time.perf_counter()
        sync(call())
        first = time.perf_counter() - start
        per_sample = []
        with PeakMemory() as mem:
            for _ in range(3):
                calls, start = 0, time.perf_counter()
                while calls < 2 or time.perf_counter() - start < budget_s:
                    result = call()
                    calls += 1
                sync(result)
                per_sample.append((time.perf_counter() - start) / (calls * spec["batch"]))
        per_sample.sort()
        print(json.dumps(dict(kind=kind, library=library, axis=axis, value=value, first_s=first,
                              us_per_sample=1e6 * per_sample[1], peak_mb=(mem.peak - baseline) / 2**20)),
              flush=True)
        del model, call, result
        gc.collect()


def power_law_exponent(xs, ys):
    """b of y = a x^b, least squares in log-log."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    sxx = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sxx if sxx else float("nan")


def super_linear(axis, exponent, margin=0.15):
    """Time per sample growing faster than linear cost would make it (with a margin for noise)."""
    return exponent > (0.0 if axis == "batch" else 1.0) + margin


def study(axes=AXES, budget_s=0.5, quick=False, progress=print):
    """Runs every (flow, library, axis) group in a subprocess; returns the cells and the fits."""
    cells = []
    for kind in KIND_LABELS:
        for library in LIBRARIES:
            for axis, (_, values) in axes.items():
                values = values[:2] if quick else values
                progress(f"  scaling: {KIND_LABELS[kind]} {library} along the {axis} {list(values)} ...")
                out = subprocess.run(
                    [sys.executable, str(HERE / "scaling.py"), "--group", kind, library, axis,
                     "--values", *map(str, values), "--budget", str(budget_s)],
                    capture_output=True, text=True, check=False, cwd=HERE)
                if out.returncode:
                    progress(f"  scaling group failed:\n{out.stderr[-2000:]}")
                    continue
                cells += [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    fits = []
    for kind in KIND_LABELS:
        for library in LIBRARIES:
            for axis in axes:
                group = [c for c in cells if (c["kind"], c["library"], c["axis"]) == (kind, library, axis)]
                if len(group) < 2:
                    continue
                xs = [c["value"] for c in group]
                time_b = power_law_exponent(xs, [c["us_per_sample"] for c in group])
                memory = [max(c["peak_mb"], 1.0) for c in group]
                fits.append(dict(kind=kind, library=library, axis=axis, time_exponent=time_b,
                                 memory_exponent=power_law_exponent(xs, memory),
                                 super_linear=super_linear(axis, time_b)))
    return cells, fits


def print_table(cells, fits):
    """Per flow and axis: µs per sample and peak MB of ours and TFP per value, then the exponents."""
    print("\nscaling of a train step: microseconds per sample (peak MB above import), ours | TFP")
    for kind in KIND_LABELS:
        for axis, (key, _) in AXES.items():
            rows = sorted({c["value"] for c in cells if (c["kind"], c["axis"]) == (kind, axis)})
            if not rows:
                continue
            print(f"{KIND_LABELS[kind]} ({MODE}), {axis} ({key}):")
            for value in rows:
                parts = []
                for library in LIBRARIES:
                    c = next((c for c in cells if (c["kind"], c["axis"], c["library"], c["value"])
                              == (kind, axis, library, value)), None)
                    parts.append(f"{c['us_per_sample']:8.2f} us ({c['peak_mb']:6.0f} MB)" if c else f"{'-':>20}")
                print(f"  {key}={value:<6} ours {parts[0]} | tfp {parts[1]}")
            for f in fits:
                if (f["kind"], f["axis"]) == (kind, axis):
                    print(f"  exponent {f['library']:4}: time per sample ~ {key}^{f['time_exponent']:.2f}, "
                          f"peak memory ~ {key}^{f['memory_exponent']:.2f}"
                          + ("  SUPER-LINEAR" if f["super_linear"] else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two values per axis, short rounds")
    parser.add_argument("--json", default="bench_scaling.json", help="where to write the results")
    parser.add_argument("--group", nargs=3, metavar=("KIND", "LIBRARY", "AXIS"), help=argparse.SUPPRESS)
    parser.add_argument("--values", nargs="*", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.group:
        run_group(*args.group, args.values, args.budget)
        return
    cells, fits = study(budget_s=0.2 if args.quick else 0.5, quick=args.quick)
    print_table(cells, fits)
    write_json(args.json, dict(cells=cells, fits=fits))


if __name__ == "__main__":
    main()
