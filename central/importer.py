"""`palaute central import`: responses from a JSON Lines file into the central store.

Each line is one response in the wire format (history from earlier systems).
Good lines are stored idempotently (a second import adds nothing); each bad line
is reported with its number and why, and does not stop the rest.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from central.store import CentralStore
from survey.errors import PalauteError
from survey.response import Response, ResponseError, decode_response

CHUNK = 1000


class ImportFileError(PalauteError):
    """The import file cannot be read at all."""


@dataclass
class ImportReport:
    """What an import did: lines read, new responses, duplicates, bad lines (number, why)."""

    lines: int = 0
    inserted: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, int, Response | str]]:
    """(line number, bytes read, response or the reason the line is bad) for each non-blank line."""
    for number, raw in enumerate(stream, 1):
        size = len(raw)
        text = raw.strip()
        if number == 1 and text.startswith(b"\xef\xbb\xbf"):
            text = text[3:]  # a byte order mark (Windows tools write one): not part of the JSON
        if not text:
            yield number, size, "blank"
            continue
        try:
            obj = json.loads(text.decode("utf-8"))
        except UnicodeDecodeError:
            yield number, size, "not UTF-8"
            continue
        except (ValueError, RecursionError) as exc:
            yield number, size, f"not JSON: {str(exc)[:100]}"
            continue
        try:
            yield number, size, decode_response(obj)
        except ResponseError as exc:
            yield number, size, str(exc)


def import_jsonl(store: CentralStore, path: Path, *, progress: bool | None = None,
                 now: datetime | None = None) -> ImportReport:
    """Import a JSON Lines file of wire-format responses (see module doc)."""
    from tqdm import tqdm

    try:
        total = path.stat().st_size
        stream = open(path, "rb")  # noqa: SIM115 - closed below, after the progress bar
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror}") from None
    received = now or datetime.now(UTC)
    report = ImportReport()
    pending: list[Response] = []
    show = sys.stderr.isatty() if progress is None else progress
    with stream, tqdm(total=total, unit="B", unit_scale=True, desc=path.name, file=sys.stderr,
                      disable=not show) as bar:
        for number, size, item in read_lines(stream):
            bar.update(size)
            if item == "blank":
                continue
            report.lines += 1
            if isinstance(item, str):
                report.errors.append((number, item))
                continue
            pending.append(item)
            if len(pending) >= CHUNK:
                _flush(store, pending, report, received)
        _flush(store, pending, report, received)
    return report


def _flush(store: CentralStore, pending: list[Response], report: ImportReport,
           received: datetime) -> None:
    if not pending:
        return
    new = store.insert_responses(pending, received_at=received)
    report.inserted += new
    report.duplicates += len(pending) - new
    pending.clear()
