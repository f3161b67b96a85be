-- A device store file as palaute wrote it before each part owned its schema:
-- one list of migrations counted in PRAGMA user_version (1 core, 2 SMS tables,
-- 3 SMS daily counters). Copied from survey/store.py at commit 7c21bf0; never edit.
-- Each block below ends with the user_version it brought the file to.

-- migration 1
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
PRAGMA user_version = 1;

-- migration 2
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
);
PRAGMA user_version = 2;

-- migration 3
CREATE TABLE sms_counters_daily (
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, name)
);
PRAGMA user_version = 3;
