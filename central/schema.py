"""The central store's schema: forward-only migrations, one component "central" in each
dialect (SQLite and PostgreSQL), run by survey.db's migration runner."""

from __future__ import annotations

from central.text_labels import LABELS_DDL
from survey.db import Migration, Schema, script

# Forward-only migrations: (sqlite DDL, postgresql DDL). Append, never edit or reorder.
_M1_SQLITE = """
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
    finished_at TEXT NOT NULL,
    local_date TEXT NOT NULL,
    status TEXT NOT NULL,
    seq INTEGER,
    nps INTEGER,
    has_text INTEGER NOT NULL,
    flags TEXT NOT NULL DEFAULT '[]',
    answers TEXT NOT NULL DEFAULT '{}',
    received_at TEXT NOT NULL
);
CREATE INDEX responses_local_date ON responses (local_date);
CREATE INDEX responses_unit_date ON responses (unit, local_date);
CREATE INDEX responses_area_date ON responses (area, local_date);
CREATE INDEX responses_device_date ON responses (device, local_date);
CREATE TABLE statement_answers (
    response_id TEXT NOT NULL REFERENCES responses (id),
    question TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (response_id, question)
);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE device_status (
    device TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    payload TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""

_M1_POSTGRES = """
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
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    local_date DATE NOT NULL,
    status TEXT NOT NULL,
    seq BIGINT,
    nps SMALLINT,
    has_text BOOLEAN NOT NULL,
    flags JSONB NOT NULL DEFAULT '[]',
    answers JSONB NOT NULL DEFAULT '{}',
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX responses_local_date ON responses (local_date);
CREATE INDEX responses_unit_date ON responses (unit, local_date);
CREATE INDEX responses_area_date ON responses (area, local_date);
CREATE INDEX responses_device_date ON responses (device, local_date);
CREATE TABLE statement_answers (
    response_id TEXT NOT NULL REFERENCES responses (id),
    question TEXT NOT NULL,
    value SMALLINT NOT NULL,
    PRIMARY KEY (response_id, question)
);
CREATE TABLE quarantine (
    id BIGSERIAL PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload BYTEA NOT NULL
);
CREATE TABLE device_status (
    device TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    payload JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)
"""

# What each device's refused messages took in the quarantine per (local) day: kept up
# to a limit, the rest only counted, so that junk cannot fill the central's disk.
_M2 = """
CREATE TABLE quarantine_budget (
    device TEXT NOT NULL,
    day TEXT NOT NULL,
    stored_bytes BIGINT NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL DEFAULT 0,
    dropped INTEGER NOT NULL DEFAULT 0,
    dropped_bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (device, day)
)
"""

# The central owns each device's origin (central/registry.py): the registry written by
# broker-config, enrolment and `move-device`, its audit trail, and the origin a response
# claimed when the registry overrode it. Timestamps are ISO 8601 text in UTC.
_M3 = """
CREATE TABLE device_registry (
    device TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    area TEXT NOT NULL,
    unit TEXT NOT NULL,
    enrolled_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE device_audit (
    at TEXT NOT NULL,
    device TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    old_origin TEXT,
    new_origin TEXT NOT NULL
);
CREATE INDEX device_audit_device ON device_audit (device, at);
CREATE TABLE origin_claims (
    response_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    site TEXT NOT NULL,
    area TEXT NOT NULL,
    unit TEXT NOT NULL,
    received_at TEXT NOT NULL
)
"""

# The web pages (central.web): accounts with their roles and granted areas/units, server-side
# sessions (only a token's hash), the audit of logins and operator actions, and every status
# message a device sent (the device page's 7-day chart; older rows are pruned on insert).
# Timestamps are ISO 8601 text in UTC, so the same DDL serves both dialects.
_M5 = """
CREATE TABLE web_accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'fi',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE web_grants (
    account TEXT NOT NULL REFERENCES web_accounts (name) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, scope, value)
);
CREATE TABLE web_sessions (
    digest TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES web_accounts (name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
CREATE TABLE web_audit (
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    address TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX web_audit_at ON web_audit (at);
CREATE TABLE status_history (
    device TEXT NOT NULL,
    at TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX status_history_device_at ON status_history (device, at)
"""

# One component, "central", in each dialect: the two lists grow together.
_M1_NAME = "responses, statement answers, quarantine, device status"
_M2_NAME = "quarantine budget"
_M3_NAME = "device registry, its audit, claimed origins"
_M4_NAME = "free-text topic and tone labels (central.text_labels)"
_M5_NAME = "web accounts, sessions and audit; device status history"
SQLITE_SCHEMA = Schema("central", (
    Migration(_M1_NAME, script(_M1_SQLITE)), Migration(_M2_NAME, script(_M2)),
    Migration(_M3_NAME, script(_M3)), Migration(_M4_NAME, script(LABELS_DDL)),
    Migration(_M5_NAME, script(_M5)),
))
POSTGRES_SCHEMA = Schema("central", (
    Migration(_M1_NAME, script(_M1_POSTGRES)), Migration(_M2_NAME, script(_M2)),
    Migration(_M3_NAME, script(_M3)), Migration(_M4_NAME, script(LABELS_DDL)),
    Migration(_M5_NAME, script(_M5)),
))
SCHEMA_VERSION = SQLITE_SCHEMA.version
# Before `schema_versions`, the version was PRAGMA user_version (SQLite) or the one row of
# palaute_schema (PostgreSQL), at most 2; adopting sets both to USER_VERSION_RETIRED,
# which a palaute of that layout refuses as newer.
LEGACY_VERSION_MAX = 2
