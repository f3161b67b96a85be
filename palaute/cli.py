"""The `palaute` command: a thin layer that hands each subcommand to its package."""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeAlias

import central.cli
import kiosk.cli
import sms_gateway.cli
import sms_gateway.status
import survey.cli
import survey.topics.cli
import sync.cli
from palaute import __version__, demo, field, torture
from survey.errors import PalauteError

if TYPE_CHECKING:
    from sync.agent import StatusExtra


def device_status_extras() -> list[StatusExtra]:
    """What other parts add to the sync agent's heartbeat (sync imports none of them)."""
    return [sms_gateway.status.status_extras]

# Each part registers its own subcommands: module -> one line of help.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
PARTS: dict[str, tuple[Callable[[SubParsers], None], str]] = {
    "survey": (survey.cli.register, "check survey definitions and read SMS replies"),
    "sms": (sms_gateway.cli.register, "the SMS survey gateway and its GSM modem"),
    "kiosk": (kiosk.cli.register, "the lobby kiosk (touch, buttons, audio mode)"),
    "sync": (partial(sync.cli.register, status_extras=device_status_extras),
             "the sync agent that carries answers to the central store"),
    "central": (central.cli.register, "the central receiver, store and reports"),
    "text": (survey.topics.cli.register, "free-text topics and tone (the counties' 20 topics)"),
}
# Top-level commands that are one function each (registrar, help).
COMMANDS: dict[str, tuple[Callable[[str, argparse.ArgumentParser], None], str]] = {
    "provision": (field.register_command, "set up this device (technician)"),
    "selftest": (field.register_command, "walk through the hardware checks (technician)"),
    "status": (field.register_command, "one screen of this device's state (technician)"),
    "demo": (demo.register_command, "run the whole chain on simulated hardware"),
    "torture": (torture.register_command, "the whole chain with random SIGKILLs: lost, "
                "duplicated and damaged answers counted"),
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
    for name, (register, help_text) in PARTS.items():
        part = sub.add_parser(name, help=help_text, description=help_text)
        part_sub = part.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
        part_sub.required = True
        register(part_sub)
    for name, (register_command, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        register_command(name, cmd)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    env_level = os.environ.get("PALAUTE_LOG_LEVEL")
    logging.basicConfig(
        level=env_level or level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@contextlib.contextmanager
def json_stdout() -> Iterator[None]:
    """While a `--json` command runs, stdout carries only what Python prints to it.

    Whatever writes to file descriptor 1 below Python (SDL, ALSA, a subprocess such
    as espeak-ng) goes to stderr, the log, instead of into the JSON.
    """
    try:
        uses_fd1 = sys.stdout.fileno() == 1
    except (AttributeError, OSError, io.UnsupportedOperation):
        uses_fd1 = False  # stdout is not the process's (e.g. captured): only fd 1 to move
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    old = sys.stdout
    if uses_fd1:
        sys.stdout = open(os.dup(saved), "w", encoding=old.encoding or "utf-8",  # noqa: SIM115
                          errors=old.errors or "strict")
    try:
        yield
    finally:
        if sys.stdout is not old:
            sys.stdout.close()
            sys.stdout = old
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `palaute` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    handler: Handler = args.handler
    guard = json_stdout() if getattr(args, "json", False) else contextlib.nullcontext()
    try:
        with guard:
            result = handler(args)
    except PalauteError as exc:
        print(f"palaute: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return int(result or 0)
