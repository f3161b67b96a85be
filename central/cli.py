"""The `palaute central` subcommands, joined from the modules that own them."""

from __future__ import annotations

import argparse

from central import (
    cli_enroll,
    cli_labels,
    cli_receiver,
    cli_registry,
    cli_report,
    cli_users,
)

MODULES = (cli_receiver, cli_report, cli_enroll, cli_registry, cli_labels, cli_users)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every module's subcommands to `sub`."""
    for module in MODULES:
        module.register(sub)
