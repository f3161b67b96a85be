"""The local store: one SQLite file per device, safe across power cuts.

WAL mode with `synchronous=FULL`: once a write method returns, the row is on
disk. The store owns only the core's tables (CORE_SCHEMA); another part that
keeps tables in the same file (the SMS gateway) brings its own Schema to
`ensure_schema` and works through `read()` and `write()`. Versions live in
`schema_versions` (survey.db); migrations only go forward, and a file from a
newer palaute is refused untouched.

A response is written at its first answer (`start_response` + `set_answer`; free
text is redacted there, on every channel, before it reaches the file)
and becomes final (complete, abandoned, expired) with `finalise`, which gives
it the next sequence number. The sync agent reads final unsynced responses in
sequence order and marks them synced when the central has acknowledged them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from survey.config import DeviceIdentity
from survey.db import (
    Migration,
    Schema,
    installed_version,
    legacy_user_version,
    migrate,
    record_versions,
    refuse_newer,
    retire_user_version,
    script,
    transaction,
)
from survey.errors import StoreError
from survey.redact import redact_text
from survey.response import (
    FINAL_STATUSES,
    Answer,
    Channel,
    Response,
    Status,
    valid_flag,
    value_problem,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000

# The core's migrations: forward-only, append, never edit or reorder.
_M1_RESPONSES = """
        CREATE TABLE responses (
            id TEXT PRIMARY KEY,
            device TEXT NOT NULL,
            site TEXT NOT NULL,
            area TEXT NOT NULL,
            unit TEXT NOT NULL,
            channel TEXT NOT NULL,
            survey TEXT NOT NULL,
            survey_version INTEGER NOT NULL,
            lang TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'complete', 'abandoned', 'expired')),
            seq INTEGER UNIQUE,
            flags TEXT NOT NULL DEFAULT '[]',
            synced_at TEXT,
            batch TEXT
        );
        CREATE INDEX responses_unsynced ON responses (seq)
            WHERE seq IS NOT NULL AND synced_at IS NULL;
        CREATE INDEX responses_open ON responses (status) WHERE status = 'open';
        CREATE TABLE answers (
            response_id TEXT NOT NULL REFERENCES responses (id),
            question TEXT NOT NULL,
            value INTEGER,
            text TEXT,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (response_id, question)
        );
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        INSERT INTO meta (key, value) VALUES ('next_seq', '1');
"""

CORE_SCHEMA = Schema("core", (Migration("responses, answers, meta", script(_M1_RESPONSES)),))
SCHEMA_VERSION = CORE_SCHEMA.version

# Before each part owned its schema, `PRAGMA user_version` counted one list of
# migrations (1 the core's tables; 2 and 3 another part's; files in the field are at 3).
# Such a file is adopted once (survey.db.retire_user_version): the core's version goes
# to `schema_versions` and the old number to meta `legacy_user_version`, which a part's
# Schema.legacy_version maps to its own version.
LEGACY_USER_VERSION_MAX = 3
LEGACY_META_KEY = "legacy_user_version"


def new_response_id() -> str:
    """A fresh response UUID (time-ordered UUIDv7 layout, random below)."""
    # uuid7 is not in the 3.11 stdlib; time-ordered ids keep the central's index local.
    import os
    import time

    ms = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("timestamps must carry their time zone")
    return ts.isoformat(timespec="seconds")


def _check_flags(flags: Sequence[str]) -> None:
    bad = [f for f in flags if not valid_flag(f)]
    if bad:
        raise ValueError(f"not a flag name: {bad[0]!r} (lower-case letters, digits and _)")


_RESPONSE_COLUMNS = (
    "id", "device", "site", "area", "unit", "channel", "survey", "survey_version", "lang",
    "started_at", "finished_at", "status", "seq", "flags",
)


def _response(row: tuple[Any, ...], answers: dict[str, Answer]) -> Response:
    """A `responses` row (in _RESPONSE_COLUMNS order) and its answers as a Response."""
    (rid, device, site, area, unit, channel, survey, version, lang, started, finished,
     status, seq, flags) = row
    return Response(
        id=rid, device=device, site=site, area=area, unit=unit, channel=Channel(channel),
        survey=survey, survey_version=int(version), lang=lang,
        started_at=datetime.fromisoformat(started),
        finished_at=datetime.fromisoformat(finished) if finished else None,
        status=Status(status), seq=seq, answers=answers, flags=frozenset(json.loads(flags)),
    )


def _switch_to_wal(c: sqlite3.Connection) -> str:
    """`PRAGMA journal_mode = WAL`, waiting for the other services that open the file at
    the same moment (after an upgrade the kiosk, the gateway and the sync agent start
    together): SQLite answers "database is locked" to a mode change at once, without its
    busy handler, while another connection holds the file."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return str(c.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class Store:
    """The device's local SQLite store (see module doc). A context manager."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"{self.path}: store not found (run `palaute provision` to create it)")
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot create its folder: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(
                str(self.path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._grouped = 0  # inside group(): write() and read() join its transaction
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._explain(exc) from None
        except StoreError:
            conn.close()
            raise

    def _explain(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            return StoreError(
                f"{self.path}: the store is read-only ({text}); give the service user write "
                "access to the file and its folder (on a read-only root, keep it on the data "
                "partition)"
            )
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return StoreError(
                f"{self.path}: the store is damaged ({text}); stop the services, move the file "
                "aside for recovery (it may hold unsynced answers) and start again"
            )
        if "unable to open" in text:
            return StoreError(f"{self.path}: cannot open the store ({text})")
        return StoreError(f"{self.path}: store error: {text}")

    def _setup(self) -> None:
        c = self.conn
        c.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # Every check that can refuse the file runs before anything is written to it.
        where = str(self.path)
        legacy = legacy_user_version(c, LEGACY_USER_VERSION_MAX, where)
        if legacy is None:
            refuse_newer(CORE_SCHEMA, installed_version(c, CORE_SCHEMA.component), where)
        mode = _switch_to_wal(c)
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch the store to WAL mode (got {mode})")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        if legacy is not None or installed_version(c, CORE_SCHEMA.component) < CORE_SCHEMA.version:
            with self.write() as w:
                # Re-read under the write lock: another process may have migrated meanwhile.
                legacy = legacy_user_version(w, LEGACY_USER_VERSION_MAX, where)
                if legacy is not None:
                    log.info("%s: schema versions move from user_version %d to schema_versions",
                             self.path, legacy)
                    retire_user_version(w, {CORE_SCHEMA.component: min(legacy, 1)})
                migrate(w, CORE_SCHEMA, where)
                if legacy:
                    w.execute("INSERT INTO meta (key, value) VALUES (?, ?)",
                              (LEGACY_META_KEY, str(legacy)))

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT); rolled back on error.

        The connection it gives is for this transaction only; sqlite3 errors become
        StoreError with what to do. Inside `group()` it is part of the group's transaction."""
        if self._grouped:
            return self._joined()
        return transaction(self.conn, explain=self._explain)

    def read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One read transaction: every query inside sees the same snapshot of the file."""
        if self._grouped:
            return self._joined()
        return transaction(self.conn, immediate=False, explain=self._explain)

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """One write transaction for everything one event writes (a reply's answers and
        the conversation's new state): every `write()` and `read()` of this store inside
        joins it, and it commits once at the end (or, on any error, nothing of it does).
        A group inside a group is a savepoint: on its error only its own writes go."""
        if self._grouped:
            # A group inside a group: a savepoint, so that its failure takes back its own
            # writes only (the outer event decides what to keep).
            name = f"group{self._grouped}"
            self._grouped += 1
            try:
                with self._joined() as c:
                    c.execute(f"SAVEPOINT {name}")
                try:
                    yield
                except BaseException:
                    with self._joined() as c:
                        c.execute(f"ROLLBACK TO {name}")
                        c.execute(f"RELEASE {name}")
                    raise
                with self._joined() as c:
                    c.execute(f"RELEASE {name}")
            finally:
                self._grouped -= 1
            return
        with transaction(self.conn, explain=self._explain):
            self._grouped = 1
            try:
                yield
            finally:
                self._grouped = 0

    @contextlib.contextmanager
    def _joined(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self.conn
        except sqlite3.Error as exc:
            raise self._explain(exc) from exc

    def ensure_schema(self, schema: Schema) -> None:
        """Create or migrate another part's own tables in this file (e.g. the SMS gateway's).

        NewerSchemaError, with the file unchanged, when they are newer than `schema`."""
        where = str(self.path)
        with self.read() as c:
            found = self._adopted_version(c, schema)
            recorded = installed_version(c, schema.component) == found
        refuse_newer(schema, found, where)
        if found < schema.version or not recorded:
            with self.write() as w:
                # Under the write lock: another process may have done it meanwhile.
                if not installed_version(w, schema.component):
                    record_versions(w, {schema.component: self._adopted_version(w, schema)})
                migrate(w, schema, where)

    @staticmethod
    def _adopted_version(c: sqlite3.Connection, schema: Schema) -> int:
        """The part's version, or in a file adopted from the old layout, the version its
        tables were at then."""
        found = installed_version(c, schema.component)
        if found or schema.legacy_version is None:
            return found
        row = c.execute("SELECT value FROM meta WHERE key = ?", (LEGACY_META_KEY,)).fetchone()
        return schema.legacy_version(int(row[0])) if row else 0

    def component_version(self, schema: Schema) -> int:
        """The installed version of one part's tables in this file (0: not installed)."""
        with self.read() as c:
            return self._adopted_version(c, schema)

    def close(self) -> None:
        """Close the store; safe to call twice."""
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The version of the core's tables (see CORE_SCHEMA)."""
        return self.component_version(CORE_SCHEMA)

    # -- writing responses -------------------------------------------------

    def start_response(
        self,
        origin: DeviceIdentity,
        *,
        channel: Channel,
        survey: str,
        survey_version: int,
        lang: str,
        started_at: datetime,
        response_id: str | None = None,
        flags: Sequence[str] = (),
    ) -> str:
        """Create an open response and return its id (call at its first answer)."""
        channel = Channel(channel)  # ValueError for an unknown one, before anything is written
        _check_flags(flags)
        rid = response_id or new_response_id()
        with self.write() as c:
            c.execute(
                "INSERT INTO responses (id, device, site, area, unit, channel, survey, "
                "survey_version, lang, started_at, flags) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (rid, origin.id, origin.site, origin.area, origin.unit, channel, survey,
                 survey_version, lang, _iso(started_at), json.dumps(sorted(set(flags)))),
            )
        return rid

    def set_answer(
        self,
        response_id: str,
        question: str,
        *,
        value: int | None = None,
        text: str | None = None,
        at: datetime,
    ) -> None:
        """Store (or replace) one answer of an open response; a text is redacted first."""
        if value is None and text is None:
            raise ValueError("an answer needs a value or a text")
        # Checked here too: the central would refuse the whole response, scores and all.
        problem = None if value is None else value_problem(question, value)
        if problem:
            raise ValueError(problem)
        with self.write() as c:
            lang = self._require_open(c, response_id)
            if text is not None:
                text = redact_text(text, lang)
            c.execute(
                "INSERT INTO answers (response_id, question, value, text, answered_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (response_id, question) DO UPDATE SET "
                "value = excluded.value, text = excluded.text, answered_at = excluded.answered_at",
                (response_id, question, value, text, _iso(at)),
            )

    def add_flags(self, response_id: str, *flags: str) -> None:
        """Add flags (e.g. `repeat_press`, `burst`) to a response."""
        _check_flags(flags)
        with self.write() as c:
            row = c.execute("SELECT flags FROM responses WHERE id = ?", (response_id,)).fetchone()
            if row is None:
                raise StoreError(f"no response {response_id}")
            merged = sorted(set(json.loads(row[0])) | set(flags))
            c.execute(
                "UPDATE responses SET flags = ? WHERE id = ?", (json.dumps(merged), response_id)
            )

    def _require_open(self, c: sqlite3.Connection, response_id: str) -> str:
        """The open response's language; an error when it is missing or final."""
        row = c.execute("SELECT status, lang FROM responses WHERE id = ?",
                        (response_id,)).fetchone()
        if row is None:
            raise StoreError(f"no response {response_id}")
        if row[0] != "open":
            raise StoreError(f"response {response_id} is already final ({row[0]})")
        return str(row[1])

    def finalise(self, response_id: str, status: Status, finished_at: datetime) -> int:
        """Make a response final with the next sequence number; returns the number."""
        if Status(status) not in FINAL_STATUSES:
            raise ValueError(f"not a final status: {status!r}")
        with self.write() as c:
            self._require_open(c, response_id)
            seq = int(c.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
            c.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq + 1),))
            c.execute(
                "UPDATE responses SET status = ?, finished_at = ?, seq = ? WHERE id = ?",
                (status, _iso(finished_at), seq, response_id),
            )
        return seq

    def open_responses(self, channel: Channel | None = None) -> list[Response]:
        """Responses not yet final (e.g. to abandon them after a restart)."""
        where = "status = 'open'" + (" AND channel = ?" if channel else "")
        params = (str(channel),) if channel else ()
        return self._responses(where + " ORDER BY started_at", params)

    # -- reading for sync ----------------------------------------------------

    def _answers(self, ids: Sequence[str]) -> dict[str, dict[str, Answer]]:
        out: dict[str, dict[str, Answer]] = {rid: {} for rid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for rid, question, value, text in self.conn.execute(
                f"SELECT response_id, question, value, text FROM answers "
                f"WHERE response_id IN ({marks}) ORDER BY response_id, answered_at",
                tuple(chunk),
            ):
                out[rid][question] = Answer(value, text)
        return out

    def _responses(self, where: str, params: Sequence[str | int]) -> list[Response]:
        rows = self.conn.execute(
            f"SELECT {', '.join(_RESPONSE_COLUMNS)} FROM responses WHERE {where}", tuple(params)
        ).fetchall()
        answers = self._answers([row[0] for row in rows])
        return [_response(row, answers[row[0]]) for row in rows]

    def get(self, response_id: str) -> Response | None:
        """One response (open or final), or None."""
        found = self._responses("id = ?", (response_id,))
        return found[0] if found else None

    def unsynced(self, limit: int = 500, after_seq: int = 0) -> list[Response]:
        """Final responses not yet acknowledged by the central, in sequence order."""
        return self._responses(
            "seq IS NOT NULL AND synced_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )

    def mark_synced(self, response_ids: Sequence[str], batch: str, at: datetime) -> int:
        """Mark responses acknowledged by the central; returns how many changed."""
        changed = 0
        with self.write() as c:
            for start in range(0, len(response_ids), 500):
                chunk = tuple(response_ids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                cur = c.execute(
                    f"UPDATE responses SET synced_at = ?, batch = ? WHERE synced_at IS NULL "
                    f"AND seq IS NOT NULL AND id IN ({marks})",
                    (_iso(at), batch, *chunk),
                )
                changed += cur.rowcount
        return changed

    def queue_depth(self) -> int:
        """How many final responses wait for the central's ack."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM responses WHERE seq IS NOT NULL AND synced_at IS NULL"
        ).fetchone()
        return int(row[0])

    def oldest_unsynced(self) -> str | None:
        """finished_at of the oldest final unsynced response, or None."""
        row = self.conn.execute(
            "SELECT finished_at FROM responses WHERE seq IS NOT NULL AND synced_at IS NULL "
            "ORDER BY seq LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def counts(self) -> dict[str, int]:
        """Responses by status, plus `synced` and `unsynced` (for status screens)."""
        out = {s: 0 for s in ("open", *sorted(str(f) for f in FINAL_STATUSES))}
        for status, n in self.conn.execute("SELECT status, COUNT(*) FROM responses GROUP BY 1"):
            out[status] = n
        out["unsynced"] = self.queue_depth()
        out["synced"] = int(self.conn.execute(
            "SELECT COUNT(*) FROM responses WHERE synced_at IS NOT NULL").fetchone()[0])
        return out

    def integrity_check(self) -> str:
        """`PRAGMA integrity_check`: 'ok' when the file is sound."""
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- small key/value state for the services --------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value),
            )
