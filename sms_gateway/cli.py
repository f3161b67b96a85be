"""The `palaute sms` subcommands, joined from the modules that own them."""

from __future__ import annotations

import argparse

from sms_gateway import cli_modem, cli_pdu, cli_service

MODULES = (cli_pdu, cli_modem, cli_service)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every module's subcommands to `sub`."""
    for module in MODULES:
        module.register(sub)
