"""The hardware checks of `palaute selftest`, by role: buttons, audio, modem, broker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from survey.config import Config

if TYPE_CHECKING:
    from palaute.selftest import Check


def checks_for(config: Config) -> list[Check]:
    """Hardware checks for the roles this config has."""
    return []
