"""The ledger schema, shared by every backend. Bump SCHEMA_VERSION with a migration."""

from __future__ import annotations

__all__ = ["ADDED_COLUMNS", "DDL", "PG_ADDED_TYPES", "PG_DDL", "SCHEMA_VERSION"]

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

# The schema twice: DDL for SQLite, PG_DDL below for PostgreSQL, written out for each (a table or
# column added to one goes into the other; tests/test_ledger_backends.py compares the two schemas
# read back from live databases).
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
-- The lawful channel of each (notice, recipient) and the rule that decided it (issue 16).
CREATE TABLE IF NOT EXISTS channel_decisions (
    notice        TEXT NOT NULL,
    recipient_id  INTEGER NOT NULL,
    channel       TEXT NOT NULL,   -- email, postal, none-possible
    rule          TEXT NOT NULL,   -- a rule id of compliance/rules/channels.toml
    reason        TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL DEFAULT '',
    log_required  INTEGER NOT NULL DEFAULT 0,
    rules_version TEXT NOT NULL DEFAULT '',
    decided_at    REAL NOT NULL,
    PRIMARY KEY (notice, recipient_id)
);
-- NY GBL 899-aa(5)(b): each electronic notice to a person whose rule requires a log; one row per
-- accepted attempt, never updated.
CREATE TABLE IF NOT EXISTS notice_log (
    attempt_id   INTEGER PRIMARY KEY,
    notice       TEXT NOT NULL,
    recipient_id INTEGER NOT NULL,
    at           REAL NOT NULL,
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    rule         TEXT NOT NULL,
    logged_at    REAL NOT NULL
);
-- Credit-monitoring activation codes (issue 17): the vendor's pools, imported by
-- `notify offers import`. A code is issued to one recipient (by dedupe key) at most, and a
-- recipient holds one code per offer at most: keyed by recipient and offer, never by message, so
-- every resend, follow-up and letter carries the same code.
CREATE TABLE IF NOT EXISTS offer_codes (
    id          INTEGER PRIMARY KEY,
    offer       TEXT NOT NULL,
    pool        TEXT NOT NULL,     -- "default", or "minors" for the codes meant for children
    code        TEXT NOT NULL,
    imported_at REAL NOT NULL,
    issued_to   TEXT,              -- recipients.key
    issued_at   REAL,
    enrolled_at REAL,              -- from the vendor's enrolment report
    UNIQUE (offer, code)
);
CREATE UNIQUE INDEX IF NOT EXISTS offer_codes_issued ON offer_codes (issued_to, offer)
    WHERE issued_to IS NOT NULL;
CREATE INDEX IF NOT EXISTS offer_codes_free ON offer_codes (offer, pool, id) WHERE issued_to IS NULL;
-- Printed letters (issue 16): one per (notice, person), in the batch PDF and at the page the
-- manifest says; `letters build` resumes after the last batch recorded here, and the mail
-- house's returned-mail file marks them returned (unreached).
CREATE TABLE IF NOT EXISTS letters (
    notice        TEXT NOT NULL,
    letter_id     TEXT NOT NULL,   -- the recipient id printed in the manifest
    key           TEXT NOT NULL,   -- the person's dedupe key in the lists
    batch         INTEGER NOT NULL,
    file          TEXT NOT NULL,
    first_page    INTEGER NOT NULL,
    pages         INTEGER NOT NULL,
    address       TEXT NOT NULL,   -- the address block, one line per line
    addressee     TEXT NOT NULL,   -- recipient, or next_of_kin (deceased)
    source        TEXT NOT NULL,   -- list file:line
    built_at      REAL NOT NULL,
    returned_at   REAL,
    return_reason TEXT,
    PRIMARY KEY (notice, letter_id)
);
CREATE INDEX IF NOT EXISTS letters_batch ON letters (notice, batch, first_page);
-- A plan kept for the other senders of a shared (PostgreSQL) ledger: the first sender chooses the
-- targets, the others starting with it reuse the choice instead of reading the lists again
-- (key: a hash of the notice, the imported lists, the segment and the options). One SQLite
-- sender never reuses one; the table is here so both schemas stay the same.
CREATE TABLE IF NOT EXISTS plans (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,
    made_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS plan_targets (
    plan_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (plan_id, message_id)
) WITHOUT ROWID;
"""

# ADDED_COLUMNS' types in PostgreSQL's words.
PG_ADDED_TYPES = {"TEXT": "TEXT", "REAL": "DOUBLE PRECISION", "INTEGER": "BIGINT"}

# The same tables, columns, indexes and triggers in PostgreSQL: BIGINT for INTEGER, BIGSERIAL for
# an id SQLite numbers itself, DOUBLE PRECISION for REAL, and "user" and "window" quoted (reserved
# words there). Then what only a shared ledger has: claims with a lease, and the live senders.
PG_DDL = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lists (
    id          BIGSERIAL PRIMARY KEY,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_at DOUBLE PRECISION NOT NULL,
    rows        BIGINT NOT NULL DEFAULT 0,
    valid       BIGINT NOT NULL DEFAULT 0,
    invalid     BIGINT NOT NULL DEFAULT 0,
    duplicates  BIGINT NOT NULL DEFAULT 0,
    warnings    BIGINT NOT NULL DEFAULT 0,
    complete    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (path, sha256)
);
CREATE TABLE IF NOT EXISTS recipients (
    id       BIGSERIAL PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    email    TEXT NOT NULL,
    fields   TEXT NOT NULL,
    source   TEXT NOT NULL,
    line     BIGINT NOT NULL,
    smtputf8 BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS list_members (
    list_id      BIGINT NOT NULL,
    recipient_id BIGINT NOT NULL,
    PRIMARY KEY (list_id, recipient_id)
);
CREATE TABLE IF NOT EXISTS list_issues (
    id           BIGSERIAL PRIMARY KEY,
    list_id      BIGINT NOT NULL,
    line         BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    email        TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '',
    fields       TEXT,
    recipient_id BIGINT
);
CREATE INDEX IF NOT EXISTS list_issues_list ON list_issues (list_id, kind);
CREATE TABLE IF NOT EXISTS messages (
    id                  BIGSERIAL PRIMARY KEY,
    notice              TEXT NOT NULL,
    recipient_id        BIGINT,
    issue_id            BIGINT,
    state               TEXT NOT NULL,
    attempts            BIGINT NOT NULL DEFAULT 0,
    first_attempt_at    DOUBLE PRECISION,
    last_attempt_at     DOUBLE PRECISION,
    next_attempt_at     DOUBLE PRECISION,
    sent_at             DOUBLE PRECISION,
    last_code           BIGINT,
    last_text           TEXT,
    queue_id            TEXT,
    message_id          TEXT,
    run_id              BIGINT,
    possibly_duplicated BIGINT NOT NULL DEFAULT 0,
    reason              TEXT,
    UNIQUE (notice, recipient_id),
    UNIQUE (notice, issue_id)
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (notice, state, next_attempt_at);
CREATE TABLE IF NOT EXISTS attempts (
    id       BIGSERIAL PRIMARY KEY,
    message  BIGINT NOT NULL,
    run_id   BIGINT NOT NULL,
    at       DOUBLE PRECISION NOT NULL,
    verdict  TEXT NOT NULL,
    code     BIGINT,
    text     TEXT NOT NULL,
    queue_id TEXT NOT NULL DEFAULT '',
    reason   TEXT
);
CREATE INDEX IF NOT EXISTS attempts_message ON attempts (message);
CREATE TABLE IF NOT EXISTS runs (
    id         BIGSERIAL PRIMARY KEY,
    notice     TEXT NOT NULL,
    segment    TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    ended_at   DOUBLE PRECISION,
    pid        BIGINT NOT NULL,
    host       TEXT NOT NULL,
    "user"     TEXT NOT NULL,
    transport  TEXT NOT NULL,
    status     TEXT NOT NULL,
    options    TEXT NOT NULL DEFAULT '{}',
    summary    TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS checks (
    id      BIGSERIAL PRIMARY KEY,
    at      DOUBLE PRECISION NOT NULL,
    "user"  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    notice  TEXT NOT NULL,
    run_id  BIGINT,
    failed  TEXT NOT NULL,
    report  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bounce_events (
    id        BIGSERIAL PRIMARY KEY,
    digest    TEXT NOT NULL,
    at        DOUBLE PRECISION NOT NULL,
    source    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    address   TEXT NOT NULL DEFAULT '',
    message   BIGINT,
    matched   TEXT NOT NULL DEFAULT '',
    reason    TEXT NOT NULL DEFAULT '',
    hard      BIGINT NOT NULL DEFAULT 0,
    UNIQUE (digest, address)
);
CREATE INDEX IF NOT EXISTS bounce_events_message ON bounce_events (message, kind);
CREATE INDEX IF NOT EXISTS bounce_events_address ON bounce_events (address, kind);
CREATE TABLE IF NOT EXISTS test_sends (
    id       BIGSERIAL PRIMARY KEY,
    at       DOUBLE PRECISION NOT NULL,
    "user"   TEXT NOT NULL,
    notice   TEXT NOT NULL,
    seed     TEXT NOT NULL,
    accepted BIGINT NOT NULL,
    reply    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    key    TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at     DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit (
    seq     BIGINT PRIMARY KEY,
    at      DOUBLE PRECISION NOT NULL,
    "user"  TEXT NOT NULL,
    host    TEXT NOT NULL,
    action  TEXT NOT NULL,
    details TEXT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL
);
CREATE OR REPLACE FUNCTION notify_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
DROP TRIGGER IF EXISTS audit_no_change ON audit;  -- one trigger for both, before schema 3
DROP TRIGGER IF EXISTS audit_no_update ON audit;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
FOR EACH ROW EXECUTE FUNCTION notify_audit_append_only();
DROP TRIGGER IF EXISTS audit_no_delete ON audit;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION notify_audit_append_only();
CREATE TABLE IF NOT EXISTS unsubscribes (
    key     TEXT PRIMARY KEY,
    at      DOUBLE PRECISION NOT NULL,
    message BIGINT,
    via     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
    id           BIGSERIAL PRIMARY KEY,
    notice       TEXT NOT NULL,
    segment      TEXT NOT NULL,
    after_s      DOUBLE PRECISION,
    at           DOUBLE PRECISION,
    "window"     TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    created_by   TEXT NOT NULL,
    confirmed_at DOUBLE PRECISION,
    last_run_at  DOUBLE PRECISION,
    note         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS filings (
    rule        TEXT PRIMARY KEY,
    at          DOUBLE PRECISION NOT NULL,
    ref         TEXT NOT NULL DEFAULT '',
    "user"      TEXT NOT NULL,
    recorded_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_decisions (
    notice        TEXT NOT NULL,
    recipient_id  BIGINT NOT NULL,
    channel       TEXT NOT NULL,
    rule          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL DEFAULT '',
    log_required  BIGINT NOT NULL DEFAULT 0,
    rules_version TEXT NOT NULL DEFAULT '',
    decided_at    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (notice, recipient_id)
);
CREATE TABLE IF NOT EXISTS notice_log (
    attempt_id   BIGINT PRIMARY KEY,
    notice       TEXT NOT NULL,
    recipient_id BIGINT NOT NULL,
    at           DOUBLE PRECISION NOT NULL,
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    rule         TEXT NOT NULL,
    logged_at    DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS offer_codes (
    id          BIGSERIAL PRIMARY KEY,
    offer       TEXT NOT NULL,
    pool        TEXT NOT NULL,
    code        TEXT NOT NULL,
    imported_at DOUBLE PRECISION NOT NULL,
    issued_to   TEXT,
    issued_at   DOUBLE PRECISION,
    enrolled_at DOUBLE PRECISION,
    UNIQUE (offer, code)
);
CREATE UNIQUE INDEX IF NOT EXISTS offer_codes_issued ON offer_codes (issued_to, offer)
    WHERE issued_to IS NOT NULL;
CREATE INDEX IF NOT EXISTS offer_codes_free ON offer_codes (offer, pool, id) WHERE issued_to IS NULL;
-- Printed letters (issue 16): one per (notice, person), in the batch PDF and at the page the
-- manifest says; `letters build` resumes after the last batch recorded here, and the mail
-- house's returned-mail file marks them returned (unreached).
CREATE TABLE IF NOT EXISTS letters (
    notice        TEXT NOT NULL,
    letter_id     TEXT NOT NULL,   -- the recipient id printed in the manifest
    key           TEXT NOT NULL,   -- the person's dedupe key in the lists
    batch         BIGINT NOT NULL,
    file          TEXT NOT NULL,
    first_page    BIGINT NOT NULL,
    pages         BIGINT NOT NULL,
    address       TEXT NOT NULL,   -- the address block, one line per line
    addressee     TEXT NOT NULL,   -- recipient, or next_of_kin (deceased)
    source        TEXT NOT NULL,   -- list file:line
    built_at      DOUBLE PRECISION NOT NULL,
    returned_at   DOUBLE PRECISION,
    return_reason TEXT,
    PRIMARY KEY (notice, letter_id)
);
CREATE INDEX IF NOT EXISTS letters_batch ON letters (notice, batch, first_page);
-- Several senders: who holds a claim, until when (claims walk pending rows in id order from
-- each sender's cursor); and who is alive.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS claimed_by TEXT;
ALTER TABLE messages ADD COLUMN IF NOT EXISTS lease_until DOUBLE PRECISION;
CREATE INDEX IF NOT EXISTS messages_lease ON messages (notice, state, lease_until);
CREATE INDEX IF NOT EXISTS messages_claims ON messages (claimed_by) WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS messages_pending ON messages (notice, id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS senders (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        BIGINT NOT NULL,
    notice     TEXT NOT NULL,
    run_id     BIGINT,
    started_at DOUBLE PRECISION NOT NULL,
    heartbeat  DOUBLE PRECISION NOT NULL,
    claimed    BIGINT NOT NULL DEFAULT 0,
    sent       BIGINT NOT NULL DEFAULT 0,
    stopped_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS plans (
    id      BIGSERIAL PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,
    made_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS plan_targets (
    plan_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (plan_id, message_id)
);
"""
