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

    def __init__(self, path: object, message: str, key: str | None = None, *,
                 line: int | None = None) -> None:
        """`key` is dotted, its last part the key and the rest its section: `sms.rate`."""
        self.path = str(path)
        self.key = key
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else self.path
        if key and "." in key:
            section, _, name = key.rpartition(".")
            where += f": [{section}] {name}:"
        elif key:
            where += f": [{key}]"
        else:
            where += ":"
        super().__init__(f"{where} {message}")


class SurveyError(PalauteError, ValueError):
    """A survey definition that cannot be used."""


class StoreError(PalauteError):
    """The local store cannot be opened or written."""


class NewerSchemaError(StoreError):
    """The store was written by a newer palaute than this one."""
