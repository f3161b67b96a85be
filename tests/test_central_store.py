"""The central store on SQLite and PostgreSQL: idempotent inserts, derived columns, migrations."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from central.schema import POSTGRES_SCHEMA, SCHEMA_VERSION, SQLITE_SCHEMA
from central.store import (
    CentralStoreDataError,
    CentralStoreError,
    NewerCentralSchemaError,
    open_central,
    response_row,
    stored_answers,
)
from survey.db import USER_VERSION_RETIRED
from survey.response import Response, decode_response, encode_answers


def wire(n: int = 0, **over: Any) -> Response:
    """A final response, made through the wire decoder (fields in `over` as on the wire)."""
    resp: dict[str, Any] = {
        "id": str(uuid.uuid4()), "device": "tays-lobby-3", "site": "tays",
        "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
        "survey": "national", "survey_version": 3, "lang": "fi",
        "started_at": "2025-03-04T10:15:02+02:00", "finished_at": "2025-03-04T10:15:40+02:00",
        "status": "complete", "seq": n + 1,
        "answers": {"nps": {"value": 9}, "open": {"text": "Ystävällinen hoitaja"},
                    "s1": {"value": 5}},
        "flags": ["repeat_press"],
    }
    resp.update(over)
    return decode_response(resp)


def test_insert_is_idempotent_and_counts_new(central_url: str) -> None:
    batch = [wire(i) for i in range(50)]
    with open_central(central_url) as db:
        assert db.insert_responses(batch) == 50
        assert db.insert_responses(batch) == 0
        extra = wire(99)
        assert db.insert_responses([*batch[:5], extra, extra]) == 1
        assert db.response_ids() == {r.id for r in [*batch, extra]}
        assert db.count_responses() == 51


def test_postgres_batch_met_by_another_receiver_is_upserted(pg_server: Any) -> None:
    """Two receivers store the same responses at once: the one whose look-up saw them
    missing meets them at COPY, and the batch then goes in through the upsert."""
    url = pg_server.create_database(f"race_{uuid.uuid4().hex[:8]}")
    batch = [wire(i) for i in range(20)]
    with open_central(url) as first, open_central(url) as second:
        assert first.insert_responses(batch[:5]) == 5
        # The other receiver committed after our look-up: it saw none of them.
        second._stored_ids = lambda cur, ids: set()  # type: ignore[attr-defined]
        assert second.insert_responses(batch) == 15
        assert second.count_responses() == 20
        rows = second.execute("SELECT COUNT(*) FROM statement_answers")
        assert rows[0][0] == 20  # one statement each, none twice


def test_derived_columns(central_url: str) -> None:
    late = wire(1, finished_at="2025-03-04T23:30:00+00:00",
                answers={"smile": {"value": 4}, "open": {"text": "  "}})
    early = wire(2)
    with open_central(central_url) as db:
        db.insert_responses([late, early])
        ph = db.placeholder
        rows = db.execute(
            f"SELECT local_date, nps, has_text, finished_at FROM responses WHERE id = {ph}",
            (late.id,))
        local_date, nps, has_text, finished = rows[0]
        # 23:30 UTC is already the next day in Helsinki.
        assert str(local_date) == "2025-03-05"
        assert nps is None
        assert not has_text
        if db.dialect == "sqlite":
            assert finished == "2025-03-04T23:30:00+00:00"
        else:
            assert finished == datetime(2025, 3, 4, 23, 30, tzinfo=UTC)
        rows = db.execute(f"SELECT nps, has_text FROM responses WHERE id = {ph}", (early.id,))
        assert rows[0][0] == 9 and bool(rows[0][1])
        stmts = db.execute("SELECT response_id, question, value FROM statement_answers "
                           "ORDER BY question")
        assert sorted(stmts) == sorted([(early.id, "s1", 5), (late.id, "smile", 4)])


def test_quarantine_and_device_status(central_url: str) -> None:
    at = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    with open_central(central_url) as db:
        db.quarantine("palaute/v1/a/b/responses", "not JSON", b"\x00\xffgarbage", at)
        assert db.quarantined() == [("palaute/v1/a/b/responses", "not JSON", b"\x00\xffgarbage")]
        db.upsert_device_status("d1", "tays", {"state": "online", "queue": 3}, at)
        db.upsert_device_status("d1", "tays", {"state": "offline"}, at)
        assert db.device_statuses() == {"d1": {"state": "offline"}}


def test_reopen_keeps_data_and_schema(central_url: str) -> None:
    r = wire(1)
    with open_central(central_url) as db:
        db.insert_responses([r])
        version = db.schema_version
    with open_central(central_url) as db:
        assert db.schema_version == version >= 1
        assert db.response_ids() == {r.id}
        answers = db.execute("SELECT answers FROM responses")[0][0]
        parsed = answers if isinstance(answers, dict) else json.loads(answers)
        assert parsed == encode_answers(r.answers)


def test_newer_sqlite_schema_is_refused(tmp_path: Any) -> None:
    import sqlite3

    path = tmp_path / "c.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(CentralStoreError, match="newer palaute"):
        open_central(f"sqlite:///{path}")


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(CentralStoreError, match="unsupported database URL"):
        open_central("mysql://x")


def test_response_row_local_date_is_helsinki() -> None:
    row = response_row(wire(finished_at="2025-06-30T21:30:00Z"), datetime.now(UTC))
    assert row.values["local_date"] == date(2025, 7, 1)


def test_postgres_reconnects_after_losing_its_connection(pg_server: Any) -> None:
    url = pg_server.create_database(f"reconnect_{uuid.uuid4().hex[:8]}")
    with open_central(url) as db:
        db.insert_responses([wire(1)])
        pid = db.execute("SELECT pg_backend_pid()")[0][0]
        with open_central(url) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(CentralStoreError):
            db.insert_responses([wire(2)])  # this one finds the connection gone: not stored
        assert db.insert_responses([wire(3)]) == 1
        assert db.count_responses() == 2


# -- migrations: the central's versions in schema_versions, adopted from the old layout ------

_OLD_ROW = ("r1", "d1", "tays", "sairaala", "ensiapu", "kiosk", "national", 3, "fi",
            "2025-03-04T08:00:00+00:00", "2025-03-04T08:01:00+00:00", "2025-03-04", "complete",
            1, 9, 0, "[]", "{}", "2025-03-04T08:02:00+00:00")


def test_both_dialects_have_the_same_migrations() -> None:
    assert [m.name for m in SQLITE_SCHEMA.migrations] == [
        m.name for m in POSTGRES_SCHEMA.migrations]


def test_sqlite_central_of_the_old_layout_is_adopted(tmp_path: Any) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    SQLITE_SCHEMA.migrations[0].apply(conn)  # what the old code ran, then user_version = 1
    conn.execute(f"INSERT INTO responses VALUES ({','.join('?' * len(_OLD_ROW))})", _OLD_ROW)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with open_central(f"sqlite:///{path}") as db:
        assert db.response_ids() == {"r1"} and db.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == USER_VERSION_RETIRED
    conn.execute("UPDATE schema_versions SET version = 99")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerCentralSchemaError, match="newer palaute"):
        open_central(f"sqlite:///{path}")
    assert path.read_bytes() == before


def _pg(url: str, *sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    rows: list[tuple[Any, ...]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in sql:
            cur = conn.execute(statement)
            rows = cur.fetchall() if cur.description else []
    return rows


def test_postgres_central_of_the_old_layout_is_adopted(pg_server: Any) -> None:
    import psycopg

    url = pg_server.create_database(f"old_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(url) as conn, conn.cursor() as cur:  # as the old code left it
        cur.execute("CREATE TABLE palaute_schema (version INTEGER NOT NULL)")
        cur.execute("INSERT INTO palaute_schema (version) VALUES (1)")
        POSTGRES_SCHEMA.migrations[0].apply(cur)
        cur.execute("INSERT INTO responses VALUES (" + ",".join(["%s"] * len(_OLD_ROW)) + ")",
                    (*_OLD_ROW[:12], *_OLD_ROW[12:15], False, *_OLD_ROW[16:]))
    with open_central(url) as db:
        assert db.response_ids() == {"r1"} and db.schema_version == SCHEMA_VERSION
    # A palaute of the old layout reads palaute_schema and refuses what it does not know.
    assert _pg(url, "SELECT version FROM palaute_schema") == [(USER_VERSION_RETIRED,)]
    with open_central(url) as db:
        assert db.count_responses() == 1


def test_newer_postgres_central_is_refused_untouched(pg_server: Any) -> None:
    url = pg_server.create_database(f"newer_{uuid.uuid4().hex[:8]}")
    open_central(url).close()
    _pg(url, "UPDATE schema_versions SET version = 99")
    tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    before = _pg(url, tables)
    with pytest.raises(NewerCentralSchemaError, match=r"central schema .* newer palaute"):
        open_central(url)
    assert _pg(url, tables) == before
    assert _pg(url, "SELECT component, version FROM schema_versions") == [("central", 99)]


def test_stored_answers_read_back_as_answers_and_damage_is_named() -> None:
    r = wire(1)
    row = response_row(r, datetime.now(UTC))
    assert stored_answers(row.values["answers"]) == r.answers
    assert stored_answers(json.loads(str(row.values["answers"]))) == r.answers  # JSONB: a dict
    for damaged in ("{not json", '{"nps": {"value": "9"}}', "[]"):
        with pytest.raises(CentralStoreDataError, match="stored answers"):
            stored_answers(damaged)
