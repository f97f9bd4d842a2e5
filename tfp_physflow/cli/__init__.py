"""The ``physflow`` command: every capability of the library without writing Python.

Commands: demo (the main job), eis (fit and learn a circuit on measured
spectra), train, sample, evaluate, export, info, classify, smoke. ``physflow COMMAND --help`` says what each does, with an
example. A bad file, a wrong column count or a bad option ends with one line
``physflow: error: ...`` and exit status 2.
"""

import argparse
import sys

COMMANDS = {
    "demo": ("the main job: simulate impedance spectra, train a physics-aware flow on the spectra alone, "
             "print the evaluation table, save plots, export a SavedModel",
             "physflow demo --out demo_run   (add --full for the paper-sized run)"),
    "eis": ("measured impedance spectra and a circuit: 'eis fit' fits every spectrum by least squares, "
            "'eis learn' trains a physics-aware flow on them without labels and generates labeled spectra, "
            "'eis posterior' trains an amortized posterior of the parameters for their frequency grid",
            "physflow eis learn spectra/ --circuit 'R0-p(R1,CPE1)' --out run   "
            "(physflow eis fit|learn|posterior --help)"),
    "train": ("train a flow on your data (.npy, .csv or .npz; rows are samples) by maximum likelihood; "
              "writes the flow (config + weights), its history and loss plot to --out",
              "physflow train data.csv --kind nsf --epochs 50 --out run1"),
    "sample": ("draw samples from a SavedModel (flow, physics generator or conditional sampler)",
               "physflow sample run1/saved_model -n 1000 --out samples.csv"),
    "evaluate": ("score a SavedModel on data: mean log-likelihood, and 1D-KS, 2D-KS and correlation "
                 "similarity of its samples against the data",
                 "physflow evaluate run1/saved_model test.csv"),
    "export": ("write a trained flow (from physflow train) as a SavedModel that serves without tfp_physflow",
               "physflow export run1 run1/saved_model"),
    "info": ("show what a SavedModel holds: signatures, input and output shapes, the model's description",
             "physflow info run1/saved_model"),
    "classify": ("train a FlowClassifier (one flow per class) on labeled data, report it on test data and "
                 "export it as a SavedModel with a classify signature",
                 "physflow classify train.csv --test test.csv --label-column -1 --out clf"),
    "smoke": ("train a small flow on two moons and compare its log-likelihood with a fitted Gaussian",
              "physflow smoke --kind nsf --epochs 40"),
}


def build_parser():
    from . import eis_commands, flow_commands, job_commands, model_commands

    parser = argparse.ArgumentParser(prog="physflow", description="Physics-aware normalizing flows "
                                     "(tfp_physflow). Run 'physflow COMMAND --help' for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, example) in COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.\n\nExample: {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module = (job_commands if name in ("demo", "classify", "smoke") else eis_commands if name == "eis"
                  else model_commands if name in ("info", "sample", "evaluate") else flow_commands)
        getattr(module, f"add_{name}_arguments")(p)
        p.set_defaults(handler=getattr(module, name))
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as err:
        print(f"physflow: error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", file=sys.stderr)
        return 2
    except OSError as err:  # a file system refusal: name the file and the reason
        where = f"{err.filename}: " if err.filename else ""
        print(f"physflow: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Commands write their outputs after the work, each file atomically: an
        # interrupted run leaves what was there before (train --checkpoint-dir: the epochs done).
        print("physflow: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
