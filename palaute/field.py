"""Technician commands: provision, selftest, status."""

from __future__ import annotations

import argparse

from survey.errors import PalauteError


def register_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Set up the parser of one technician command."""

    def not_yet(args: argparse.Namespace) -> int:
        raise PalauteError(f"`palaute {name}` is not built yet in this version")

    parser.set_defaults(handler=not_yet)
