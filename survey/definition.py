"""Loading and checking survey definitions (TOML files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from survey.model import Survey


@dataclass(frozen=True)
class Problem:
    """One problem in a survey file: where (file, line, key) and what."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}"


def check_file(path: str | Path) -> list[Problem]:
    """Every problem of the survey file at `path` (empty when it is valid)."""
    raise NotImplementedError  # built in the survey-definition change


def load_survey(path: str | Path) -> Survey:
    """Load a valid survey or raise SurveyError listing its problems."""
    raise NotImplementedError  # built in the survey-definition change
