"""The ``physflow`` command."""

import argparse
import sys

SMOKE_EXAMPLE = "physflow smoke --kind nsf --epochs 40"


def smoke(args):
    """Trains a flow on two moons and compares held-out log-likelihood with a Gaussian."""
    import keras

    from . import make_flow
    from .data import two_moons
    from .metrics import gaussian_log_likelihood
    from .train import fit_flow

    train, test = two_moons(4000, seed=args.seed), two_moons(2000, seed=args.seed + 1)
    flow = make_flow(args.kind, 2, num_layers=args.layers)
    if not args.quiet:
        print(f"training a {args.kind} flow ({flow.count_params()} parameters) on two moons")
    batch_size = 256
    steps = args.epochs * (int(0.9 * len(train)) // batch_size)
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, steps))
    fit_flow(flow, train, epochs=args.epochs, batch_size=batch_size, validation_split=0.1, optimizer=optimizer,
             seed=args.seed, verbose=not args.quiet)
    flow_ll = float(flow.log_prob(test).numpy().mean())
    gauss_ll = gaussian_log_likelihood(train, test)
    print(f"held-out log-likelihood per point: flow {flow_ll:.3f}, fitted Gaussian {gauss_ll:.3f}, "
          f"gain {flow_ll - gauss_ll:+.3f} nats")
    return 0


def build_parser():
    from .flows import KINDS

    parser = argparse.ArgumentParser(prog="physflow", description="Physics-aware normalizing flows.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("smoke", help="train a small flow on two moons and report its log-likelihood",
                       description="Train a small flow on a 2-D two-moons sample and compare its held-out "
                                   f"log-likelihood with a fitted Gaussian. Example: {SMOKE_EXAMPLE}")
    p.add_argument("--kind", default="realnvp", choices=[k for k in KINDS if k != "cinn"])
    p.add_argument("--layers", type=int, default=None, help="number of blocks (default per kind)")
    p.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="print only the result")
    p.set_defaults(run=smoke)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as err:
        print(f"physflow: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
