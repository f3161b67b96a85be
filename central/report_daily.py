"""Pre-aggregated daily counts for the reports, kept current by triggers in the database.

A report over ten million responses should not scan ten million rows. These tables
hold, per day and per (device, site, area, unit, channel), the count of each NPS
answer, of texts and of misuse flags; per statement and value; and per UTC hour the
misuse-flagged responses. Triggers on `responses` and `statement_answers` add every
row that is actually inserted: a response delivered twice is skipped by the store's
`ON CONFLICT DO NOTHING` and so never reaches a trigger (idempotent by construction).
`install` creates the tables and triggers and fills them from the rows already there,
in one transaction that holds the inserting writers back until it commits.
"""

from __future__ import annotations

import logging

from central.store import CentralStore

log = logging.getLogger(__name__)

VERSION = 2  # bump when the tables or triggers change: install() rebuilds them
MISUSE_FLAGS = ("repeat_press", "burst")
_KEYS = "local_date, device, site, area, unit, channel, nps"
_STMT_KEYS = "local_date, device, area, unit, channel, survey, question, value"
_HOUR_KEYS = "device, hour, local_date, area, unit, channel"
_LOCK_ID = 727012  # an advisory lock: two reports must not install at once


def _sqlite_flagged(col: str) -> str:
    return "(" + " OR ".join(f"{col} LIKE '%\"{f}\"%'" for f in MISUSE_FLAGS) + ")"


def _pg_flagged(col: str) -> str:
    return f"({col} ?| ARRAY[{', '.join(repr(f) for f in MISUSE_FLAGS)}])"


_TABLES = [
    f"CREATE TABLE report_daily (local_date {{date}} NOT NULL, device TEXT NOT NULL, "
    "site TEXT NOT NULL, area TEXT NOT NULL, unit TEXT NOT NULL, channel TEXT NOT NULL, "
    "nps SMALLINT NOT NULL, responses BIGINT NOT NULL, with_text BIGINT NOT NULL, "
    f"flagged BIGINT NOT NULL, PRIMARY KEY ({_KEYS}))",
    f"CREATE TABLE report_statements_daily (local_date {{date}} NOT NULL, device TEXT NOT NULL, "
    "area TEXT NOT NULL, unit TEXT NOT NULL, channel TEXT NOT NULL, survey TEXT NOT NULL, "
    "question TEXT NOT NULL, "
    f"value SMALLINT NOT NULL, answers BIGINT NOT NULL, PRIMARY KEY ({_STMT_KEYS}))",
    "CREATE TABLE report_flag_hours (device TEXT NOT NULL, hour TEXT NOT NULL, "
    "local_date {date} NOT NULL, area TEXT NOT NULL, unit TEXT NOT NULL, "
    f"channel TEXT NOT NULL, flagged BIGINT NOT NULL, PRIMARY KEY ({_HOUR_KEYS}))",
    "CREATE TABLE report_aggregates (version INTEGER NOT NULL)",
]
_DROP = ["DROP TABLE IF EXISTS report_aggregates", "DROP TABLE IF EXISTS report_daily",
         "DROP TABLE IF EXISTS report_statements_daily", "DROP TABLE IF EXISTS report_flag_hours"]

_UPSERT_DAILY = (f"ON CONFLICT ({_KEYS}) DO UPDATE SET "
                 "responses = report_daily.responses + excluded.responses, "
                 "with_text = report_daily.with_text + excluded.with_text, "
                 "flagged = report_daily.flagged + excluded.flagged")
_UPSERT_STMT = (f"ON CONFLICT ({_STMT_KEYS}) DO UPDATE SET "
                "answers = report_statements_daily.answers + excluded.answers")
_UPSERT_HOUR = (f"ON CONFLICT ({_HOUR_KEYS}) DO UPDATE SET "
                "flagged = report_flag_hours.flagged + excluded.flagged")


def _sqlite_script() -> list[str]:
    flagged_new = _sqlite_flagged("NEW.flags")
    flagged = _sqlite_flagged("flags")
    return [
        *_DROP,
        "DROP TRIGGER IF EXISTS report_responses_added",
        "DROP TRIGGER IF EXISTS report_statements_added",
        *(t.format(date="TEXT") for t in _TABLES),
        f"CREATE TRIGGER report_responses_added AFTER INSERT ON responses BEGIN "
        f"INSERT INTO report_daily ({_KEYS}, responses, with_text, flagged) VALUES "
        "(NEW.local_date, NEW.device, NEW.site, NEW.area, NEW.unit, NEW.channel, "
        f"COALESCE(NEW.nps, -1), 1, NEW.has_text <> 0, {flagged_new}) {_UPSERT_DAILY}; "
        f"INSERT INTO report_flag_hours ({_HOUR_KEYS}, flagged) SELECT NEW.device, "
        "substr(NEW.finished_at, 1, 13), NEW.local_date, NEW.area, NEW.unit, NEW.channel, 1 "
        f"WHERE {flagged_new} {_UPSERT_HOUR}; END",
        f"CREATE TRIGGER report_statements_added AFTER INSERT ON statement_answers BEGIN "
        f"INSERT INTO report_statements_daily ({_STMT_KEYS}, answers) SELECT r.local_date, "
        "r.device, r.area, r.unit, r.channel, r.survey, NEW.question, NEW.value, 1 "
        "FROM responses r "
        f"WHERE r.id = NEW.response_id {_UPSERT_STMT}; END",
        # Fill from what is already there (the triggers only see what comes after).
        f"INSERT INTO report_daily ({_KEYS}, responses, with_text, flagged) SELECT local_date, "
        "device, site, area, unit, channel, COALESCE(nps, -1), COUNT(*), SUM(has_text <> 0), "
        f"SUM({flagged}) FROM responses WHERE true GROUP BY {_KEYS}",
        f"INSERT INTO report_flag_hours ({_HOUR_KEYS}, flagged) SELECT device, "
        "substr(finished_at, 1, 13) AS hour, local_date, area, unit, channel, COUNT(*) "
        f"FROM responses WHERE {flagged} GROUP BY {_HOUR_KEYS}",
        f"INSERT INTO report_statements_daily ({_STMT_KEYS}, answers) SELECT r.local_date, "
        "r.device, r.area, r.unit, r.channel, r.survey, a.question, a.value, COUNT(*) "
        "FROM statement_answers a JOIN responses r ON r.id = a.response_id WHERE true "
        "GROUP BY r.local_date, r.device, r.area, r.unit, r.channel, r.survey, a.question, "
        "a.value",
        f"INSERT INTO report_aggregates (version) VALUES ({VERSION})",
    ]


_PG_HOUR = "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"


def _pg_daily_select(source: str) -> str:
    return (f"SELECT local_date, device, site, area, unit, channel, COALESCE(nps, -1), "
            f"COUNT(*), COUNT(*) FILTER (WHERE has_text), "
            f"COUNT(*) FILTER (WHERE {_pg_flagged('flags')}) FROM {source} "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7")


def _pg_hours_select(source: str) -> str:
    return (f"SELECT device, {_PG_HOUR}, local_date, area, unit, channel, COUNT(*) "
            f"FROM {source} WHERE {_pg_flagged('flags')} "
            "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6")


def _pg_statements_select(source: str) -> str:
    return ("SELECT r.local_date, r.device, r.area, r.unit, r.channel, r.survey, a.question, "
            f"a.value, COUNT(*) FROM {source} a JOIN responses r ON r.id = a.response_id "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8")


def _pg_script() -> list[str]:
    # Statement-level triggers see each INSERT's new rows at once (a COPY batch of
    # thousands is one upsert of a few aggregate rows). ORDER BY keeps concurrent
    # receivers locking aggregate rows in one order, so they wait instead of deadlocking.
    return [
        f"SELECT pg_advisory_xact_lock({_LOCK_ID})",
        "DROP TRIGGER IF EXISTS report_responses_added ON responses",
        "DROP TRIGGER IF EXISTS report_statements_added ON statement_answers",
        *_DROP,
        *(t.format(date="DATE") for t in _TABLES),
        "CREATE OR REPLACE FUNCTION report_responses_added() RETURNS trigger "
        "LANGUAGE plpgsql AS $fn$ BEGIN "
        f"INSERT INTO report_daily ({_KEYS}, responses, with_text, flagged) "
        f"{_pg_daily_select('added')} {_UPSERT_DAILY}; "
        f"INSERT INTO report_flag_hours ({_HOUR_KEYS}, flagged) "
        f"{_pg_hours_select('added')} {_UPSERT_HOUR}; "
        "RETURN NULL; END $fn$",
        "CREATE OR REPLACE FUNCTION report_statements_added() RETURNS trigger "
        "LANGUAGE plpgsql AS $fn$ BEGIN "
        f"INSERT INTO report_statements_daily ({_STMT_KEYS}, answers) "
        f"{_pg_statements_select('added')} {_UPSERT_STMT}; "
        "RETURN NULL; END $fn$",
        "CREATE TRIGGER report_responses_added AFTER INSERT ON responses "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION report_responses_added()",
        "CREATE TRIGGER report_statements_added AFTER INSERT ON statement_answers "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION report_statements_added()",
        f"INSERT INTO report_daily ({_KEYS}, responses, with_text, flagged) "
        f"{_pg_daily_select('responses')}",
        f"INSERT INTO report_flag_hours ({_HOUR_KEYS}, flagged) {_pg_hours_select('responses')}",
        f"INSERT INTO report_statements_daily ({_STMT_KEYS}, answers) "
        f"{_pg_statements_select('statement_answers')}",
        f"INSERT INTO report_aggregates (version) VALUES ({VERSION})",
        "ANALYZE report_daily",
        "ANALYZE report_statements_daily",
    ]


def installed(store: CentralStore) -> bool:
    """Whether the aggregates of this VERSION are in place (and so kept by the triggers)."""
    if store.dialect == "postgresql":
        rows = store.execute("SELECT to_regclass('report_aggregates') IS NOT NULL")
        if not rows or not rows[0][0]:
            return False
    else:
        rows = store.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                             "name = 'report_aggregates'")
        if not rows:
            return False
    found = store.execute("SELECT version FROM report_aggregates")
    return bool(found) and int(found[0][0]) == VERSION


def install(store: CentralStore) -> None:
    """Create (or rebuild) the aggregate tables and their triggers and fill them, atomically."""
    store.run_statements(_pg_script() if store.dialect == "postgresql" else _sqlite_script())


def ensure(store: CentralStore) -> bool:
    """Install the aggregates when missing; False (and a warning) when that is not allowed."""
    try:
        if installed(store):
            return True
        log.info("building the report aggregates (once; later inserts keep them current)")
        install(store)
        return True
    except Exception as exc:  # a read-only role: reports still work, only slower
        log.warning("report aggregates not available, reading responses directly: %s", exc)
        return False
