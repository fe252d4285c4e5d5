"""The command table: each command's parser and what runs it, the files it writes and reads (checked
before any work), and `main`, which turns every user error into one line on stderr and exit code 1."""

from __future__ import annotations

import argparse
import sys

from ..data import check_data_root
from ..errors import GanlabError
from ..outputs import check_input, check_output
from . import bench, classifier, directions, evaluation, fields, sampling, study, train
from .core import Parser

# Each command: (how its parser is built, what runs it), in the order --help lists them.
TABLE = {"train": (train.add_train, train.cmd_train), "sample": (sampling.add_sample, sampling.cmd_sample),
         "eval": (evaluation.add_eval, evaluation.cmd_eval),
         "classifier": (classifier.add_classifier, classifier.cmd_classifier),
         "bench": (bench.add_bench, bench.cmd_bench), "semi": (evaluation.add_semi, evaluation.cmd_semi),
         "encoder": (sampling.add_encoder, sampling.cmd_encoder), "encode": (sampling.add_encode, sampling.cmd_encode),
         "complete": (sampling.add_complete, sampling.cmd_complete), "fields": (fields.add_fields, fields.cmd_fields),
         "time-to-good": (evaluation.add_time_to_good, evaluation.cmd_time_to_good),
         "directions": (directions.add_directions, directions.cmd_directions),
         "study": (study.add_study, study.cmd_study)}
COMMANDS = {name: run for name, (_, run) in TABLE.items()}

# Every file a command writes (its flag's dest) and the endings it writes, checked before any work.
OUTPUTS = {"train": {"out": (".pt",)}, "sample": {"out": (".npy", ".png"), "out_labels": (".npy",)},
           "classifier": {"out": (".pt",)}, "time-to-good": {"out": (".pt",), "json": (".json",)},
           "encoder": {"out": (".pt",)}, "encode": {"out": (".npy",)}, "complete": {"out": (".npy", ".png")},
           "directions": {"json": (".json",)}}

# Every file a command reads (its flag's dest) and what it holds, checked as the outputs are; a data
# root is checked where it is given (it need not exist: MNIST and the like are downloaded into it).
INPUTS = {"train": {"resume": "checkpoint"}, "sample": {"checkpoint": "checkpoint", "z": "--z"},
          "eval": {"checkpoint": "checkpoint", "classifier": "classifier"}, "semi": {"checkpoint": "checkpoint"},
          "encoder": {"checkpoint": "checkpoint"}, "encode": {"checkpoint": "checkpoint", "images": "--images"},
          "complete": {"checkpoint": "checkpoint", "images": "--images"},
          "directions": {"checkpoint": "checkpoint", "classifier": "classifier"}}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m ganlab", description="ganlab: train, sample and "
                    "evaluate Generative Adversarial Nets (Goodfellow et al., 2014).")
    sub = parser.add_subparsers(dest="command", required=True)
    for add, _ in TABLE.values():
        add(sub)
    return parser


def check_outputs(args) -> None:
    """Each output of `args.command` that is given can be written, or a one-line ConfigError."""
    for dest, endings in OUTPUTS.get(args.command, {}).items():
        if getattr(args, dest, None):
            check_output(getattr(args, dest), "--" + dest.replace("_", "-"), endings)


def check_inputs(args) -> None:
    """Each file `args.command` reads, and its data root, can be read, or a one-line error."""
    for dest, what in INPUTS.get(args.command, {}).items():
        if getattr(args, dest, None):
            check_input(getattr(args, dest), what)
    if getattr(args, "data_root", None):
        check_data_root(args.data_root)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_outputs(args)
        check_inputs(args)
        return COMMANDS[args.command](args)
    except GanlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint written is intact", file=sys.stderr)
        return 130
