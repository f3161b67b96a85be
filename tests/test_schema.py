"""Each part owns its schema: the core's tables, the SMS gateway's, the central's.

Device files in the field were written with one list of migrations counted in
`PRAGMA user_version` (tests/store_v3.sql is that layout, copied from the old code);
they must open with nothing lost, as a kiosk and as a gateway.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sms_helpers import KEY

from sms_gateway.gateway_store import GatewayStore, sms_daily_counters, sms_status_counters
from sms_gateway.privacy import PhoneHasher
from sms_gateway.schema import SMS_SCHEMA
from survey.db import (
    USER_VERSION_RETIRED,
    Executor,
    Migration,
    Schema,
    installed_version,
    migrate,
    transaction,
)
from survey.errors import NewerSchemaError
from survey.store import CORE_SCHEMA, LEGACY_USER_VERSION_MAX, Store

V3_SQL = (Path(__file__).parent / "store_v3.sql").read_text()
AT = "2025-03-04T08:15:02+00:00"
PHONE = "+358401234567"
HASHER = PhoneHasher(KEY)
# A session's conversation state as the gateway stored it (ConversationState.to_json).
SESSION_STATE = ('{"lang": "fi", "order": ["nps", "open"], "expires_at": '
                 '"2025-03-06T08:15:02+00:00", "index": 1, "reasked": false, '
                 '"answered": ["nps"], "started": true, "status": "live"}')


def old_layout_file(path: Path, user_version: int) -> Path:
    """A store file as the old code left it at `user_version`, with data in every table."""
    blocks = V3_SQL.split("-- migration ")[1:user_version + 1]
    conn = sqlite3.connect(path)
    conn.executescript("".join("-- " + b for b in blocks))
    conn.executescript(f"""
        INSERT INTO responses (id, device, site, area, unit, channel, survey, survey_version,
            lang, started_at, finished_at, status, seq, flags)
        VALUES ('r-final', 'tays-sms-1', 'tays', 'sairaalapalvelut', 'ensiapu', 'sms',
            'national', 3, 'fi', '{AT}', '{AT}', 'complete', 1, '["late"]'),
               ('r-open', 'tays-sms-1', 'tays', 'sairaalapalvelut', 'ensiapu', 'sms',
            'national', 3, 'fi', '{AT}', NULL, 'open', NULL, '[]');
        INSERT INTO answers VALUES ('r-final', 'nps', 9, NULL, '{AT}'),
                                   ('r-final', 'open', NULL, 'Hyvä palvelu', '{AT}'),
                                   ('r-open', 'nps', 4, NULL, '{AT}');
        UPDATE meta SET value = '2' WHERE key = 'next_seq';
    """)
    if user_version >= 2:
        h = HASHER(PHONE)
        conn.executescript(f"""
            INSERT INTO sms_invitations (dedup, source, unit, kind, lang, event_at, deadline,
                phone, phone_hash, state, created_at, session_id)
            VALUES ('d1', 'his', 'ensiapu', 'visit', 'fi', '{AT}', '{AT}', NULL, '{h}', 'sent',
                '{AT}', 1);
            INSERT INTO sms_sessions (invitation_id, phone, phone_hash, unit, survey,
                survey_version, lang, response_id, state, started_at, updated_at, expires_at)
            VALUES (1, '{PHONE}', '{h}', 'ensiapu', 'national', 3, 'fi', 'r-open',
                '{SESSION_STATE}', '{AT}', '{AT}', '2025-03-06T08:15:02+00:00');
            INSERT INTO sms_optouts VALUES ('{HASHER("+358409999999")}', '{AT}');
            INSERT INTO sms_counters VALUES ('invited', 7), ('sent', 6), ('answered', 3);
        """)
    if user_version >= 3:
        conn.execute("INSERT INTO sms_counters_daily VALUES ('2025-03-04', 'invited', 7)")
    conn.commit()
    conn.close()
    return path


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (schema_versions aside), read with a plain connection."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_versions' "
            "ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in tables}
    finally:
        conn.close()


def versions(path: Path) -> tuple[int, dict[str, int]]:
    """(user_version, schema_versions) of a file."""
    conn = sqlite3.connect(path)
    try:
        uv = conn.execute("PRAGMA user_version").fetchone()[0]
        rows = dict(conn.execute("SELECT component, version FROM schema_versions").fetchall())
        return uv, rows
    finally:
        conn.close()


def sms_tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sms%'")}
    finally:
        conn.close()


# -- a new file ------------------------------------------------------------------------


def test_a_kiosk_file_has_only_the_core_tables(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.sqlite"
    with Store(path) as store:
        assert store.schema_version == CORE_SCHEMA.version
        assert store.component_version(SMS_SCHEMA) == 0
        assert sms_status_counters(store)["invited"] == 0  # a kiosk's heartbeat: zeros
        assert sms_daily_counters(store) == {}
    assert sms_tables(path) == set()
    assert versions(path) == (USER_VERSION_RETIRED, {"core": CORE_SCHEMA.version})


def test_a_gateway_adds_its_own_tables_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite"
    with Store(path) as store:
        GatewayStore(store, HASHER)
        GatewayStore(store, HASHER)  # opening again changes nothing
    assert "sms_invitations" in sms_tables(path) and "sms_counters_daily" in sms_tables(path)
    assert versions(path) == (USER_VERSION_RETIRED, {"core": CORE_SCHEMA.version,
                                                     "sms_gateway": SMS_SCHEMA.version})


# -- files of the old layout ------------------------------------------------------------


def test_v3_file_opens_as_a_kiosk_with_nothing_lost(tmp_path: Path) -> None:
    path = old_layout_file(tmp_path / "v3.sqlite", 3)
    before = dump(path)
    with Store(path) as store:
        assert store.queue_depth() == 1
        assert store.counts()["open"] == 1
        # The kiosk keeps writing: the sequence goes on where the old file left it.
        assert store.finalise("r-open", "expired", datetime(2025, 3, 5, tzinfo=UTC)) == 2
    after = dump(path)
    assert dict(after["meta"]) == {**dict(before["meta"]), "legacy_user_version": "3",
                                   "next_seq": "3"}
    for table in before:
        if table not in ("meta", "responses"):
            assert after[table] == before[table], table  # the SMS tables are kept as they were
    assert {r[0] for r in after["responses"]} == {"r-final", "r-open"}
    assert versions(path) == (USER_VERSION_RETIRED, {"core": 1})
    # A palaute of the old layout compares user_version with the 3 it knows: it refuses.
    assert USER_VERSION_RETIRED > LEGACY_USER_VERSION_MAX


def test_v3_file_opens_as_a_gateway_with_its_sessions_and_counters(tmp_path: Path) -> None:
    path = old_layout_file(tmp_path / "v3.sqlite", 3)
    before = dump(path)
    with Store(path) as store:
        gs = GatewayStore(store, HASHER)
        session = gs.live_session(HASHER(PHONE))
        assert session is not None and session.phone == PHONE
        assert session.response_id == "r-open" and session.state.current == "open"
        assert gs.is_opted_out(HASHER("+358409999999"))
        assert gs.counters()["invited"] == 7
        assert sms_daily_counters(store) == {"2025-03-04": {**dict.fromkeys(
            sms_status_counters(store), 0), "invited": 7}}
        assert gs.status()["invitations"] == {"sent": 1}
    after = dump(path)
    assert {t: rows for t, rows in after.items() if t != "meta"} == {
        t: rows for t, rows in before.items() if t != "meta"}
    assert versions(path) == (USER_VERSION_RETIRED, {"core": 1,
                                                     "sms_gateway": SMS_SCHEMA.version})
    # Migration 3 copied the tables with their new states (rest period, declines).
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sms_sessions SET status = 'declined'")
        conn.execute("UPDATE sms_invitations SET state = 'rested'")
    conn.close()


def test_v2_gateway_file_gets_the_daily_counters(tmp_path: Path) -> None:
    path = old_layout_file(tmp_path / "v2.sqlite", 2)
    with Store(path) as store:
        gs = GatewayStore(store, HASHER)
        assert gs.counters()["sent"] == 6
        assert store.component_version(SMS_SCHEMA) == SMS_SCHEMA.version
    assert "sms_counters_daily" in sms_tables(path)


def test_v1_kiosk_file_becoming_a_gateway_gets_every_sms_table(tmp_path: Path) -> None:
    path = old_layout_file(tmp_path / "v1.sqlite", 1)
    with Store(path) as store:
        assert store.queue_depth() == 1
    assert sms_tables(path) == set()
    with Store(path) as store:
        GatewayStore(store, HASHER)
    assert versions(path)[1] == {"core": 1, "sms_gateway": SMS_SCHEMA.version}
    assert len(sms_tables(path)) == 10


# -- newer files are refused untouched, per component ---------------------------------------


def _set_version(path: Path, component: str, version: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_versions SET version = ? WHERE component = ?",
                 (version, component))
    conn.commit()
    conn.close()


def test_newer_core_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).close()
    _set_version(path, "core", CORE_SCHEMA.version + 1)
    before = path.read_bytes()
    with pytest.raises(NewerSchemaError, match="core schema was written by a newer palaute"):
        Store(path)
    assert path.read_bytes() == before


def test_newer_gateway_tables_are_refused_by_the_gateway_only(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        GatewayStore(store, HASHER)
    _set_version(path, "sms_gateway", SMS_SCHEMA.version + 1)
    before = path.read_bytes()
    with Store(path) as store:  # the kiosk and the sync agent do not read them
        assert store.queue_depth() == 0
        with pytest.raises(NewerSchemaError, match=r"sms_gateway schema .* newer palaute"):
            GatewayStore(store, HASHER)
    assert path.read_bytes() == before


def test_unknown_user_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerSchemaError, match="newer palaute"):
        Store(path)
    assert path.read_bytes() == before


# -- the one migration runner and the one transaction helper ---------------------------------


def _steps(log: list[str], fail_at: str | None = None) -> Schema:
    def step(name: str) -> Migration:
        def apply(ex: Executor) -> None:
            log.append(name)
            ex.execute(f"CREATE TABLE t_{name} (x INTEGER)")
            if name == fail_at:
                raise RuntimeError(f"step {name} broke")
        return Migration(name, apply)
    return Schema("demo", (step("a"), step("b"), step("c")))


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrate_runs_each_missing_step_once_in_order(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite", isolation_level=None)
    done: list[str] = []
    short = Schema("demo", _steps(done).migrations[:1])
    with transaction(conn) as c:
        assert migrate(c, short, "m") == 0
    with transaction(conn) as c:
        assert migrate(c, _steps(done), "m") == 1
    with transaction(conn) as c:
        assert migrate(c, _steps(done), "m") == 3
    assert done == ["a", "b", "c"]
    assert installed_version(conn, "demo") == 3


def test_a_failing_step_leaves_no_trace(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite", isolation_level=None)
    with pytest.raises(RuntimeError, match="step b broke"), transaction(conn) as c:
        migrate(c, _steps([], fail_at="b"), "m")
    assert _tables(conn) == set()  # step a and the versions table went with the rollback
    assert installed_version(conn, "demo") == 0


def test_transaction_explains_sqlite_errors_and_rolls_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.sqlite", isolation_level=None)
    conn.execute("CREATE TABLE t (x INTEGER UNIQUE)")

    def explain(exc: sqlite3.Error) -> Exception:
        return ValueError(f"explained: {exc}")

    with pytest.raises(ValueError, match="explained: UNIQUE constraint"), \
            transaction(conn, explain=explain) as c:
        c.execute("INSERT INTO t VALUES (1)")
        c.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_a_read_sees_one_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store, Store(path) as other:
        with store.read() as c:
            before = c.execute("SELECT COUNT(*) FROM meta").fetchone()[0]
            other.set_meta("written", "meanwhile")
            assert c.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == before
        assert store.get_meta("written") == "meanwhile"


def _open_at_boot(path: str, as_gateway: bool) -> int:
    with Store(path) as store:
        if as_gateway:
            GatewayStore(store, HASHER)
            return store.component_version(SMS_SCHEMA)
        return store.schema_version


def test_services_starting_together_adopt_an_old_file_once(tmp_path: Path) -> None:
    # After an upgrade the kiosk, the gateway and the sync agent open the file at once.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    path = old_layout_file(tmp_path / "v2.sqlite", 2)
    before = dump(path)
    with ProcessPoolExecutor(6, mp_context=multiprocessing.get_context("fork")) as pool:
        seen = list(pool.map(_open_at_boot, [str(path)] * 6, [i % 2 == 0 for i in range(6)]))
    # The gateway's tables at their latest version, the core at 1, in every process.
    assert seen == [SMS_SCHEMA.version, 1] * 3
    after = dump(path)
    assert after.pop("sms_counters_daily") == []
    assert {t: r for t, r in after.items() if t != "meta"} == {
        t: r for t, r in before.items() if t != "meta"}
    assert versions(path) == (USER_VERSION_RETIRED, {"core": 1,
                                                     "sms_gateway": SMS_SCHEMA.version})
