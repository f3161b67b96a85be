"""The central store: every response from every device, once, in SQLite or PostgreSQL.

`open_central(url)` opens "sqlite:///relative.sqlite", "sqlite:////abs/path.sqlite" or
"postgresql://…" (psycopg 3). Responses are keyed by their UUID and inserted with
`ON CONFLICT DO NOTHING`, so a batch delivered twice changes nothing the second time.
Reports read through `execute(sql, params)` using `placeholder` for parameters.

Columns meant for reports: `local_date` is the Europe/Helsinki calendar date of
`finished_at` (grouping by day and month without time-zone arithmetic in SQL),
`nps` the NPS answer, `has_text` whether any answer carries text, and the table
`statement_answers` holds every other integer answer (statements, smileys).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from central.schema import (
    LEGACY_VERSION_MAX,
    POSTGRES_SCHEMA,
    SQLITE_SCHEMA,
)
from central.text_labels import TextLabel, new_labels, write_labels
from survey.db import (
    USER_VERSION_RETIRED,
    installed_version,
    legacy_user_version,
    migrate,
    record_versions,
    refuse_newer,
    retire_user_version,
    transaction,
)
from survey.errors import NewerSchemaError, PalauteError
from survey.redact import redact_response
from survey.response import NPS_QUESTION, Answer, Response, decode_answers, encode_answers

log = logging.getLogger(__name__)

LOCAL_ZONE = ZoneInfo("Europe/Helsinki")
BUSY_TIMEOUT_MS = 10_000
HISTORY_DAYS = 8  # status messages kept per device (the device page shows 7 days)

# Column order of `responses` as written by insert_responses (and COPY on PostgreSQL).
RESPONSE_COLUMNS = (
    "id", "device", "site", "area", "unit", "channel", "survey", "survey_version", "lang",
    "started_at", "finished_at", "local_date", "status", "seq", "nps", "has_text", "flags",
    "answers", "received_at",
)


class CentralStoreError(PalauteError):
    """The central store cannot be opened, migrated or written."""


class CentralStoreDataError(CentralStoreError):
    """The database refused the data itself (retrying the same data cannot help)."""


class CentralStoreUnavailable(CentralStoreError):
    """The database cannot be reached now (server down, disk not mounted): worth waiting for."""


class NewerCentralSchemaError(CentralStoreError):
    """The central database was written by a newer palaute than this one."""


# -- pure conversion of wire responses to rows ----------------------------------


def iso_utc(ts: datetime) -> str:
    """The SQLite text form of a timestamp: UTC, seconds, "+00:00"."""
    return ts.astimezone(UTC).isoformat(timespec="seconds")


def local_date_of(ts: datetime) -> date:
    """The Europe/Helsinki calendar date of an aware timestamp."""
    return ts.astimezone(LOCAL_ZONE).date()


def stored_answers(value: object) -> dict[str, Answer]:
    """The `answers` column read back (JSON text on SQLite, JSONB's object on PostgreSQL)."""
    try:
        data = json.loads(value) if isinstance(value, str | bytes) else value
    except ValueError as exc:
        raise CentralStoreDataError(f"stored answers are not JSON: {exc}") from None
    answers = decode_answers(data)
    if isinstance(answers, str):  # written by encode_answers: only a damaged row gets here
        raise CentralStoreDataError(f"stored answers cannot be read: {answers}")
    return answers


def statement_values(answers: Mapping[str, Answer]) -> list[tuple[str, int]]:
    """Every integer answer except the NPS one, as (question, value)."""
    return [(question, answer.value) for question, answer in answers.items()
            if question != NPS_QUESTION and answer.value is not None]


# One column's value as the drivers take it.
ColumnValue = str | int | bool | datetime | date | None


@dataclass(frozen=True)
class QuarantineOverflow:
    """One device's day on which the quarantine limit was reached."""

    device: str
    day: date
    stored: int
    stored_bytes: int
    dropped: int
    dropped_bytes: int


@dataclass(frozen=True)
class ResponseRow:
    """One response made ready for the central tables (values in RESPONSE_COLUMNS order)."""

    id: str
    values: dict[str, ColumnValue]
    statements: list[tuple[str, int]]


def response_row(resp: Response, received_at: datetime) -> ResponseRow:
    """Turn one final response into column values (timestamps as aware UTC datetimes)."""
    if resp.finished_at is None or not resp.status.is_final:
        raise ValueError(f"response {resp.id} is not final and cannot be stored centrally")
    finished = resp.finished_at.astimezone(UTC)
    values: dict[str, ColumnValue] = {
        "id": resp.id, "device": resp.device, "site": resp.site,
        "area": resp.area, "unit": resp.unit, "channel": str(resp.channel),
        "survey": resp.survey, "survey_version": resp.survey_version,
        "lang": resp.lang, "started_at": resp.started_at.astimezone(UTC), "finished_at": finished,
        "local_date": local_date_of(finished), "status": str(resp.status),
        "seq": resp.seq, "nps": resp.nps, "has_text": resp.has_text,
        "flags": json.dumps(sorted(resp.flags), ensure_ascii=False),
        "answers": json.dumps(encode_answers(resp.answers), ensure_ascii=False, sort_keys=True),
        "received_at": received_at.astimezone(UTC),
    }
    return ResponseRow(resp.id, values, statement_values(resp.answers))


# -- schema (central/schema.py) ----------------------------------------------------

@contextlib.contextmanager
def _newer_is_central() -> Iterator[None]:
    try:
        yield
    except NewerSchemaError as exc:
        raise NewerCentralSchemaError(str(exc)) from None


# -- the store ---------------------------------------------------------------------


class CentralStore:
    """Common interface of the central store; see open_central. A context manager."""

    dialect: str = ""
    placeholder: str = "?"

    def __init__(self) -> None:
        # One connection shared by the receiver's worker and report queries.
        self._lock = threading.RLock()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and return all its rows."""
        raise NotImplementedError

    def insert_responses(
        self, responses: Sequence[Response], *, received_at: datetime | None = None
    ) -> int:
        """Store final responses, skipping ids already present; returns how many were new.

        Their texts are redacted again here, for the receiver and `central import` alike:
        a second line behind the devices' own, for data from older devices and imports.
        """
        at = received_at or datetime.now(UTC)
        rows = [response_row(redact_response(r), at) for r in responses]
        if not rows:
            return 0
        # Labelled before the transaction (the classifier is slow): the labels commit
        # with their responses, one durable commit a batch.
        labels = new_labels(responses)
        with self._lock:
            return self._insert_rows(rows, labels)

    def _insert_rows(self, rows: list[ResponseRow], labels: Sequence[TextLabel] = ()) -> int:
        """Store the rows not stored yet and (re)write `labels`, in one transaction."""
        raise NotImplementedError

    def write_transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction (holding the store's lock); yields something with
        execute(sql, params)."""
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction; yields something with execute(sql, params)."""
        raise NotImplementedError

    def quarantine(self, topic: str, reason: str, payload: bytes, received_at: datetime, *,
                   device: str = "", limit: int | None = None) -> bool:
        """Keep a message that could not be processed, with why; False when not kept.

        What `device` had kept on the day of `received_at` (local time) is counted;
        past `limit` bytes a day the message is only counted as dropped.
        """
        p = self.placeholder
        day = local_date_of(received_at).isoformat()
        size = len(payload) + len(topic.encode()) + len(reason.encode())
        with self._lock, self.transaction() as c:
            c.execute(f"INSERT INTO quarantine_budget (device, day) VALUES ({p}, {p}) "
                      "ON CONFLICT (device, day) DO NOTHING", (device, day))
            lock = " FOR UPDATE" if self.dialect == "postgresql" else ""
            used = c.execute(f"SELECT stored_bytes FROM quarantine_budget WHERE device = {p} "
                             f"AND day = {p}{lock}", (device, day)).fetchone()[0]
            if limit is not None and int(used) + size > limit:
                c.execute(f"UPDATE quarantine_budget SET dropped = dropped + 1, "
                          f"dropped_bytes = dropped_bytes + {p} WHERE device = {p} AND day = {p}",
                          (size, device, day))
                return False
            at: Any = iso_utc(received_at) if self.dialect == "sqlite" else received_at
            c.execute(f"INSERT INTO quarantine (received_at, topic, reason, payload) "
                      f"VALUES ({p}, {p}, {p}, {p})", (at, topic, reason, bytes(payload)))
            c.execute(f"UPDATE quarantine_budget SET stored = stored + 1, "
                      f"stored_bytes = stored_bytes + {p} WHERE device = {p} AND day = {p}",
                      (size, device, day))
        return True

    def quarantine_overflows(self, start: date, end: date) -> list[QuarantineOverflow]:
        """Days in [start, end] on which some device's refused messages were only counted."""
        p = self.placeholder
        rows = self.execute(
            "SELECT device, day, stored, stored_bytes, dropped, dropped_bytes "
            f"FROM quarantine_budget WHERE dropped > 0 AND day BETWEEN {p} AND {p} "
            "ORDER BY day, device", (start.isoformat(), end.isoformat()))
        return [QuarantineOverflow(str(d), date.fromisoformat(str(day)), int(s), int(sb),
                                   int(n), int(nb)) for d, day, s, sb, n, nb in rows]

    def upsert_device_status(
        self, device: str, site: str, payload: dict[str, Any], at: datetime
    ) -> None:
        """Record the latest status message of a device."""
        raise NotImplementedError

    def response_ids(self) -> set[str]:
        """Every response id in the store."""
        return {row[0] for row in self.execute("SELECT id FROM responses")}

    def count_responses(self) -> int:
        """How many responses the store holds."""
        return int(self.execute("SELECT COUNT(*) FROM responses")[0][0])

    def quarantined(self) -> list[tuple[str, str, bytes]]:
        """(topic, reason, payload) of every quarantined message, oldest first."""
        return [
            (str(t), str(r), bytes(p))
            for t, r, p in self.execute("SELECT topic, reason, payload FROM quarantine ORDER BY id")
        ]

    def device_statuses(self) -> dict[str, dict[str, Any]]:
        """The latest status payload of each device, by device id."""
        out = {}
        for device, payload in self.execute("SELECT device, payload FROM device_status"):
            out[str(device)] = payload if isinstance(payload, dict) else json.loads(payload)
        return out

    @property
    def schema_version(self) -> int:
        """The installed version of the central's tables."""
        raise NotImplementedError

    def run_statements(self, statements: Sequence[str]) -> None:
        """Run statements without parameters (DDL or DML) as one write transaction."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection; safe to call twice."""

    def __enter__(self) -> CentralStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _add_history(c: Any, p: str, device: str, payload: dict[str, Any], at: datetime) -> None:
    """Keep one status message in `status_history` and forget the device's rows older than
    HISTORY_DAYS (in the status's own transaction)."""
    c.execute(f"INSERT INTO status_history (device, at, state, payload) VALUES ({p},{p},{p},{p})",
              (device, iso_utc(at), str(payload.get("state", "")),
               json.dumps(payload, ensure_ascii=False)))
    c.execute(f"DELETE FROM status_history WHERE device = {p} AND at < {p}",
              (device, iso_utc(at - timedelta(days=HISTORY_DAYS))))


class SqliteCentralStore(CentralStore):
    """The central store in one SQLite file (WAL, synchronous=FULL: an ack means on disk)."""

    dialect = "sqlite"
    placeholder = "?"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CentralStoreUnavailable(
                    f"{self.path}: cannot create its folder: {exc}") from None
        try:
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise CentralStoreUnavailable(
                f"{self.path}: cannot open the central store: {exc}") from None
        try:
            self._setup()
        except sqlite3.Error as exc:
            self.conn.close()
            raise CentralStoreError(f"{self.path}: central store error: {exc}") from None
        except CentralStoreError:
            self.conn.close()
            raise

    def _setup(self) -> None:
        c = self.conn
        c.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        with _newer_is_central():
            # Refuse a newer file before anything is written to it.
            legacy = legacy_user_version(c, LEGACY_VERSION_MAX, self.path)
            if legacy is None:
                refuse_newer(SQLITE_SCHEMA, installed_version(c, "central"), self.path)
            if self.path != ":memory:":
                c.execute("PRAGMA journal_mode = WAL")
            c.execute("PRAGMA synchronous = FULL")
            if legacy is None and installed_version(c, "central") == SQLITE_SCHEMA.version:
                return
            with self._write() as w:
                legacy = legacy_user_version(w, LEGACY_VERSION_MAX, self.path)
                if legacy is not None:
                    retire_user_version(w, {"central": legacy})
                migrate(w, SQLITE_SCHEMA, self.path)

    def _explain(self, exc: sqlite3.Error) -> CentralStoreError:
        if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
            return CentralStoreDataError(f"{self.path}: refused the data: {exc}")
        return CentralStoreError(f"{self.path}: central store error: {exc}")

    def write_transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self._write()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, transaction(self.conn, explain=self._explain) as c:
            yield c

    def run_statements(self, statements: Sequence[str]) -> None:
        with self._write() as c:
            for sql in statements:
                c.execute(sql)

    @property
    def schema_version(self) -> int:
        with self._lock:
            return installed_version(self.conn, "central")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return [tuple(r) for r in self.conn.execute(sql, tuple(params)).fetchall()]
            except sqlite3.Error as exc:
                raise CentralStoreError(f"{self.path}: query failed: {exc}") from exc

    @staticmethod
    def _sqlite_value(value: ColumnValue) -> str | int | None:
        if isinstance(value, datetime):
            return iso_utc(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
        return value

    def _insert_rows(self, rows: list[ResponseRow], labels: Sequence[TextLabel] = ()) -> int:
        """One transaction, one statement per table: the ids already stored are looked
        up first (a batch delivered twice), the rest go in by executemany."""
        cols = ", ".join(RESPONSE_COLUMNS)
        marks = ", ".join("?" * len(RESPONSE_COLUMNS))
        with self._write() as c:
            present: set[str] = set()
            ids = list(dict.fromkeys(row.id for row in rows))
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                present.update(r[0] for r in c.execute(
                    f"SELECT id FROM responses WHERE id IN ({', '.join('?' * len(chunk))})",
                    chunk))
            new_rows = []
            for row in rows:
                if row.id not in present:
                    present.add(row.id)  # the same id twice in one batch counts once
                    new_rows.append(row)
            value = self._sqlite_value
            c.executemany(f"INSERT INTO responses ({cols}) VALUES ({marks})",
                          [tuple(value(row.values[k]) for k in RESPONSE_COLUMNS)
                           for row in new_rows])
            c.executemany("INSERT INTO statement_answers (response_id, question, value) "
                          "VALUES (?, ?, ?)",
                          [(row.id, q, v) for row in new_rows for q, v in row.statements])
            write_labels(c, "?", labels)
        return len(new_rows)

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self._write()

    def upsert_device_status(
        self, device: str, site: str, payload: dict[str, Any], at: datetime
    ) -> None:
        with self._write() as c:
            c.execute(
                "INSERT INTO device_status (device, site, payload, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT (device) DO UPDATE SET site = excluded.site, "
                "payload = excluded.payload, updated_at = excluded.updated_at",
                (device, site, json.dumps(payload, ensure_ascii=False), iso_utc(at)),
            )
            _add_history(c, "?", device, payload, at)

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


class PostgresCentralStore(CentralStore):
    """The central store in PostgreSQL: bulk COPY into a staging table, then an upsert."""

    dialect = "postgresql"
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._psycopg = psycopg
        self.url = url
        try:
            self.conn = psycopg.connect(url, autocommit=False, connect_timeout=10)
        except psycopg.Error as exc:
            raise CentralStoreUnavailable(
                f"cannot connect to PostgreSQL ({_redact(url)}): {exc}".strip()
            ) from None
        try:
            self._migrate()
        except psycopg.Error as exc:
            self.conn.close()
            raise CentralStoreError(f"PostgreSQL schema error: {exc}") from None
        except CentralStoreError:
            self.conn.close()
            raise

    def _migrate(self) -> None:
        # One transaction (DDL included): a refusal or an error leaves the database as it was.
        with _newer_is_central(), self._lock, self.conn.transaction(), \
                self.conn.cursor() as cur:
            # Several receivers may start at once: one migrates, the others wait.
            cur.execute("SELECT pg_advisory_xact_lock(727011)")
            where = f"the database {_redact(self.url)}"
            if installed_version(cur, "central", "postgresql") == 0:
                self._adopt_legacy(cur, where)
            migrate(cur, POSTGRES_SCHEMA, where, "postgresql")

    @staticmethod
    def _adopt_legacy(cur: Any, where: str) -> None:
        """Move the version from palaute_schema (the old layout) to schema_versions."""
        cur.execute("CREATE TABLE IF NOT EXISTS palaute_schema (version INTEGER NOT NULL)")
        row = cur.execute("SELECT version FROM palaute_schema").fetchone()
        legacy = 0 if row is None else int(row[0])
        if legacy > LEGACY_VERSION_MAX:
            raise NewerSchemaError(
                f"{where}: written by a newer palaute (schema {legacy}, this one knows up to "
                f"{LEGACY_VERSION_MAX}); upgrade palaute here. Nothing was changed."
            )
        cur.execute("DELETE FROM palaute_schema")
        cur.execute("INSERT INTO palaute_schema (version) VALUES (%s)", (USER_VERSION_RETIRED,))
        record_versions(cur, {"central": legacy}, "postgresql")

    @property
    def schema_version(self) -> int:
        with self._tx() as cur:
            return installed_version(cur, "central", "postgresql")

    def run_statements(self, statements: Sequence[str]) -> None:
        with self._tx() as cur:
            for sql in statements:
                cur.execute(sql)

    def write_transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self._tx()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            if self.conn.closed or self.conn.broken:
                self._reconnect()
            try:
                with self.conn.transaction(), self.conn.cursor() as cur:
                    yield cur
            except (self._psycopg.DataError, self._psycopg.IntegrityError) as exc:
                raise CentralStoreDataError(f"PostgreSQL refused the data: {exc}") from exc
            except self._psycopg.Error as exc:
                raise CentralStoreError(f"PostgreSQL error: {exc}") from exc

    def _reconnect(self) -> None:
        # After a server restart or a network cut: a new connection, the schema is there.
        log.warning("reconnecting to PostgreSQL (%s)", _redact(self.url))
        try:
            self.conn = self._psycopg.connect(self.url, autocommit=False, connect_timeout=10)
        except self._psycopg.Error as exc:
            raise CentralStoreError(f"cannot reconnect to PostgreSQL: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._tx() as cur:
            cur.execute(sql, tuple(params))
            if cur.description is None:
                return []
            return [tuple(r) for r in cur.fetchall()]

    def _insert_rows(self, rows: list[ResponseRow], labels: Sequence[TextLabel] = ()) -> int:
        """The ids already stored are looked up, the rest COPYed straight into the tables
        (the aggregates' statement triggers see each COPY whole). When another receiver
        stored one of them in between, the batch goes again through the upsert."""
        try:
            return self._copy_new(rows, labels)
        except CentralStoreDataError as exc:
            if not isinstance(exc.__cause__, self._psycopg.errors.UniqueViolation):
                raise
        log.info("a batch met responses another receiver was storing; upserting it")
        return self._upsert_rows(rows, labels)

    def _copy_new(self, rows: list[ResponseRow], labels: Sequence[TextLabel]) -> int:
        cols = ", ".join(RESPONSE_COLUMNS)
        with self._tx() as cur:
            present = self._stored_ids(cur, list(dict.fromkeys(row.id for row in rows)))
            new_rows = []
            for row in rows:
                if row.id not in present:
                    present.add(row.id)  # the same id twice in one batch counts once
                    new_rows.append(row)
            if new_rows:
                with cur.copy(f"COPY responses ({cols}) FROM STDIN") as copy:
                    for row in new_rows:
                        copy.write_row([row.values[k] for k in RESPONSE_COLUMNS])
            if any(row.statements for row in new_rows):
                with cur.copy("COPY statement_answers (response_id, question, value) "
                              "FROM STDIN") as copy:
                    for row in new_rows:
                        for item in row.statements:
                            copy.write_row((row.id, *item))
            write_labels(cur, "%s", labels)
        return len(new_rows)

    @staticmethod
    def _stored_ids(cur: Any, ids: list[str]) -> set[str]:
        cur.execute("SELECT id FROM responses WHERE id = ANY(%s)", (ids,))
        return {r[0] for r in cur.fetchall()}

    def _upsert_rows(self, rows: list[ResponseRow], labels: Sequence[TextLabel]) -> int:
        cols = ", ".join(RESPONSE_COLUMNS)
        with self._tx() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staging_responses "
                "(LIKE responses) ON COMMIT DELETE ROWS"
            )
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staging_statements "
                "(LIKE statement_answers) ON COMMIT DELETE ROWS"
            )
            with cur.copy(f"COPY staging_responses ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row.values[k] for k in RESPONSE_COLUMNS])
            cur.execute(
                f"INSERT INTO responses ({cols}) SELECT DISTINCT ON (id) {cols} "
                "FROM staging_responses ORDER BY id ON CONFLICT (id) DO NOTHING RETURNING id"
            )
            new_ids = {r[0] for r in cur.fetchall()}
            statements = [(row.id, q, v) for row in rows if row.id in new_ids
                          for q, v in row.statements]
            if statements:
                with cur.copy(
                    "COPY staging_statements (response_id, question, value) FROM STDIN"
                ) as copy:
                    for item in statements:
                        copy.write_row(item)
                cur.execute(
                    "INSERT INTO statement_answers (response_id, question, value) "
                    "SELECT DISTINCT ON (response_id, question) response_id, question, value "
                    "FROM staging_statements ORDER BY response_id, question "
                    "ON CONFLICT DO NOTHING"
                )
            write_labels(cur, "%s", labels)
        return len(new_ids)

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return self._tx()

    def upsert_device_status(
        self, device: str, site: str, payload: dict[str, Any], at: datetime
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO device_status (device, site, payload, updated_at) "
                "VALUES (%s, %s, %s::jsonb, %s) ON CONFLICT (device) DO UPDATE SET "
                "site = excluded.site, payload = excluded.payload, "
                "updated_at = excluded.updated_at",
                (device, site, json.dumps(payload, ensure_ascii=False), at),
            )
            _add_history(cur, "%s", device, payload, at)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


def _redact(url: str) -> str:
    """The URL without its password, for error messages."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, cred = head.partition("://")
    user = cred.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"


def open_central(url: str) -> CentralStore:
    """Open (and create or migrate) the central store named by a database URL."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise CentralStoreError(f"{url}: the SQLite URL names no file")
        return SqliteCentralStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresCentralStore(url)
    raise CentralStoreError(
        f"unsupported database URL {_redact(url)!r} (use sqlite:///FILE or postgresql://…)"
    )
