"""The `palaute central` subcommands, joined from the modules that own them."""

from __future__ import annotations

import argparse
from importlib import import_module

MODULES = ("central.cli_receiver", "central.cli_report", "central.cli_enroll")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every module's subcommands to `sub`."""
    for name in MODULES:
        import_module(name).register(sub)
