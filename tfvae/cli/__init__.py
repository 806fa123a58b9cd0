"""Command line: ``tfvae <command> [flags]`` (also ``python -m tfvae``); one module per command.

Every user error ends as one line ``tfvae: error: <problem and fix>`` and
exit status 2, never a traceback. Parsing imports no TensorFlow: a command's
``run`` imports what it needs and calls a library function with typed
arguments.
"""

import argparse
import sys

import importlib
from tfvae.errors import TfvaeError

# One module per command, named like it (sample-remote: sample_remote, fit-sampler: fit_sampler).
COMMANDS = tuple(importlib.import_module(f"tfvae.cli.{name}") for name in (
    "train", "eval", "generate", "viz", "sweep", "export", "sample_remote", "explore", "weights", "fit_sampler"))


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line: ``tfvae: error: ...``."""

    def error(self, message):
        self.exit(2, f"tfvae: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    parser = _Parser(prog="tfvae", description="Variational Auto-Encoders in TensorFlow/Keras.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _parse(parser, argv):
    """``parse_args``, but an unknown flag is reported by its subcommand's parser (with its help hint)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv=None):
    """Entry point of the ``tfvae`` console script. Returns an exit status."""
    args = _parse(build_parser(), argv)
    try:
        return args.func(args) or 0
    except TfvaeError as e:
        print(f"tfvae: error: {e}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("tfvae: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def run(argv=None):
    sys.exit(main(argv))
