"""SQLite's named statements: every statement of the methods PgLedger inherits, by name.

``statements_postgres.SQL`` holds the same names in PostgreSQL's own words (tests/test_ledger_backends.py
checks that both have the same keys).
"""

from __future__ import annotations

__all__ = ["SQL"]

# A failed or bounced message --retry-failed sends again (one parameter: the reasons never retried).
_RETRYABLE = (
    "m.state IN ('failed', 'bounced') AND coalesce(m.reason, '') NOT IN (SELECT value FROM json_each(?)) "
    "AND NOT EXISTS (SELECT 1 FROM recipients r JOIN suppressions s ON s.key=r.key WHERE r.id=m.recipient_id)"
)

# Every statement of the methods PgLedger inherits, by name: postgres.SQL holds the same names in
# PostgreSQL's own words (tests/test_ledger_backends.py checks that both have the same keys). Only
# the methods PgLedger overrides (SQLite's claims, the file's pragmas) keep their SQL inline.
SQL: dict[str, str] = {
    "notices": "SELECT DISTINCT notice FROM messages ORDER BY notice",
    "counts": "SELECT state, count(*) FROM messages WHERE notice=? GROUP BY state",
    "status_deferred": (
        "SELECT count(*), min(next_attempt_at) FROM messages WHERE notice=? AND state='deferred'"
    ),
    "status_errors": (
        "SELECT last_code, count(*), max(last_text) FROM messages WHERE notice=? "
        "AND state IN ('deferred', 'failed') GROUP BY last_code ORDER BY count(*) DESC"
    ),
    "status_reasons": (
        "SELECT reason, count(*) FROM messages WHERE notice=? "
        "AND state IN ('deferred', 'failed', 'bounced') AND reason IS NOT NULL "
        "GROUP BY reason ORDER BY count(*) DESC"
    ),
    "status_duplicated": "SELECT count(*) FROM messages WHERE notice=? AND possibly_duplicated=1",
    "status_duplicated_emails": (
        "SELECT r.email FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.notice=? AND m.possibly_duplicated=1 ORDER BY m.id LIMIT ?"
    ),
    "outcome_rows": (
        "SELECT m.id, substr(r.email, instr(r.email, '@') + 1), m.state, coalesce(m.reason, ''), "
        "EXISTS (SELECT 1 FROM bounce_events e WHERE e.message=m.id AND e.kind='delivered'), "
        "EXISTS (SELECT 1 FROM bounce_events e WHERE e.message=m.id AND e.kind='complaint') "
        "FROM messages m JOIN recipients r ON r.id=m.recipient_id WHERE m.notice=?"
    ),
    "recent_lists": (
        "SELECT path, rows, valid, invalid, duplicates, imported_at FROM lists WHERE complete=1 "
        "ORDER BY id DESC LIMIT ?"
    ),
    "recent_runs": (
        "SELECT id, notice, segment, status, started_at, ended_at, user, host, summary FROM runs "
        "ORDER BY id DESC LIMIT ?"
    ),
    # The filters are parameters (a NULL or 0 turns one off), so this is one fixed statement.
    "report_rows": (
        "SELECT m.id, m.recipient_id, m.notice, m.state, COALESCE(r.email, i.email, ''), "
        "COALESCE(r.fields, i.fields), m.attempts, m.last_code, COALESCE(m.last_text, i.reason), "
        "m.queue_id, m.message_id, m.first_attempt_at, m.last_attempt_at, m.sent_at, "
        "m.possibly_duplicated, COALESCE(r.source, l.path), COALESCE(r.line, i.line), m.reason "
        "FROM messages m LEFT JOIN recipients r ON r.id=m.recipient_id "
        "LEFT JOIN list_issues i ON i.id=m.issue_id LEFT JOIN lists l ON l.id=i.list_id "
        "WHERE (? = 0 OR m.state IN (SELECT value FROM json_each(?))) AND (? IS NULL OR m.notice=?) "
        "AND (? = 0 OR m.possibly_duplicated=1) ORDER BY m.notice, m.id"
    ),
    "schedule_rows": "SELECT id, notice, segment, state, created_at, note FROM schedules ORDER BY id",
    # Bounce matching (notifier/bounces/ingest.py).
    "recipient_key_of": "SELECT r.key FROM messages m JOIN recipients r ON r.id=m.recipient_id WHERE m.id=?",
    "message_by_queue_id": (
        "SELECT m.id FROM messages m JOIN recipients r ON r.id=m.recipient_id WHERE m.queue_id=? AND r.key=?"
    ),
    "message_by_message_id": (
        "SELECT m.id FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.message_id=? AND r.key=?"
    ),
    "was_sent_to": (
        "SELECT 1 FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE r.key=? AND m.sent_at IS NOT NULL LIMIT 1"
    ),
    "event_seen": "SELECT 1 FROM bounce_events WHERE digest IN (SELECT value FROM json_each(?)) LIMIT 1",
    # Batched bounce recording (notifier/ledger/sqlite/bouncebatch.py): lists as one JSON parameter.
    "bounce_lock": "SELECT 1",  # BEGIN IMMEDIATE already holds the write lock
    "seen_digests": "SELECT digest FROM bounce_events WHERE digest IN (SELECT value FROM json_each(?))",
    "recipient_keys_of": (
        "SELECT m.id, r.key FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.id IN (SELECT value FROM json_each(?))"
    ),
    "soft_history": (
        "SELECT address, kind, hard, event_at FROM bounce_events WHERE message IS NOT NULL "
        "AND (kind IN ('bounce', 'delivered') OR hard=1) AND address IN (SELECT value FROM json_each(?))"
    ),
    # ---- the methods PgLedger inherits run these; the methods it overrides keep their own SQL ----
    "begin": "BEGIN IMMEDIATE",  # take the write lock now, not at the first write (no deadlock)
    "commit": "COMMIT",
    "rollback": "ROLLBACK",
    "meta_get": "SELECT value FROM meta WHERE key=?",
    "meta_add": "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
    "meta_set": "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
    # Lists.
    "find_import": (
        "SELECT id, rows, valid, invalid, duplicates, warnings FROM lists "
        "WHERE path=? AND sha256=? AND complete=1"
    ),
    "stale_imports": "SELECT id FROM lists WHERE complete=0",
    "drop_stale_imports": "DELETE FROM lists WHERE complete=0",
    "new_import": "INSERT INTO lists (path, sha256, imported_at) VALUES (?, ?, ?) RETURNING id",
    "forget_members": "DELETE FROM list_members WHERE list_id=?",
    "forget_issues": "DELETE FROM list_issues WHERE list_id=?",
    "add_reject": (
        "INSERT INTO list_issues (list_id, line, kind, reason, email, raw, fields) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
    "add_warning": (
        "INSERT INTO list_issues (list_id, line, kind, reason, email) VALUES (?, ?, 'warning', ?, ?)"
    ),
    "complete_import": (
        "UPDATE lists SET rows=?, valid=?, invalid=?, duplicates=?, warnings=?, complete=1 WHERE id=?"
    ),
    # A batch of keys (one JSON list): who is known already, and already in this list.
    "import_lookup": (
        "SELECT r.key, r.id, r.fields, r.line, EXISTS (SELECT 1 FROM list_members lm WHERE lm.list_id=? "
        "AND lm.recipient_id=r.id) FROM recipients r WHERE r.key IN (SELECT value FROM json_each(?))"
    ),
    # N fresh recipient ids (the import holds the write lock, so nobody else takes them).
    "new_recipient_ids": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "SELECT (SELECT coalesce(max(id), 0) FROM recipients) + i FROM n"
    ),
    "bulk_recipient": (
        "INSERT INTO recipients (id, key, email, fields, source, line, smtputf8) VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
    "bulk_member": "INSERT INTO list_members (list_id, recipient_id) VALUES (?, ?)",
    "replace_recipient": "UPDATE recipients SET email=?, fields=?, source=?, line=?, smtputf8=? WHERE id=?",
    "merge_fields": "UPDATE recipients SET fields=? WHERE id=?",
    "add_duplicate": (
        "INSERT INTO list_issues (list_id, line, kind, reason, email, recipient_id) "
        "VALUES (?, ?, 'duplicate', ?, ?, ?)"
    ),
    "list_issues": (
        "SELECT l.path, i.line, i.kind, i.reason, i.email, i.raw FROM list_issues i "
        "JOIN lists l ON l.id=i.list_id WHERE i.list_id IN (SELECT value FROM json_each(?)) "
        "AND i.kind IN (SELECT value FROM json_each(?)) ORDER BY l.path, i.line"
    ),
    # Members of imported lists read back (notifier.lists.audience), a page at a time.
    "member_ids": (
        "SELECT r.id FROM recipients r WHERE r.id > ? AND EXISTS (SELECT 1 FROM list_members lm "
        "WHERE lm.recipient_id=r.id AND lm.list_id IN (SELECT value FROM json_each(?))) ORDER BY r.id LIMIT ?"
    ),
    "recipients_by_id": (
        "SELECT id, email, key, source, line, fields, smtputf8 FROM recipients "
        "WHERE id IN (SELECT value FROM json_each(?))"
    ),
    # The render check's groups (notifier.pipeline.render_groups): the targets to send grouped by
    # what some fields hold, in SQL's C instead of a Python key per person (issue 15). Each group_*
    # takes the field's JSON path once per ?; targets_by_fields groups by them. A missing field, a
    # JSON null and each type stay apart, so a group is never coarser than render_groups' key.
    "group_present": "json_type(r.fields, ?) IS NOT NULL",
    "group_truthy": (
        "CASE json_type(r.fields, ?) WHEN 'text' THEN json_extract(r.fields, ?) != '' "
        "WHEN 'array' THEN json_array_length(r.fields, ?) > 0 "
        "ELSE coalesce(json_type(r.fields, ?), '') || ':' || coalesce(json_extract(r.fields, ?), '') END"
    ),
    "group_valued": "coalesce(json_type(r.fields, ?), '') || ':' || coalesce(json_extract(r.fields, ?), '')",
    "targets_by_fields": (
        "SELECT min(r.id), count(*) FROM run_targets t JOIN messages m ON m.id=t.id "
        "JOIN recipients r ON r.id=m.recipient_id WHERE m.state IN ('pending', 'deferred') GROUP BY {keys}"
    ),
    # Planning a run.
    "clear_targets": "DELETE FROM run_targets",
    # Members in recipient-id order from where the last batch stopped: the primary key walks
    # them, so no batch sorts what is left (the plan stays linear in the list).
    "plan_batch": (
        "SELECT r.id, r.fields, r.email, r.source, r.line, r.key FROM recipients r WHERE r.id > ? "
        "AND EXISTS (SELECT 1 FROM list_members lm WHERE lm.recipient_id=r.id "
        "AND lm.list_id IN (SELECT value FROM json_each(?))) ORDER BY r.id LIMIT ?"
    ),
    "plan_message": (
        "INSERT OR IGNORE INTO messages (notice, recipient_id, state) SELECT ?, r.id, "
        "CASE WHEN s.key IS NULL THEN 'pending' ELSE 'suppressed' END FROM recipients r "
        "LEFT JOIN suppressions s ON s.key=r.key WHERE r.id IN (SELECT value FROM json_each(?))"
    ),
    "plan_target": (
        "INSERT OR IGNORE INTO run_targets (id) SELECT id FROM messages WHERE notice=? "
        "AND recipient_id IN (SELECT value FROM json_each(?))"
    ),
    # Everyone in the lists (a segment that takes all), one range of recipient ids at a time.
    "recipient_id_range": "SELECT min(id), max(id) FROM recipients",
    "plan_all_messages": (
        "INSERT OR IGNORE INTO messages (notice, recipient_id, state) SELECT ?, r.id, "
        "CASE WHEN s.key IS NULL THEN 'pending' ELSE 'suppressed' END FROM recipients r "
        "LEFT JOIN suppressions s ON s.key=r.key WHERE EXISTS (SELECT 1 FROM list_members lm "
        "WHERE lm.recipient_id=r.id AND lm.list_id IN (SELECT value FROM json_each(?))) "
        "AND r.id > ? AND r.id <= ?"
    ),
    "plan_all_targets": (
        "INSERT OR IGNORE INTO run_targets (id) SELECT m.id FROM messages m WHERE m.notice=? "
        "AND EXISTS (SELECT 1 FROM list_members lm WHERE lm.recipient_id=m.recipient_id "
        "AND lm.list_id IN (SELECT value FROM json_each(?))) AND m.recipient_id > ? AND m.recipient_id <= ?"
    ),
    "plan_issues": (
        "SELECT i.id, i.fields, l.path, i.line FROM list_issues i JOIN lists l ON l.id=i.list_id "
        "WHERE i.list_id IN (SELECT value FROM json_each(?)) AND i.kind IN ('invalid', 'malformed')"
    ),
    "plan_invalid": "INSERT OR IGNORE INTO messages (notice, issue_id, state) VALUES (?, ?, 'invalid')",
    "plan_issue_target": (
        "INSERT OR IGNORE INTO run_targets (id) SELECT id FROM messages WHERE notice=? AND issue_id=?"
    ),
    # --resend: everyone again, on purpose: the accepted, the failed, the bounced and those still
    # being retried, each with a fresh retry window (or one more 4xx would give up at once). The
    # suppression list still applies (plan_resuppress runs after).
    "plan_resend": (
        "UPDATE messages SET state='pending', next_attempt_at=NULL, first_attempt_at=NULL WHERE id IN "
        "(SELECT id FROM run_targets) AND state IN ('sent', 'failed', 'bounced', 'deferred')"
    ),
    # --retry-failed: only people no server accepted (failed, or accepted then bounced), never a
    # dead address (the reasons are the parameter) nor anyone suppressed. The retry window starts
    # again (first_attempt_at), or one more 4xx would give up at once.
    "plan_failed_before": (
        "SELECT how, reason, retryable, count(*) FROM (SELECT CASE WHEN m.state='bounced' THEN 'bounced' "
        "WHEN (SELECT a.verdict FROM attempts a WHERE a.message=m.id ORDER BY a.id DESC LIMIT 1)='temporary' "
        "THEN 'gave_up' ELSE 'refused' END AS how, coalesce(m.reason, 'other') AS reason, "
        f"CASE WHEN {_RETRYABLE} THEN 1 ELSE 0 END AS retryable FROM run_targets t "
        "JOIN messages m ON m.id=t.id WHERE m.state IN ('failed', 'bounced')) f "
        "GROUP BY how, reason, retryable"
    ),
    "plan_retry_failed": (
        "UPDATE messages SET state='pending', next_attempt_at=NULL, first_attempt_at=NULL WHERE id IN "
        f"(SELECT m.id FROM run_targets t JOIN messages m ON m.id=t.id WHERE {_RETRYABLE})"
    ),
    "plan_skip_unsubscribed": (
        "UPDATE messages SET state='suppressed', reason='unsubscribed' "
        "WHERE id IN (SELECT id FROM run_targets) AND state IN ('pending', 'deferred') "
        "AND recipient_id IN (SELECT r.id FROM recipients r JOIN unsubscribes u ON u.key=r.key)"
    ),
    # Only complaints tied to a message we sent (message set): a forged report naming an
    # address changes nothing.
    "plan_skip_complained": (
        "UPDATE messages SET state='suppressed', reason='complained' "
        "WHERE id IN (SELECT id FROM run_targets) AND state IN ('pending', 'deferred') "
        "AND recipient_id IN (SELECT r.id FROM recipients r WHERE r.key IN "
        "(SELECT address FROM bounce_events WHERE kind='complaint' AND message IS NOT NULL) OR r.id IN "
        "(SELECT m2.recipient_id FROM bounce_events e JOIN messages m2 ON m2.id=e.message "
        "WHERE e.kind='complaint'))"
    ),
    "plan_resuppress": (
        "UPDATE messages SET state='suppressed' WHERE id IN (SELECT id FROM run_targets) "
        "AND state IN ('pending', 'deferred') AND recipient_id IN "
        "(SELECT r.id FROM recipients r JOIN suppressions s ON s.key=r.key)"
    ),
    "plan_unsuppress": (
        "UPDATE messages SET state='pending' WHERE id IN (SELECT id FROM run_targets) "
        "AND state='suppressed' AND coalesce(reason, '') NOT IN ('unsubscribed', 'complained') "
        "AND recipient_id NOT IN (SELECT r.id FROM recipients r JOIN suppressions s ON s.key=r.key)"
    ),
    "plan_counts": (
        "SELECT m.state, count(*) FROM run_targets t JOIN messages m ON m.id=t.id GROUP BY m.state"
    ),
    "due_targets": (
        "SELECT t.id, r.fields, r.email FROM run_targets t JOIN messages m ON m.id=t.id "
        "JOIN recipients r ON r.id=m.recipient_id WHERE m.state IN ('pending', 'deferred')"
    ),
    "drop_target": "DELETE FROM run_targets WHERE id=?",
    "targets_to_send": (
        "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, r.fields, "
        "r.source, r.line, r.smtputf8 FROM run_targets t JOIN messages m ON m.id=t.id "
        "JOIN recipients r ON r.id=m.recipient_id WHERE m.state IN ('pending', 'deferred') ORDER BY m.id"
    ),
    # A run.
    "start_run": (
        "INSERT INTO runs (notice, segment, started_at, pid, host, user, transport, status, options) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?) RETURNING id"
    ),
    "release": (
        "UPDATE messages SET state=CASE WHEN attempts>0 THEN 'deferred' ELSE 'pending' END, "
        "next_attempt_at=COALESCE(next_attempt_at, 0) WHERE id=? AND state='sending'"
    ),
    "next_retry_at": (
        "SELECT min(next_attempt_at) FROM messages WHERE notice=? AND state='deferred' "
        "AND id IN (SELECT id FROM run_targets)"
    ),
    "record_check": (
        "INSERT INTO checks (at, user, kind, notice, run_id, failed, report) VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
    "record_test": (
        "INSERT INTO test_sends (at, user, notice, seed, accepted, reply) VALUES (?, ?, ?, ?, ?, ?)"
    ),
    "end_run": "UPDATE runs SET ended_at=?, status=?, summary=? WHERE id=?",
    # Suppressions, unsubscribes, bounces.
    "suppress": "INSERT OR IGNORE INTO suppressions (key, reason, at, source) VALUES (?, ?, ?, ?)",
    "unsuppress": "DELETE FROM suppressions WHERE key=?",
    "suppressions": "SELECT key, reason, at, source FROM suppressions ORDER BY key",
    "bounce_event": (
        "INSERT OR IGNORE INTO bounce_events "
        "(digest, at, source, kind, address, message, matched, reason, hard, event_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "bounce_message": "UPDATE messages SET state='bounced', reason=? WHERE id=? AND state='sent'",
    "soft_streak": (
        "SELECT count(*), coalesce(max(event_at) - min(event_at), 0) FROM bounce_events "
        "WHERE address=? AND kind='bounce' AND hard=0 AND message IS NOT NULL AND event_at > coalesce("
        "(SELECT max(event_at) FROM bounce_events WHERE address=? AND message IS NOT NULL "
        "AND (kind='delivered' OR hard=1)), 0)"
    ),
    "unsubscribe": "INSERT OR IGNORE INTO unsubscribes (key, at, message, via) VALUES (?, ?, ?, ?)",
    "is_unsubscribed": (
        "SELECT 1 FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "JOIN unsubscribes u ON u.key=r.key WHERE m.id=?"
    ),
    # The audit trail.
    "audit_count": "SELECT count(*) FROM audit",
    "audit_last": "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "audit_append": (
        "INSERT INTO audit (seq, at, user, host, action, details, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "audit_entries": "SELECT seq, at, user, host, action, details, prev, hash FROM audit ORDER BY seq",
    "activity_lists": "SELECT count(*), min(imported_at) FROM lists",
    "activity_runs": "SELECT count(*), min(started_at) FROM runs",
    "activity_messages": "SELECT count(*) FROM messages",
    # Run and schedule reads (notifier.pipeline.run, notifier.followups.schedule).
    "first_sent_at": "SELECT min(sent_at) FROM messages WHERE notice=?",
    "oldest_sent_since": "SELECT min(sent_at) FROM messages WHERE sent_at > ?",
    "complete_lists": (
        "SELECT path, sha256 FROM lists WHERE complete=1 AND id IN (SELECT max(id) FROM lists GROUP BY path)"
    ),
    "waiting_in_run": (
        "SELECT count(*) FROM messages WHERE state='deferred' AND id IN (SELECT id FROM run_targets)"
    ),
    "schedules": (
        "SELECT id, notice, segment, after_s, at, window, state, created_at, created_by, confirmed_at, "
        "last_run_at, note FROM schedules ORDER BY id"
    ),
    "add_schedule": (
        "INSERT INTO schedules (notice, segment, after_s, at, window, state, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?) RETURNING id"
    ),
    "set_schedule_state": (
        "UPDATE schedules SET state=?, note=?, last_run_at=coalesce(?, last_run_at), "
        "confirmed_at=coalesce(?, confirmed_at) WHERE id=?"
    ),
    # Audience reads (notifier.lists.audience): keys as one JSON list parameter (see _many).
    "states_for": (
        "SELECT r.key, m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.notice=? AND r.key IN (SELECT value FROM json_each(?))"
    ),
    "complained": (
        "SELECT r.key FROM bounce_events e JOIN messages m ON m.id=e.message "
        "JOIN recipients r ON r.id=m.recipient_id WHERE e.kind='complaint' "
        "AND r.key IN (SELECT value FROM json_each(?)) "
        "UNION SELECT address FROM bounce_events WHERE kind='complaint' AND message IS NOT NULL "
        "AND address IN (SELECT value FROM json_each(?))"
    ),
    "unsubscribed": "SELECT key FROM unsubscribes WHERE key IN (SELECT value FROM json_each(?))",
    "suppressed": "SELECT key, reason FROM suppressions WHERE key IN (SELECT value FROM json_each(?))",
    "accepted_at": (
        "SELECT r.key, m.sent_at FROM messages m JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.notice=? AND m.state IN ('sent', 'bounced') AND m.sent_at IS NOT NULL "
        "AND r.key IN (SELECT value FROM json_each(?))"
    ),
    "filings": "SELECT rule, at, ref, user FROM filings ORDER BY rule",
    "mark_filed": "INSERT OR REPLACE INTO filings (rule, at, ref, user, recorded_at) VALUES (?, ?, ?, ?, ?)",
    # Notice channels (issue 16): one decision per (notice, recipient); the NY notice log.
    "channels_record": (
        "INSERT INTO channel_decisions (notice, recipient_id, channel, rule, reason, jurisdiction, "
        "log_required, rules_version, decided_at) SELECT ?, id, ?, ?, ?, ?, ?, ?, ? FROM recipients "
        "WHERE key = ? ON CONFLICT (notice, recipient_id) DO UPDATE SET channel = excluded.channel, "
        "rule = excluded.rule, reason = excluded.reason, jurisdiction = excluded.jurisdiction, "
        "log_required = excluded.log_required, rules_version = excluded.rules_version, "
        "decided_at = excluded.decided_at"
    ),
    "channels_counts": (
        "SELECT jurisdiction, channel, rule, reason, count(*) FROM channel_decisions WHERE notice = ? "
        "GROUP BY jurisdiction, channel, rule, reason ORDER BY jurisdiction, channel, rule, reason"
    ),
    "channels_of": (
        "SELECT recipient_id, channel, rule, reason, log_required FROM channel_decisions WHERE notice = ?"
    ),
    "channels_notices": "SELECT DISTINCT notice FROM channel_decisions ORDER BY notice",
    "notice_log_sync": (
        "INSERT INTO notice_log (attempt_id, notice, recipient_id, at, channel, message_id, rule, logged_at) "
        "SELECT a.id, m.notice, m.recipient_id, a.at, 'email', coalesce(m.message_id, ''), d.rule, ? "
        "FROM attempts a JOIN messages m ON m.id = a.message JOIN channel_decisions d "
        "ON d.notice = m.notice AND d.recipient_id = m.recipient_id "
        "WHERE a.verdict = 'accepted' AND d.log_required = 1 "
        "AND NOT EXISTS (SELECT 1 FROM notice_log n WHERE n.attempt_id = a.id) "
        "ON CONFLICT (attempt_id) DO NOTHING"  # two senders ending at once log each notice once
    ),
    "channels_unemailed": (
        "SELECT d.notice, d.recipient_id, r.email, r.fields, r.source, r.line FROM channel_decisions d "
        "JOIN recipients r ON r.id = d.recipient_id WHERE (? IS NULL OR d.notice = ?) AND NOT EXISTS "
        "(SELECT 1 FROM messages m WHERE m.notice = d.notice AND m.recipient_id = d.recipient_id) "
        "ORDER BY d.notice, d.recipient_id"
    ),
    "notice_log_rows": (
        "SELECT n.at, n.notice, r.email, r.fields, n.channel, n.message_id, n.rule FROM notice_log n "
        "JOIN recipients r ON r.id = n.recipient_id ORDER BY n.at, n.attempt_id"
    ),
    # Credit-monitoring offers (issue 17): code pools, one code per (offer, recipient), take-up.
    "offer_code_add": (
        "INSERT INTO offer_codes (offer, pool, code, imported_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (offer, code) DO NOTHING"
    ),
    "offer_code_of": "SELECT code FROM offer_codes WHERE offer = ? AND issued_to = ?",
    # One writer at a time already (BEGIN IMMEDIATE): nothing to lock per recipient.
    "offer_lock_recipient": "SELECT ?, ?",
    "offer_code_issue": (
        "UPDATE offer_codes SET issued_to = ?, issued_at = ? WHERE id = (SELECT id FROM offer_codes "
        "WHERE offer = ? AND pool = ? AND issued_to IS NULL AND id > ? ORDER BY id LIMIT 1) "
        "AND issued_to IS NULL RETURNING code, id"
    ),
    "offer_codes_of": (
        "SELECT issued_to, offer, code, pool FROM offer_codes "
        "WHERE issued_to IN (SELECT value FROM json_each(?))"
    ),
    "offer_counts": (
        "SELECT offer, pool, count(*), count(issued_to), count(enrolled_at) FROM offer_codes "
        "GROUP BY offer, pool ORDER BY offer, pool"
    ),
    "offer_enrol": (
        "UPDATE offer_codes SET enrolled_at = coalesce(enrolled_at, ?) WHERE offer = ? AND code = ? "
        "RETURNING issued_to"
    ),
    "offer_free": "SELECT count(*) FROM offer_codes WHERE offer = ? AND pool = ? AND issued_to IS NULL",
    # Letters (issue 16): the batches `letters build` wrote, and returned mail.
    "letters_ids": "SELECT letter_id FROM letters WHERE notice = ?",
    "letters_last_batch": "SELECT coalesce(max(batch), 0) FROM letters WHERE notice = ?",
    "letters_add": (
        "INSERT INTO letters (notice, letter_id, key, batch, file, first_page, pages, address, "
        "addressee, source, built_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "letters_rows": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE notice = ? ORDER BY batch, first_page"
    ),
    "letters_by_id": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE notice = ? AND letter_id = ?"
    ),
    "letters_by_row": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE notice = ? ORDER BY batch, first_page "
        "LIMIT 1 OFFSET ?"
    ),
    "letters_return": (
        "UPDATE letters SET returned_at = ?, return_reason = ? WHERE notice = ? AND letter_id = ? "
        "AND returned_at IS NULL"
    ),
    "letters_returned": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE returned_at IS NOT NULL "
        "AND (? = '' OR notice = ?) ORDER BY notice, batch, first_page"
    ),
    "letters_keys": "SELECT key FROM letters WHERE notice = ?",
    # The campaign console (notifier/ledger/sqlite/console.py).
    "attempt_timeline": (
        "SELECT CAST(a.at / ? AS INTEGER) * ?, a.verdict, count(*) FROM attempts a "
        "JOIN messages m ON m.id=a.message WHERE m.notice=? GROUP BY 1, 2 ORDER BY 1"
    ),
    "people_states": (
        "SELECT r.key, m.state, m.attempts, m.reason, m.last_code, r.id FROM messages m "
        "JOIN recipients r ON r.id=m.recipient_id "
        "WHERE m.notice=? AND r.key IN (SELECT value FROM json_each(?))"
    ),
    "person_events": (
        "SELECT a.at, m.notice, 'attempt ' || a.verdict, COALESCE(a.code || ' ', '') || a.text "
        "FROM attempts a JOIN messages m ON m.id=a.message JOIN recipients r ON r.id=m.recipient_id "
        "WHERE r.key=? "
        "UNION ALL SELECT e.at, COALESCE(m.notice, ''), e.kind, e.reason FROM bounce_events e "
        "LEFT JOIN messages m ON m.id=e.message LEFT JOIN recipients r ON r.id=m.recipient_id "
        "WHERE r.key=? OR (e.message IS NULL AND e.address=?) "
        "UNION ALL SELECT at, '', 'unsubscribed', via FROM unsubscribes WHERE key=? "
        "UNION ALL SELECT at, '', 'suppressed', reason FROM suppressions WHERE key=?"
    ),
}
