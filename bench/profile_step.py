"""Where a workload's time goes: TensorFlow's profiler on ours, TFP and the dense-only ceiling.

For one workload and task, runs each library's call in one mode under
``tf.profiler`` and splits the kernel time per call into the dense work
(matmuls: MatMul, dot and YNNPACK fusions under XLA; MatMul and
_FusedMatMul without it) and everything else (element-wise fusions,
reductions, copies, the optimizer). Dividing the dense FLOPs of
``workloads.py`` by the dense kernel time gives the rate the matmuls ran at;
the rest of a step is what a library adds around them. The libraries are
profiled in turn, round by round, as ``flows.py`` times them.

    python bench/profile_step.py W5 log_prob --mode XLA --rounds 5
    python bench/profile_step.py W4 train --mode XLA --top 12
"""

import argparse
import collections
import glob
import os
import re
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

import tf_flows  # noqa: E402
from workloads import WORKLOADS, task_flops, task_size  # noqa: E402

DENSE = re.compile(r"matmul|^dot|ynn|gemm", re.IGNORECASE)
# Host events that wrap kernels rather than being kernels.
WRAPPERS = ("Eager", "TFE", "__inference", "BlockUntil", "Thread", "end:", "Cpu", "Executor", "Iterator",
            "FunctionRun", "Execute", "RecvTensor", "SendTensor")


def kernel_times(logdir):
    """{kernel name: total picoseconds} from the profile written to ``logdir``."""
    path = glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    plane = next(p for p in space.planes if p.name == "/host:CPU")
    names = {k: v.name for k, v in plane.event_metadata.items()}
    totals = collections.Counter()
    for line in plane.lines:
        if line.name == "python":
            continue
        for event in line.events:
            name = names.get(event.metadata_id, "?")
            if "::" in name or name.startswith(WRAPPERS):
                continue
            totals[name] += event.duration_ps
    return totals


def prepare(library, spec, task, jit):
    """A built and warmed-up ``(call, sync)`` pair for one library's task."""
    model = tf_flows.build(library, spec)
    call, sync = tf_flows.task_call(library, model, spec, task, jit)
    for _ in range(5):
        result = call()
    sync(result)
    return call, sync


def profile(pairs, calls, rounds=1):
    """Profiles each ``(call, sync)`` pair for ``calls`` calls per round, the
    pairs in turn round by round (this VM's speed drifts; see
    ``machine.measure_interleaved``). Per pair: kernel time per call (dense
    and other, microseconds), wall time per call, and the kernels summed."""
    results = [dict(kernels=collections.Counter(), wall_s=0.0) for _ in pairs]
    for _ in range(rounds):
        for (call, sync), result in zip(pairs, results):
            with tempfile.TemporaryDirectory() as logdir:
                tf.profiler.experimental.start(logdir)
                start = time.perf_counter()
                for _ in range(calls):
                    out = call()
                sync(out)
                result["wall_s"] += time.perf_counter() - start
                tf.profiler.experimental.stop()
                result["kernels"].update(kernel_times(logdir))
    for result in results:
        n, totals = calls * rounds, result["kernels"]
        result.update(calls=n, wall_us=result.pop("wall_s") * 1e6 / n,
                      dense_us=sum(t for k, t in totals.items() if DENSE.search(k)) / 1e6 / n,
                      other_us=sum(t for k, t in totals.items() if not DENSE.search(k)) / 1e6 / n)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=list(WORKLOADS))
    parser.add_argument("task", choices=["train", "sample", "log_prob"])
    parser.add_argument("--mode", choices=list(tf_flows.MODES), default="XLA")
    parser.add_argument("--calls", type=int, default=10, help="calls per library and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--top", type=int, default=6, help="the rest's largest kernels to list per library")
    args = parser.parse_args()
    spec = WORKLOADS[args.workload]
    if args.task not in spec["tasks"]:
        sys.exit(f"{args.workload} has no {args.task} task (it has {', '.join(spec['tasks'])})")
    libraries = (*tf_flows.LIBRARIES, tf_flows.BOUND) if args.task == "train" else tf_flows.LIBRARIES
    flops = task_flops(spec, args.task) * task_size(spec, args.task)
    print(f"{args.workload} {args.task} under {args.mode}, {args.rounds} rounds of {args.calls} calls, the "
          "libraries in turn: kernel time per call (dense matmuls | the rest), the matmuls' rate, wall time; "
          "then the rest's largest kernels")
    keras.backend.clear_session()
    pairs = [prepare(library, spec, args.task, tf_flows.MODES[args.mode]) for library in libraries]
    for library, p in zip(libraries, profile(pairs, args.calls, args.rounds)):
        rate = flops / p["dense_us"] / 1e3 if p["dense_us"] else float("nan")
        print(f"  {library:10} dense {p['dense_us']:8.0f} us | rest {p['other_us']:8.0f} us "
              f"({100 * p['other_us'] / (p['dense_us'] + p['other_us']):4.1f}% of kernel time); "
              f"matmuls at {rate:5.1f} GFLOP/s; wall {p['wall_us']:8.0f} us", flush=True)
        rest = collections.Counter({n: t for n, t in p["kernels"].items() if not DENSE.search(n)})
        for name, t in rest.most_common(args.top):
            print(f"      {t / 1e6 / p['calls']:8.1f} us  {'/'.join(name.split('/')[-2:])[:100]}")


if __name__ == "__main__":
    main()
