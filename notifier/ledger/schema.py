"""The ledger schema, shared by every backend. Bump SCHEMA_VERSION with a migration."""

from __future__ import annotations

__all__ = ["ADDED_COLUMNS", "DDL", "SCHEMA_VERSION"]

# 1: the core ledger. 2: bounce event times, audit trail, unsubscribes, schedules (an older
# notify must not write to a ledger whose audit trail it would leave out). 3: audit entries
# keyed (an older notify would append unkeyed entries that verify must call forgeries).
SCHEMA_VERSION = 3

# Columns added after a table was first created: (table, column, type). Ledgers made by an
# earlier build get them with ALTER TABLE on open.
ADDED_COLUMNS = (
    ("messages", "reason", "TEXT"),
    ("attempts", "reason", "TEXT"),
    ("bounce_events", "event_at", "REAL"),  # when it happened, as the report says
)

DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row per imported version of a list file.
CREATE TABLE IF NOT EXISTS lists (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_at REAL NOT NULL,
    rows        INTEGER NOT NULL DEFAULT 0,
    valid       INTEGER NOT NULL DEFAULT 0,
    invalid     INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    warnings    INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (path, sha256)
);
-- Everyone we can write to, once per normalised address.
CREATE TABLE IF NOT EXISTS recipients (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    email    TEXT NOT NULL,
    fields   TEXT NOT NULL,
    source   TEXT NOT NULL,
    line     INTEGER NOT NULL,
    smtputf8 INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS list_members (
    list_id      INTEGER NOT NULL,
    recipient_id INTEGER NOT NULL,
    PRIMARY KEY (list_id, recipient_id)
) WITHOUT ROWID;
-- Rows we could not use (invalid, malformed) and merged duplicates, kept for reports.
CREATE TABLE IF NOT EXISTS list_issues (
    id           INTEGER PRIMARY KEY,
    list_id      INTEGER NOT NULL,
    line         INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '',
    fields       TEXT,
    recipient_id INTEGER
);
CREATE INDEX IF NOT EXISTS list_issues_list ON list_issues (list_id, kind);
-- One row per (notice, recipient): its state and its latest attempt.
CREATE TABLE IF NOT EXISTS messages (
    id                  INTEGER PRIMARY KEY,
    notice              TEXT NOT NULL,
    recipient_id        INTEGER,
    issue_id            INTEGER,
    state               TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    first_attempt_at    REAL,
    last_attempt_at     REAL,
    next_attempt_at     REAL,
    sent_at             REAL,
    last_code           INTEGER,
    last_text           TEXT,
    queue_id            TEXT,
    message_id          TEXT,
    run_id              INTEGER,
    possibly_duplicated INTEGER NOT NULL DEFAULT 0,
    reason              TEXT,
    UNIQUE (notice, recipient_id),
    UNIQUE (notice, issue_id)
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (notice, state, next_attempt_at);
-- Every attempt, never updated.
CREATE TABLE IF NOT EXISTS attempts (
    id       INTEGER PRIMARY KEY,
    message  INTEGER NOT NULL,
    run_id   INTEGER NOT NULL,
    at       REAL NOT NULL,
    verdict  TEXT NOT NULL,
    code     INTEGER,
    text     TEXT NOT NULL,
    queue_id TEXT NOT NULL DEFAULT '',
    reason   TEXT
);
CREATE INDEX IF NOT EXISTS attempts_message ON attempts (message);
CREATE TABLE IF NOT EXISTS runs (
    id         INTEGER PRIMARY KEY,
    notice     TEXT NOT NULL,
    segment    TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at   REAL,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    user       TEXT NOT NULL,
    transport  TEXT NOT NULL,
    status     TEXT NOT NULL,
    options    TEXT NOT NULL DEFAULT '{}',
    summary    TEXT NOT NULL DEFAULT '{}'
);
-- Check reports kept as evidence: each pre-send gate, and every --force override.
CREATE TABLE IF NOT EXISTS checks (
    id      INTEGER PRIMARY KEY,
    at      REAL NOT NULL,
    user    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    notice  TEXT NOT NULL,
    run_id  INTEGER,
    failed  TEXT NOT NULL,
    report  TEXT NOT NULL
);
-- Every bounce, delay, complaint or auto-reply read, once (digest), matched or not.
CREATE TABLE IF NOT EXISTS bounce_events (
    id        INTEGER PRIMARY KEY,
    digest    TEXT NOT NULL,
    at        REAL NOT NULL,
    source    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    address   TEXT NOT NULL DEFAULT '',
    message   INTEGER,
    matched   TEXT NOT NULL DEFAULT '',
    reason    TEXT NOT NULL DEFAULT '',
    hard      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (digest, address)
);
-- status looks up each message's delivery and complaint events; soft bounces go by address.
CREATE INDEX IF NOT EXISTS bounce_events_message ON bounce_events (message, kind);
CREATE INDEX IF NOT EXISTS bounce_events_address ON bounce_events (address, kind);
-- Test sends from the preview to seed addresses: never counted as a notice sent.
CREATE TABLE IF NOT EXISTS test_sends (
    id       INTEGER PRIMARY KEY,
    at       REAL NOT NULL,
    user     TEXT NOT NULL,
    notice   TEXT NOT NULL,
    seed     TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    reply    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    key    TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at     REAL NOT NULL,
    source TEXT NOT NULL DEFAULT ''
);
-- Append-only, keyed hash chain of every action (notifier/audit.py). Triggers refuse updates
-- and deletes through notify; `notify audit verify` catches edits made any other way.
CREATE TABLE IF NOT EXISTS audit (
    seq     INTEGER PRIMARY KEY,
    at      REAL NOT NULL,
    user    TEXT NOT NULL,
    host    TEXT NOT NULL,
    action  TEXT NOT NULL,
    details TEXT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- Follow-ups people opted out of (RFC 8058 one-click, or the confirmation page). Never
-- applied to legally required notices.
CREATE TABLE IF NOT EXISTS unsubscribes (
    key     TEXT PRIMARY KEY,
    at      REAL NOT NULL,
    message INTEGER,
    via     TEXT NOT NULL
);
-- Scheduled follow-up notices.
CREATE TABLE IF NOT EXISTS schedules (
    id          INTEGER PRIMARY KEY,
    notice      TEXT NOT NULL,
    segment     TEXT NOT NULL,
    after_s     REAL,            -- relative to the first notice of the campaign...
    at          REAL,            -- ...or an absolute time
    window      TEXT NOT NULL DEFAULT '',  -- "09:00-17:00" in each recipient's local time
    state       TEXT NOT NULL,   -- waiting, due, sending, done, cancelled, needs-confirm
    created_at  REAL NOT NULL,
    created_by  TEXT NOT NULL,
    confirmed_at REAL,
    last_run_at REAL,
    note        TEXT NOT NULL DEFAULT ''
);
-- Regulator filings the operator marked done (`notify deadlines done RULE --at --ref`): notify
-- cannot see them otherwise. One row per deadline rule; the audit log keeps every mark.
CREATE TABLE IF NOT EXISTS filings (
    rule        TEXT PRIMARY KEY,
    at          REAL NOT NULL,   -- when it was filed, as the operator says
    ref         TEXT NOT NULL DEFAULT '',
    user        TEXT NOT NULL,
    recorded_at REAL NOT NULL
);
"""
