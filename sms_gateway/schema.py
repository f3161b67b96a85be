"""The SMS gateway's own tables in the device's store file, and their migrations.

The core store knows nothing of them: a kiosk's file has none. The gateway brings
SMS_SCHEMA to `Store.ensure_schema` when it opens the store (GatewayStore does),
which creates them or migrates them forward. Files made before each part owned its
schema counted these tables as the store's migrations 2 and 3 in user_version; such
a file keeps its tables, at the version `_single_list_version` gives.

Phone numbers are NULLed once their invitation/session/message is no longer live;
*_hash columns are HMAC-SHA256 under the device's key.
"""

from __future__ import annotations

from survey.db import Migration, Schema, script

# Forward-only: append, never edit or reorder.
_M1_TABLES = """
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

# Per-day counters (Europe/Helsinki dates), so that central reports can show the funnel
# of a period and notice a response rate that drops.
_M2_DAILY_COUNTERS = """
CREATE TABLE sms_counters_daily (
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, name)
)
"""

# A rested invitation (the person had a survey within the rest period) and a declined
# session ("ei kiitos") get states of their own: SQLite changes a CHECK only by copying
# the table. The index finds a number's last invitation for the rest period.
_M3_REST_AND_DECLINE = """
CREATE TABLE sms_invitations_m3 (
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
        'unknown', 'expired', 'failed', 'optedout', 'rested')),
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
INSERT INTO sms_invitations_m3 SELECT * FROM sms_invitations;
DROP TABLE sms_invitations;
ALTER TABLE sms_invitations_m3 RENAME TO sms_invitations;
CREATE INDEX sms_invitations_state ON sms_invitations (state, event_at);
CREATE INDEX sms_invitations_phone ON sms_invitations (phone_hash, sending_at);
CREATE TABLE sms_sessions_m3 (
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
        CHECK (status IN ('live', 'complete', 'expired', 'optedout', 'cancelled', 'declined')),
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
INSERT INTO sms_sessions_m3 SELECT * FROM sms_sessions;
DROP TABLE sms_sessions;
ALTER TABLE sms_sessions_m3 RENAME TO sms_sessions;
CREATE UNIQUE INDEX sms_sessions_live ON sms_sessions (phone_hash) WHERE status = 'live'
"""


# The service looks for the live sessions whose lifetime is over by this index (a step
# touches only what is due, however many sessions live). `expires_at` is kept in UTC
# so that its text orders as its time; the live rows written before are turned to UTC.
_M4_SESSION_EXPIRY = """
UPDATE sms_sessions SET expires_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', expires_at)
    WHERE status = 'live';
CREATE INDEX sms_sessions_expiry ON sms_sessions (expires_at) WHERE status = 'live'
"""


def _single_list_version(user_version: int) -> int:
    # Old layout: 1 the core's tables, 2 these tables (_M1_TABLES), 3 the daily counters.
    return max(0, min(user_version, 3) - 1)


SMS_SCHEMA = Schema("sms_gateway", (
    Migration("invitations, sessions, outbox, inbox, opt-outs, counters", script(_M1_TABLES)),
    Migration("daily counters", script(_M2_DAILY_COUNTERS)),
    Migration("rested invitations, declined sessions", script(_M3_REST_AND_DECLINE)),
    Migration("live sessions by expiry", script(_M4_SESSION_EXPIRY)),
), legacy_version=_single_list_version)
