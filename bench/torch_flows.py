"""The PyTorch side of the benchmark: zuko and nflows on the same workloads.

Runs in its own process (``bench/flows.py`` starts it), so that neither
framework's thread pools compete with the other's, and prints one JSON
line per measurement. Architectures match ``workloads.py``: the same
couplings / MADEs, hidden widths, ReLU, reversal between blocks, float32.

    python bench/torch_flows.py W2 --calls 20 --repeats 5
"""

import argparse
import json
import os

import torch
from torch import nn

from machine import measure
from workloads import SAMPLES, WORKLOADS, task_size


class ContextMLP(nn.Module):
    """nflows conditioner: an MLP over [kept half, context] (nflows' MLP takes no context)."""

    def __init__(self, in_features, out_features, hidden, context=0):
        super().__init__()
        widths = (in_features + context, *hidden)
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(widths[-1], out_features))

    def forward(self, x, context=None):
        return self.net(x if context is None else torch.cat([x, context], -1))


def zuko_flow(spec):
    import zuko
    d, c, hidden = spec["d"], spec["c"] or 0, tuple(spec["hidden"])
    if spec["kind"] == "maf":
        return zuko.flows.MAF(d, c, transforms=spec["layers"], hidden_features=hidden)
    if spec["kind"] == "nsf":  # passes=2: a coupling, not autoregressive
        return zuko.flows.NSF(d, c, bins=spec["bins"], transforms=spec["layers"], hidden_features=hidden,
                              passes=2)
    return zuko.flows.RealNVP(d, c, transforms=spec["layers"], hidden_features=hidden)


def nflows_flow(spec):
    from nflows.distributions import StandardNormal
    from nflows.flows import Flow
    from nflows import transforms as T
    d, c, hidden = spec["d"], spec["c"], tuple(spec["hidden"])
    mask = torch.tensor([1 if i >= d // 2 else 0 for i in range(d)])
    blocks = []
    for i in range(spec["layers"]):
        if i:
            blocks.append(T.ReversePermutation(d))
        if spec["kind"] == "maf":
            blocks.append(T.MaskedAffineAutoregressiveTransform(d, hidden[0], num_blocks=len(hidden) - 1,
                                                                use_residual_blocks=False))
            continue
        net = lambda a, b: ContextMLP(a, b, hidden, c or 0)  # noqa: E731
        if spec["kind"] == "nsf":
            blocks.append(T.PiecewiseRationalQuadraticCouplingTransform(
                mask, net, num_bins=spec["bins"], tails="linear", tail_bound=spec["bound"]))
        else:
            blocks.append(T.AffineCouplingTransform(mask, net))
    return Flow(T.CompositeTransform(blocks), StandardNormal([d]))


def task_call(library, flow, spec, task):
    torch.manual_seed(0)
    size = task_size(spec, task) if task != "log_prob" else spec["batch"]
    x = torch.randn(size, spec["d"])
    cond = None if spec["c"] is None else torch.randn(size, spec["c"])
    if library == "zuko":
        log_prob = lambda x, c: flow(c).log_prob(x)  # noqa: E731
        sample = (lambda c: flow(c).sample()) if cond is not None else (lambda c: flow().sample((SAMPLES,)))
    else:
        log_prob = lambda x, c: flow.log_prob(x, context=c)  # noqa: E731
        sample = (lambda c: flow.sample(1, context=c)) if cond is not None else (lambda c: flow.sample(SAMPLES))
    if task == "train":
        optimizer = torch.optim.Adam(flow.parameters(), lr=1e-4)

        def step():
            optimizer.zero_grad()
            loss = -log_prob(x, cond).mean()
            loss.backward()
            optimizer.step()
            return loss
        return step, (lambda loss: loss.item())

    def no_grad(fn):
        def call():
            with torch.no_grad():
                return fn()
        return call
    if task == "log_prob":
        batches = spec["points"] // spec["batch"]
        return no_grad(lambda: [log_prob(x, cond) for _ in range(batches)]), (lambda out: float(out[-1][0]))
    return no_grad(lambda: sample(cond)), (lambda out: float(out.mean()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=list(WORKLOADS))
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--libraries", nargs="*", default=["zuko", "nflows"])
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    spec = WORKLOADS[args.workload]
    for library in args.libraries:
        for task in spec["tasks"]:
            torch.manual_seed(0)
            flow = (zuko_flow if library == "zuko" else nflows_flow)(spec)
            call, sync = task_call(library, flow, spec, task)
            calls = max(1, args.calls // 4) if task != "train" else args.calls
            result = measure(call, sync, task_size(spec, task), calls, args.repeats)
            print(json.dumps(dict(workload=args.workload, task=task, library=library, mode="eager",
                                  version=_version(library), **result)), flush=True)


def _version(library):
    import importlib.metadata
    return importlib.metadata.version(library)


if __name__ == "__main__":
    main()
