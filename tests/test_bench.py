"""The benchmark's own arithmetic: FLOP counts, the CPU peak, memory, timing, ratios."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
import flows as bench_flows  # noqa: E402
import machine  # noqa: E402
import profile_step  # noqa: E402
import scaling  # noqa: E402
import tf_flows  # noqa: E402
from workloads import WORKLOADS, forward_flops, task_flops  # noqa: E402


def test_flop_counts_match_the_architectures_by_hand():
    # W1: 8 couplings, conditioner 2 -> 100 x4 -> 4 (2 moving dims x shift, log-scale).
    assert forward_flops(WORKLOADS["W1"]) == 8 * 2 * (2 * 100 + 3 * 100 * 100 + 100 * 4)
    assert task_flops(WORKLOADS["W1"], "train") == 3 * forward_flops(WORKLOADS["W1"])
    # W3: 20 blocks, [4 kept + 9 condition] -> 128 -> 128 -> 5 x 2.
    assert forward_flops(WORKLOADS["W3"]) == 20 * 2 * (13 * 128 + 128 * 128 + 128 * 10)
    # W2 sampling: 4 sequential MADE passes of 4 -> 200 -> 200 -> 8 per layer.
    assert task_flops(WORKLOADS["W2"], "sample") == 4 * 8 * 2 * (4 * 200 + 200 * 200 + 200 * 8)
    # W4: 1 kept of 3, 2 moving x (3 * 8 - 1) spline parameters.
    assert forward_flops(WORKLOADS["W4"]) == 4 * 2 * (1 * 64 + 64 * 64 + 64 * 46)


def _cpuinfo(tmp_path, flags, mhz=2445.0, cores=2):
    block = f"processor\t: 0\nmodel name\t: Test CPU\ncpu MHz\t\t: {mhz}\nflags\t\t: fpu sse2 {flags}\n"
    path = tmp_path / "cpuinfo"
    path.write_text("\n".join([block] * cores))
    return str(path)


def test_cpu_peak_reproduces_the_issue_figure_and_scales_with_vector_width(tmp_path):
    avx2 = machine.cpu_peak(_cpuinfo(tmp_path, "avx2 fma"))
    assert avx2["cores"] == 2 and avx2["flop_per_cycle"] == 32
    assert avx2["gflops"] == pytest.approx(156.48)  # 2 cores x 32 FLOP/cycle x 2.445 GHz
    assert machine.cpu_peak(_cpuinfo(tmp_path, "avx2 fma avx512f"))["flop_per_cycle"] == 64
    assert machine.cpu_peak(_cpuinfo(tmp_path, "sse4_2", cores=4))["gflops"] == pytest.approx(4 * 16 * 2.445)


def test_peak_memory_sees_an_allocation_made_inside_the_block():
    with machine.PeakMemory() as mem:
        block = bytearray(200 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
        time.sleep(0.05)
        del block
    assert mem.peak - mem.start > 150 * 2**20


def test_measure_reports_samples_per_second_of_each_round():
    result = machine.measure(lambda: time.sleep(0.01), lambda r: 1.0, size=100, calls=3, repeats=2)
    assert 5_000 < result["min"] <= result["median"] <= result["max"] < 10_000  # 100 per ~10 ms
    assert result["first_s"] >= 0.01 and result["value"] == 1.0


def test_interleaved_cells_take_their_rounds_in_turn():
    log = []

    def pair(name):
        return (lambda: log.append(name)), (lambda r: name)

    results = machine.measure_interleaved([pair("a"), pair("b")], size=1, calls=2, repeats=3)
    assert log == ["a", "b"] + ["a", "a", "b", "b"] * 3  # first calls alone, then round by round
    assert [r["value"] for r in results] == ["a", "b"]
    assert all(r["min"] <= r["median"] <= r["max"] for r in results)


def _cell(library, mode, median, value=1.0, task="train"):
    return dict(workload="W1", task=task, library=library, mode=mode, median=median, value=value, first_s=1.0)


def test_ratios_take_each_librarys_best_finite_mode_and_never_count_the_ceiling_as_a_peer():
    cells = [_cell("ours", "tf.function", 100.0), _cell("ours", "XLA", 500.0, value=float("nan")),
             _cell("tfp", "XLA", 60.0), _cell("zuko", "eager", 70.0), _cell(tf_flows.BOUND, "XLA", 1000.0),
             _cell("ours", "XLA", 90.0, task="sample"), _cell("nflows", "eager", 80.0, task="sample")]
    for cell in cells:
        bench_flows.annotate(cell, peak_gflops=100.0, measured_gflops=50.0)
    ratios = {r["task"]: r for r in bench_flows.summarise(cells)}
    train = ratios["train"]
    assert train["ratio"] == pytest.approx(100 / 70) and train["best_peer"] == "zuko (eager)"
    assert train["target"] == 1.5 and not train["met"] and train["ours_of_bound"] == pytest.approx(0.1)
    assert ratios["sample"]["met"] and ratios["sample"]["target"] == 1.0
    assert cells[0]["fraction_of_peak"] == pytest.approx(100 * task_flops(WORKLOADS["W1"], "train") / 1e9 / 100)


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4"])
def test_tfp_and_the_dense_ceiling_get_exactly_our_conditioners(name):
    spec = WORKLOADS[name]
    count = {lib: sum(int(v.shape.num_elements()) for v in tf_flows.build(lib, spec).trainable_variables)
             for lib in ("ours", "tfp", tf_flows.BOUND)}
    assert count["ours"] == count["tfp"] == count[tf_flows.BOUND], count


def test_the_dense_ceiling_chains_its_networks_as_a_flow_chains_its_layers():
    import tensorflow as tf

    bound = tf_flows.build(tf_flows.BOUND, WORKLOADS["W1"])
    for net in bound.nets:  # output layers start at zero, which would hide any dependence
        net.out.kernel.assign(tf.random.normal(net.out.kernel.shape, seed=1))
    first, last = bound.nets[0].trainable_variables, bound.nets[-1].trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        outs = bound.chain_outputs()
    # The last network depends on every weight of the first (unchained, their gradients were None) ...
    grads = tape.gradient(outs[-1], first)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    # ... and no network on a later one's.
    assert all(g is None for g in tape.gradient(outs[0], last))
    assert len(outs) == WORKLOADS["W1"]["layers"]


def test_a_train_target_is_the_lower_of_1_5x_the_best_peer_and_0_9_of_the_ceiling():
    assert bench_flows.target_rate("train", 100.0, 1000.0, 1.5) == (150.0, "1.5x the best other")
    rate, rule = bench_flows.target_rate("train", 100.0, 150.0, 1.5)  # 1.5x would beat the matmuls
    assert rate == pytest.approx(135.0) and "ceiling" in rule
    assert bench_flows.target_rate("sample", 100.0, None, 1.1)[0] == pytest.approx(110.0)


def test_a_train_step_above_target_with_a_slow_first_call_is_not_met():
    cells = [_cell("ours", "XLA", 200.0), _cell("tfp", "XLA", 100.0), _cell(tf_flows.BOUND, "XLA", 1000.0)]
    cells[0]["first_s"] = bench_flows.FIRST_CALL_LIMIT_S + 1
    for cell in cells:
        bench_flows.annotate(cell, peak_gflops=100.0, measured_gflops=50.0)
    (train,) = bench_flows.summarise(cells)
    assert train["ratio"] == 2.0 and not train["first_ok"] and not train["met"]


def test_power_law_exponents_are_recovered_and_super_linear_growth_is_flagged():
    xs = [2, 8, 32, 128]
    assert scaling.power_law_exponent(xs, [3.0 * x ** 1.7 for x in xs]) == pytest.approx(1.7)
    assert scaling.power_law_exponent(xs, [5.0 for _ in xs]) == pytest.approx(0.0)
    assert scaling.super_linear("depth", 1.3) and not scaling.super_linear("depth", 1.05)
    assert scaling.super_linear("batch", 0.3) and not scaling.super_linear("batch", -0.4)


def test_a_scaling_group_times_each_configuration_and_reports_its_memory():
    # As study() runs it: a fresh process per group, memory measured from its own import level.
    out = subprocess.run([sys.executable, str(Path(scaling.__file__)), "--group", "realnvp", "ours", "depth",
                          "--values", "2", "--budget", "0.01"], capture_output=True, text=True, check=True)
    (line,) = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert (line["kind"], line["library"], line["axis"], line["value"]) == ("realnvp", "ours", "depth", 2)
    assert 0 < line["us_per_sample"] < 1e4 and line["first_s"] > 0 and line["peak_mb"] > 0


def test_the_step_profile_finds_the_matmuls_and_the_rest():
    spec = dict(WORKLOADS["W1"], layers=2, batch=64)
    (result,) = profile_step.profile([profile_step.prepare("ours", spec, "train", False)], calls=2, rounds=2)
    assert result["dense_us"] > 0 and result["other_us"] > 0 and result["wall_us"] > 0 and result["calls"] == 4
    assert any(profile_step.DENSE.search(name) for name in result["kernels"])
