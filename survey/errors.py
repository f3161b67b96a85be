"""The error root of the project, and the survey core's own errors.

Every domain error derives from PalauteError; the CLI prints it as one line
`palaute: error: …` and exits with its exit_code.
"""

from __future__ import annotations


class PalauteError(Exception):
    """Root of every error palaute reports to a person as one line."""

    exit_code = 1


class ConfigError(PalauteError, ValueError):
    """A device configuration that is missing, unreadable or invalid."""

    def __init__(self, path: object, message: str, key: str | None = None) -> None:
        self.path = str(path)
        self.key = key
        self.message = message
        where = f"{self.path}: [{key}] " if key else f"{self.path}: "
        super().__init__(where + message)


class SurveyError(PalauteError, ValueError):
    """A survey definition that cannot be used."""


class StoreError(PalauteError):
    """The local store cannot be opened or written."""


class NewerSchemaError(StoreError):
    """The store was written by a newer palaute than this one."""
