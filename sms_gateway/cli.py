"""The `palaute sms` subcommands, joined from the modules that own them."""

from __future__ import annotations

import argparse
from importlib import import_module

MODULES = ("sms_gateway.cli_pdu", "sms_gateway.cli_modem", "sms_gateway.cli_service")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every module's subcommands to `sub`."""
    for name in MODULES:
        import_module(name).register(sub)
