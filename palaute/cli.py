"""The `palaute` command: a thin layer that hands each subcommand to its package."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

from palaute import __version__
from survey.errors import PalauteError

# Each part registers its own subcommands: module path -> one line of help.
PARTS: dict[str, tuple[str, str]] = {
    "survey": ("survey.cli", "check survey definitions and read SMS replies"),
    "sms": ("sms_gateway.cli", "the SMS survey gateway and its GSM modem"),
    "kiosk": ("kiosk.cli", "the lobby kiosk (touch, buttons, audio mode)"),
    "sync": ("sync.cli", "the sync agent that carries answers to the central store"),
    "central": ("central.cli", "the central receiver, store and reports"),
}
# Top-level commands that are one function each (module, help).
COMMANDS: dict[str, tuple[str, str]] = {
    "provision": ("palaute.field", "set up this device (technician)"),
    "selftest": ("palaute.field", "walk through the hardware checks (technician)"),
    "status": ("palaute.field", "one screen of this device's state (technician)"),
    "demo": ("palaute.demo", "run the whole chain on simulated hardware"),
}

Handler = Callable[[argparse.Namespace], int | None]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every part's subcommands."""
    parser = argparse.ArgumentParser(
        prog="palaute",
        description="Patient feedback: kiosks, SMS surveys, sync and central reports.",
    )
    parser.add_argument("--version", action="version", version=f"palaute {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module, help_text) in PARTS.items():
        part = sub.add_parser(name, help=help_text, description=help_text)
        part_sub = part.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
        part_sub.required = True
        import_module(module).register(part_sub)
    for name, (module, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        import_module(module).register_command(name, cmd)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    env_level = os.environ.get("PALAUTE_LOG_LEVEL")
    logging.basicConfig(
        level=env_level or level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `palaute` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    handler: Handler = args.handler
    try:
        result = handler(args)
    except PalauteError as exc:
        print(f"palaute: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return int(result or 0)
