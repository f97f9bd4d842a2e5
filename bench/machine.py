"""What the benchmark needs from the machine: the CPU's float32 peak, timing, peak memory.

Plain Python, shared by the TensorFlow process and the PyTorch subprocess.
"""

import json
import os
import statistics
import threading
import time
from pathlib import Path


def cpu_peak(cpuinfo="/proc/cpuinfo"):
    """Nominal float32 peak from /proc/cpuinfo: cores x FMA lanes x 2 FMA units x 2 x clock.

    Lanes: 16 with avx512f, 8 with avx2/fma, else 4. Two FMA units per core
    is the common server core (Zen 2-5, Skylake-SP Gold); a core that
    splits 512-bit FMAs into two halves (Zen 4) reaches half of this. The
    clock is the "cpu MHz" line (the current one, not the boost clock).
    Returns a dict with the figures and their product in GFLOP/s.
    """
    with open(cpuinfo) as f:
        text = f.read()
    blocks = [b for b in text.split("\n\n") if b.strip()]
    first = dict(line.split(":", 1) for line in blocks[0].splitlines() if ":" in line)
    first = {k.strip(): v.strip() for k, v in first.items()}
    flags = set(first.get("flags", "").split())
    lanes = 16 if "avx512f" in flags else 8 if {"avx2", "fma"} & flags else 4
    mhz = float(first.get("cpu MHz", "0"))
    cores = len(blocks)
    per_cycle = lanes * 2 * 2
    return dict(model=first.get("model name", "?"), cores=cores, mhz=mhz, flop_per_cycle=per_cycle,
                gflops=cores * per_cycle * mhz / 1e3)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Samples this process's resident memory every ``interval`` s while in the block.

    >>> with PeakMemory() as mem: work()
    >>> mem.peak, mem.start   # bytes
    """

    def __init__(self, interval=0.002):
        self.interval, self.peak, self.start = interval, 0, 0
        self._stop = threading.Event()

    def __enter__(self):
        self.start = self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def measure(call, sync, size, calls, repeats):
    """Times ``call()``: the first call alone, then ``repeats`` rounds of ``calls`` calls.

    ``sync(result)`` waits for the result (e.g. ``float(loss)``); ``size`` is
    the samples per call. Returns first-call seconds, samples/s per round
    (median, min, max), the last result synced, and the peak resident memory
    during the first call (trace, compile and first run).
    """
    return measure_interleaved([(call, sync)], size, calls, repeats)[0]


def measure_interleaved(pairs, size, calls, repeats):
    """``measure`` for several ``(call, sync)`` pairs doing the same task, one result per pair.

    Each pair's first call runs alone; then every round times each pair in
    turn. Why: this VM's speed drifts by up to a third over minutes (a
    dense-only ceiling read 57k and 77k samples/s within the hour), and
    pairs timed one after the other would carry that drift into their ratio.
    """
    results = []
    for call, sync in pairs:
        with PeakMemory() as mem:
            start = time.perf_counter()
            value = sync(call())
            first = time.perf_counter() - start
        results.append(dict(first_s=first, rates=[], value=value, peak_rss_mb=mem.peak / 2**20,
                            rss_before_mb=mem.start / 2**20))
    for _ in range(repeats):
        for (call, sync), result in zip(pairs, results):
            start = time.perf_counter()
            for _ in range(calls):
                out = call()
            result["value"] = sync(out)
            result["rates"].append(calls * size / (time.perf_counter() - start))
    for result in results:
        rates = result.pop("rates")
        result.update(median=statistics.median(rates), min=min(rates), max=max(rates))
    return results


def write_json(path, report):
    """Writes ``report`` to ``path`` whole or not at all."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=1))
    os.replace(partial, path)
    print(f"\nwrote {path}")
