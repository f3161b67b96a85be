"""The local store: one SQLite file per device, safe across power cuts.

WAL mode with `synchronous=FULL`: once a write method returns, the row is on
disk. The schema version lives in `PRAGMA user_version`; migrations only go
forward, and a file from a newer palaute is refused untouched.

A response is written at its first answer (`start_response` + `set_answer`)
and becomes final (complete, abandoned, expired) with `finalise`, which gives
it the next sequence number. The sync agent reads final unsynced responses in
sequence order and marks them synced when the central has acknowledged them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from survey.config import DeviceIdentity
from survey.errors import NewerSchemaError, StoreError

log = logging.getLogger(__name__)

FINAL_STATUSES = frozenset({"complete", "abandoned", "expired"})
CHANNELS = frozenset({"kiosk", "kiosk-audio", "sms"})
BUSY_TIMEOUT_MS = 10_000

Migration = Callable[[sqlite3.Connection], None]


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run `;`-separated DDL inside the current transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _m1_responses(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
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
    )


# Forward-only: append, never edit or reorder. Index i brings the file to
# user_version i + 1. Other parts (the SMS gateway) append their tables here.
def _m2_sms_gateway(conn: sqlite3.Connection) -> None:
    # The SMS gateway's own tables (sms_gateway/gateway_store.py reads and writes them).
    # Phone numbers are NULLed once their invitation/session/message is no longer live;
    # *_hash columns are HMAC-SHA256 under the device's key.
    run_script(
        conn,
        """
        CREATE TABLE sms_invitations (
            id INTEGER PRIMARY KEY,
            dedup TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            unit TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('visit', 'call')),
            lang TEXT NOT NULL,
            event_at TEXT NOT NULL,
            deadline TEXT NOT NULL,
            phone TEXT,
            phone_hash TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent',
                'unknown', 'expired', 'failed', 'optedout')),
            created_at TEXT NOT NULL,
            not_before TEXT,
            session_id INTEGER,
            modem TEXT,
            sending_at TEXT,
            sent_at TEXT,
            delivered_at TEXT,
            delivery TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX sms_invitations_state ON sms_invitations (state, event_at);
        CREATE TABLE sms_sessions (
            id INTEGER PRIMARY KEY,
            invitation_id INTEGER,
            phone TEXT,
            phone_hash TEXT NOT NULL,
            unit TEXT NOT NULL,
            survey TEXT NOT NULL,
            survey_version INTEGER NOT NULL,
            lang TEXT NOT NULL,
            response_id TEXT NOT NULL,
            state TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'live'
                CHECK (status IN ('live', 'complete', 'expired', 'optedout', 'cancelled')),
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sms_sessions_live ON sms_sessions (phone_hash) WHERE status = 'live';
        CREATE TABLE sms_outbox (
            id INTEGER PRIMARY KEY,
            session_id INTEGER,
            phone TEXT,
            phone_hash TEXT NOT NULL,
            purpose TEXT NOT NULL,
            text TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'sending', 'sent', 'unknown', 'failed')),
            created_at TEXT NOT NULL,
            not_before TEXT,
            modem TEXT,
            sending_at TEXT,
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX sms_outbox_state ON sms_outbox (state, id);
        CREATE TABLE sms_refs (
            modem TEXT NOT NULL,
            ref INTEGER NOT NULL,
            invitation_id INTEGER,
            outbox_id INTEGER,
            sent_at TEXT NOT NULL
        );
        CREATE INDEX sms_refs_modem_ref ON sms_refs (modem, ref, sent_at);
        CREATE TABLE sms_inbox (
            id INTEGER PRIMARY KEY,
            modem TEXT NOT NULL,
            sender TEXT,
            sender_hash TEXT NOT NULL,
            scts TEXT NOT NULL,
            ref INTEGER NOT NULL,
            total INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            digest TEXT NOT NULL,
            text TEXT,
            received_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
            message_id INTEGER,
            UNIQUE (sender_hash, scts, ref, seq, digest)
        );
        CREATE INDEX sms_inbox_pending ON sms_inbox (state) WHERE state = 'pending';
        CREATE TABLE sms_messages (
            id INTEGER PRIMARY KEY,
            sender_hash TEXT NOT NULL,
            session_id INTEGER,
            text TEXT NOT NULL,
            parts INTEGER NOT NULL,
            missing INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            received_at TEXT NOT NULL,
            processed_at TEXT NOT NULL
        );
        CREATE TABLE sms_optouts (
            phone_hash TEXT PRIMARY KEY,
            at TEXT NOT NULL
        );
        CREATE TABLE sms_counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        CREATE TABLE sms_rejects (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """
    )


def _m3_sms_daily_counters(conn: sqlite3.Connection) -> None:
    # Per-day SMS counters (Europe/Helsinki dates), so that central reports can show the
    # funnel of a period and notice a response rate that drops.
    run_script(
        conn,
        """
        CREATE TABLE sms_counters_daily (
            day TEXT NOT NULL,
            name TEXT NOT NULL,
            value INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, name)
        )
        """,
    )


MIGRATIONS: list[Migration] = [_m1_responses, _m2_sms_gateway, _m3_sms_daily_counters]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Answer:
    """One answer of a response: an integer value and/or a text."""

    question: str
    value: int | None
    text: str | None


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
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(
                f"{self.path}: written by a newer palaute (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade palaute on this device. The file was not changed."
            )
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch the store to WAL mode (got {mode})")
        c.execute("PRAGMA synchronous = FULL")
        c.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        with self.write() as c:
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = c.execute("PRAGMA user_version").fetchone()[0]
            for index in range(current, SCHEMA_VERSION):
                log.info("%s: migrating store schema %d -> %d", self.path, index, index + 1)
                MIGRATIONS[index](c)
                c.execute(f"PRAGMA user_version = {index + 1}")

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT); rolled back on error."""
        c = self.conn
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._explain(exc) from None
        try:
            yield c
        except sqlite3.Error as exc:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise self._explain(exc) from None
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        try:
            c.execute("COMMIT")
        except sqlite3.Error as exc:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise self._explain(exc) from None

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
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- writing responses -------------------------------------------------

    def start_response(
        self,
        origin: DeviceIdentity,
        *,
        channel: str,
        survey: str,
        survey_version: int,
        lang: str,
        started_at: datetime,
        response_id: str | None = None,
        flags: Sequence[str] = (),
    ) -> str:
        """Create an open response and return its id (call at its first answer)."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
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
        """Store (or replace) one answer of an open response."""
        if value is None and text is None:
            raise ValueError("an answer needs a value or a text")
        with self.write() as c:
            self._require_open(c, response_id)
            c.execute(
                "INSERT INTO answers (response_id, question, value, text, answered_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (response_id, question) DO UPDATE SET "
                "value = excluded.value, text = excluded.text, answered_at = excluded.answered_at",
                (response_id, question, value, text, _iso(at)),
            )

    def add_flags(self, response_id: str, *flags: str) -> None:
        """Add flags (e.g. `repeat_press`, `burst`) to a response."""
        with self.write() as c:
            row = c.execute("SELECT flags FROM responses WHERE id = ?", (response_id,)).fetchone()
            if row is None:
                raise StoreError(f"no response {response_id}")
            merged = sorted(set(json.loads(row[0])) | set(flags))
            c.execute(
                "UPDATE responses SET flags = ? WHERE id = ?", (json.dumps(merged), response_id)
            )

    def _require_open(self, c: sqlite3.Connection, response_id: str) -> None:
        row = c.execute("SELECT status FROM responses WHERE id = ?", (response_id,)).fetchone()
        if row is None:
            raise StoreError(f"no response {response_id}")
        if row[0] != "open":
            raise StoreError(f"response {response_id} is already final ({row[0]})")

    def finalise(self, response_id: str, status: str, finished_at: datetime) -> int:
        """Make a response final with the next sequence number; returns the number."""
        if status not in FINAL_STATUSES:
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

    def open_responses(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Responses not yet final (e.g. to abandon them after a restart)."""
        sql = "SELECT * FROM responses WHERE status = 'open'"
        params: tuple[Any, ...] = ()
        if channel:
            sql += " AND channel = ?"
            params = (channel,)
        return [self._wire(row) for row in self.db.query(sql + " ORDER BY started_at", params)]

    # -- reading for sync ----------------------------------------------------

    def _answers(self, ids: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
        out: dict[str, dict[str, dict[str, Any]]] = {rid: {} for rid in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT response_id, question, value, text FROM answers "
                f"WHERE response_id IN ({marks}) ORDER BY response_id, answered_at",
                tuple(chunk),
            ):
                entry: dict[str, Any] = {}
                if row[2] is not None:
                    entry["value"] = row[2]
                if row[3] is not None:
                    entry["text"] = row[3]
                out[row[0]][row[1]] = entry
        return out

    def _wire(self, row: dict[str, Any], answers: dict[str, Any] | None = None) -> dict[str, Any]:
        if answers is None:
            answers = self._answers([row["id"]])[row["id"]]
        return {
            "id": row["id"], "device": row["device"], "site": row["site"], "area": row["area"],
            "unit": row["unit"], "channel": row["channel"], "survey": row["survey"],
            "survey_version": row["survey_version"], "lang": row["lang"],
            "started_at": row["started_at"], "finished_at": row["finished_at"],
            "status": row["status"], "seq": row["seq"], "answers": answers,
            "flags": json.loads(row["flags"]),
        }

    def get(self, response_id: str) -> dict[str, Any] | None:
        """One response in wire format (plus nothing local), or None."""
        rows = list(self.db.query("SELECT * FROM responses WHERE id = ?", (response_id,)))
        return self._wire(rows[0]) if rows else None

    def unsynced(self, limit: int = 500, after_seq: int = 0) -> list[dict[str, Any]]:
        """Final responses not yet acknowledged by the central, in sequence order."""
        rows = list(self.db.query(
            "SELECT * FROM responses WHERE seq IS NOT NULL AND synced_at IS NULL AND seq > ? "
            "ORDER BY seq LIMIT ?", (after_seq, limit),
        ))
        answers = self._answers([r["id"] for r in rows])
        return [self._wire(r, answers[r["id"]]) for r in rows]

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
        out = {s: 0 for s in ("open", *sorted(FINAL_STATUSES))}
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
