"""``katibsim ...``: the command-line entry point. Thin: parses arguments, calls the library.

Each subcommand lives in ``katibsim/commands/<name>.py`` with ``NAME``, ``HELP``,
``configure(parser)`` and ``run(args) -> int``; plugins add more through
``katibsim_register_commands``. This is the only place that turns errors into exit codes and
text: 0 ok, 1 assertions or validation failed, 2 usage or input error. Never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from katibsim import __version__
from katibsim.errors import KatibsimError, SpecError

# Built-in subcommands, in the order `katibsim --help` lists them.
BUILTIN_COMMANDS: tuple[str, ...] = (
    "validate",
    "show",
    "plugins",
    "check-metrics",
    "simulate",
    "run",
    "compare",
    "kind",
    "serve",
)


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with a one-line message (its default) but never prints a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="katibsim", description="Declarative testing and simulation for Kubeflow Katib experiments.")
    parser.add_argument("--version", action="version", version=f"katibsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in BUILTIN_COMMANDS:
        mod = importlib.import_module(f"katibsim.commands.{name.replace('-', '_')}")
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.configure(p)
        p.set_defaults(_run=mod.run)
    _add_plugin_commands(sub)
    return parser


def _add_plugin_commands(sub) -> None:
    from katibsim import plugins

    for name, entry in plugins.commands().items():
        p = sub.add_parser(name, help=entry.help, description=entry.help)
        entry.configure(p)
        p.set_defaults(_run=entry.run)


def print_error(err: KatibsimError) -> None:
    if isinstance(err, SpecError):
        for e in err.errors:
            print(e.render(), file=sys.stderr)
    else:
        print(f"error: {err}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KatibsimError as err:
        print_error(err)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - the promise is "never a traceback"
        if os.environ.get("KATIBSIM_DEBUG"):
            raise
        print(
            f"internal error: {type(err).__name__}: {err}\n"
            "This is a bug in katibsim; rerun with KATIBSIM_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
