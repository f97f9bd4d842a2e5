"""Flow speed, side by side in one run: ours, TFP's built-ins, zuko and nflows.

For every workload of ``workloads.py`` (W1-W5) and every task
(train step, sampling, log_prob), times our flows and TFP's built-ins in
this process, under tf.function and under XLA, and, when PyTorch is
installed (``pip install -e ".[bench]"``), zuko and nflows in a subprocess
started right after, on the same architectures. A train step is log_prob,
mean negative log-likelihood, gradients and one Adam update.

Prints per cell the median samples/s with its range over rounds (the
rounds of one task's TensorFlow cells taken in turn, so that the machine's
drift moves them alike), the first
call (trace and compile included), peak resident memory, and for train
steps the fraction of the CPU's float32 peak reached; then per task the
ratio of our best finite mode to the best peer against its target; then the
scaling study of ``scaling.py``. Writes all of it to JSON.

    python bench/flows.py                     # everything, about 20 minutes
    python bench/flows.py --quick             # a few calls each, to check it runs
    python bench/flows.py --workloads W2 --json maf.json
"""

import argparse
import gc
import importlib.util
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import scaling  # noqa: E402
import tf_flows  # noqa: E402
from machine import cpu_peak, measure_interleaved, write_json  # noqa: E402
from workloads import TASK_LABELS, WORKLOADS, task_flops, task_size  # noqa: E402

HERE = Path(__file__).resolve().parent
TRAIN_TARGET = 1.5  # ours / best other library on train steps: the project's target ...
TRAIN_CEILING = 0.9  # ... or this fraction of the dense-only ceiling, whichever is lower
TARGETS = {("W5", "log_prob"): 1.1, ("W3", "sample"): 1.1}  # other tasks: 1x the best other
FIRST_CALL_LIMIT_S = 5.0  # the first train step (trace and compile) must take less


def tf_cells(name, spec, calls, repeats):
    """Ours, TFP and the ceiling in this process, both modes, every task of the workload.

    The cells of one task are timed round by round in turn (``measure_interleaved``).
    """
    for task in spec["tasks"]:
        libraries = (*tf_flows.LIBRARIES, tf_flows.BOUND) if task == "train" else tf_flows.LIBRARIES
        keras.backend.clear_session()
        gc.collect()
        labels, pairs = [], []
        for library in libraries:
            for mode, jit in tf_flows.MODES.items():
                model = tf_flows.build(library, spec)
                labels.append(dict(workload=name, task=task, library=library, mode=mode))
                pairs.append(tf_flows.task_call(library, model, spec, task, jit))
        n = calls if task == "train" else max(1, calls // 4)
        print(f"  ({name} {TASK_LABELS[task]}: {len(pairs)} cells, first calls, then {repeats} rounds of each in turn)",
              file=sys.stderr, flush=True)
        for label, result in zip(labels, measure_interleaved(pairs, task_size(spec, task), n, repeats)):
            yield dict(**label, **result)


def torch_cells(name, calls, repeats):
    """zuko and nflows in a subprocess, if PyTorch is importable here."""
    if importlib.util.find_spec("torch") is None:
        return []
    out = subprocess.run([sys.executable, str(HERE / "torch_flows.py"), name, "--calls", str(calls),
                          "--repeats", str(repeats)], capture_output=True, text=True, check=False)
    if out.returncode:
        print(f"  PyTorch peers failed on {name}:\n{out.stderr[-2000:]}", file=sys.stderr)
        return []
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def matmul_gflops(n=2048, k=512, repeats=20):
    """The float32 rate this TensorFlow's matmul reaches here on a large product
    (n x k times k x k, chained in one graph): a measured ceiling, beside the nominal one."""
    a = tf.random.normal([n, k])
    b = tf.random.normal([k, k]) / k ** 0.5

    @tf.function
    def chain(a):
        for _ in range(repeats):
            a = tf.matmul(a, b)
        return a

    chain(a).numpy()
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        chain(a).numpy()
        rates.append(2 * n * k * k * repeats / (time.perf_counter() - start) / 1e9)
    return max(rates)


def annotate(cell, peak_gflops, measured_gflops):
    """Adds finiteness, GFLOP/s and the fractions of the nominal and measured peaks to a cell."""
    cell["finite"] = math.isfinite(cell["value"])
    cell["gflops"] = cell["median"] * task_flops(WORKLOADS[cell["workload"]], cell["task"]) / 1e9
    cell["fraction_of_peak"] = cell["gflops"] / peak_gflops
    cell["fraction_of_matmul"] = cell["gflops"] / measured_gflops
    return cell


def target_rate(task, peer_rate, bound_rate, target):
    """The samples/s our best mode must reach, and how it was set.

    Train steps: ``target`` x the best other library, or TRAIN_CEILING of the
    dense-only ceiling where that is lower (no flow can beat the matmuls it
    runs). Other tasks: ``target`` x the best other library."""
    wanted = target * peer_rate
    if task == "train" and bound_rate and TRAIN_CEILING * bound_rate < wanted:
        return TRAIN_CEILING * bound_rate, f"{TRAIN_CEILING:g} of the dense-only ceiling"
    return wanted, f"{target:g}x the best other"


def summarise(cells):
    """Per (workload, task): our best finite mode over the best other library's, its target, and the ceiling."""
    ratios = []
    keys = dict.fromkeys((c["workload"], c["task"]) for c in cells)
    for workload, task in keys:
        best = {}
        for c in cells:
            if (c["workload"], c["task"]) == (workload, task) and c["finite"]:
                if c["median"] > best.get(c["library"], {}).get("median", 0):
                    best[c["library"]] = c
        bound = best.pop(tf_flows.BOUND, None)
        peers = {k: v for k, v in best.items() if k != "ours"}
        if "ours" not in best or not peers:
            continue
        top = max(peers.values(), key=lambda c: c["median"])
        ours = best["ours"]
        target = TARGETS.get((workload, task), TRAIN_TARGET if task == "train" else 1.0)
        wanted, rule = target_rate(task, top["median"], bound and bound["median"], target)
        first_ok = task != "train" or ours["first_s"] < FIRST_CALL_LIMIT_S
        ratios.append(dict(workload=workload, task=task, ours_mode=ours["mode"],
                           best_peer=f"{top['library']} ({top['mode']})", ratio=ours["median"] / top["median"],
                           target=target, target_rate=wanted, target_rule=rule,
                           met=ours["median"] >= wanted and first_ok, ours_first_s=ours["first_s"],
                           first_ok=first_ok, ours_of_bound=bound and ours["median"] / bound["median"],
                           peer_of_bound=bound and top["median"] / bound["median"]))
    return ratios


def print_cell(c):
    print(f"{c['workload']:3} {TASK_LABELS[c['task']]:14} {c['library']:10} {c['mode']:12} "
          f"{c['median']:11,.0f} [{c['min']:,.0f}-{c['max']:,.0f}] {c['first_s']:6.2f}s "
          f"{c['peak_rss_mb']:6.0f} +{c['peak_rss_mb'] - c['rss_before_mb']:4.0f} MB "
          f"{100 * c['fraction_of_peak']:5.1f}% {100 * c['fraction_of_matmul']:5.1f}%"
          + ("" if c["finite"] else "  non-finite result"), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--quick", action="store_true", help="2 calls x 1 round per cell")
    parser.add_argument("--json", default="bench_flows.json", help="where to write the results")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling study (bench/scaling.py)")
    args = parser.parse_args()
    calls, repeats = (2, 1) if args.quick else (20, 5)
    peak = cpu_peak()
    peak["matmul_gflops"] = matmul_gflops()
    print(f"CPU: {peak['model']}, {peak['cores']} cores x {peak['flop_per_cycle']} FLOP/cycle x "
          f"{peak['mhz']:.0f} MHz = {peak['gflops']:.0f} GFLOP/s float32 peak (nominal; a boost clock "
          f"exceeds it); a large matmul reached {peak['matmul_gflops']:.0f} GFLOP/s here")
    print(f"{'':3} {'task':14} {'library':10} {'mode':12} {'samples/s':>11} [range]  first  "
          "peak RSS (+during)  %peak %matmul")
    cells = []
    for name in args.workloads:
        for cell in itertools.chain(tf_cells(name, WORKLOADS[name], calls, repeats), torch_cells(name, calls, repeats)):
            cells.append(annotate(cell, peak["gflops"], peak["matmul_gflops"]))
            print_cell(cell)
    ratios = summarise(cells)
    print(f"\nours / best peer (best finite mode of each). Target: train steps {TRAIN_TARGET:g}x the best other "
          f"or {TRAIN_CEILING:g} of the dense-only ceiling, whichever is lower, first call under "
          f"{FIRST_CALL_LIMIT_S:g} s; W5 log_prob and W3 sampling 1.1x; other tasks 1x")
    for r in ratios:
        print(f"{r['workload']:3} {TASK_LABELS[r['task']]:14} ours {r['ours_mode']:12} vs {r['best_peer']:22} "
              f"{r['ratio']:5.2f}x; target {r['target_rate']:,.0f}/s ({r['target_rule']}) "
              f"{'met' if r['met'] else 'NOT met'}; our first call {r['ours_first_s']:.1f}s"
              + ("" if r["first_ok"] else " (over the limit)")
              + (f"; of the dense-only ceiling: ours {r['ours_of_bound']:.2f}, peer {r['peer_of_bound']:.2f}"
                 if r["ours_of_bound"] else ""))
    if not args.no_scaling:
        print("\nscaling study (bench/scaling.py), each group in a subprocess:", flush=True)
        scaling_cells, fits = scaling.study(budget_s=0.2 if args.quick else 0.5, quick=args.quick,
                                            progress=lambda line: print(line, flush=True))
        scaling.print_table(scaling_cells, fits)
    versions = dict(python=platform.python_version(), tensorflow=tf.__version__,
                    tensorflow_probability=tf_flows.tfp.__version__)
    report = dict(machine=peak, versions=versions, calls=calls, repeats=repeats, cells=cells, ratios=ratios)
    if not args.no_scaling:
        report["scaling"] = dict(cells=scaling_cells, fits=fits)
    write_json(args.json, report)


if __name__ == "__main__":
    main()
