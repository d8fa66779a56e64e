"""PostgreSQL's named statements: the same names as ``statements_sqlite.SQL``, in PostgreSQL's own
words (%s placeholders, a list as one array parameter, ON CONFLICT, quoted "user").
"""

from __future__ import annotations

__all__ = ["SQL"]

# A failed or bounced message --retry-failed sends again (one parameter: the reasons never retried).
_RETRYABLE = (
    "m.state IN ('failed', 'bounced') AND coalesce(m.reason, '') <> ALL(%s::text[]) "
    "AND NOT EXISTS (SELECT 1 FROM recipients r JOIN suppressions s ON s.key = r.key "
    "WHERE r.id = m.recipient_id)"
)

# The named statements of SqliteLedger (sqlite.SQL), with the same names, in PostgreSQL's own
# words: %s placeholders, a list as one array parameter (= ANY), ON CONFLICT, quoted "user".
SQL: dict[str, str] = {
    "notices": "SELECT DISTINCT notice FROM messages ORDER BY notice",
    "counts": "SELECT state, count(*) FROM messages WHERE notice = %s GROUP BY state",
    "status_deferred": (
        "SELECT count(*), min(next_attempt_at) FROM messages WHERE notice = %s AND state = 'deferred'"
    ),
    "status_errors": (
        "SELECT last_code, count(*), max(last_text) FROM messages WHERE notice = %s "
        "AND state IN ('deferred', 'failed') GROUP BY last_code ORDER BY count(*) DESC"
    ),
    "status_reasons": (
        "SELECT reason, count(*) FROM messages WHERE notice = %s "
        "AND state IN ('deferred', 'failed', 'bounced') AND reason IS NOT NULL "
        "GROUP BY reason ORDER BY count(*) DESC"
    ),
    "status_duplicated": "SELECT count(*) FROM messages WHERE notice = %s AND possibly_duplicated = 1",
    "status_duplicated_emails": (
        "SELECT r.email FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.notice = %s AND m.possibly_duplicated = 1 ORDER BY m.id LIMIT %s"
    ),
    "outcome_rows": (
        "SELECT m.id, split_part(r.email, '@', 2), m.state, coalesce(m.reason, ''), "
        "EXISTS (SELECT 1 FROM bounce_events e WHERE e.message = m.id AND e.kind = 'delivered'), "
        "EXISTS (SELECT 1 FROM bounce_events e WHERE e.message = m.id AND e.kind = 'complaint') "
        "FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.notice = %s"
    ),
    "recent_lists": (
        "SELECT path, rows, valid, invalid, duplicates, imported_at FROM lists WHERE complete = 1 "
        "ORDER BY id DESC LIMIT %s"
    ),
    "recent_runs": (
        'SELECT id, notice, segment, status, started_at, ended_at, "user", host, summary FROM runs '
        "ORDER BY id DESC LIMIT %s"
    ),
    "report_rows": (
        "SELECT m.id, m.recipient_id, m.notice, m.state, COALESCE(r.email, i.email, ''), "
        "COALESCE(r.fields, i.fields), m.attempts, m.last_code, COALESCE(m.last_text, i.reason), "
        "m.queue_id, m.message_id, m.first_attempt_at, m.last_attempt_at, m.sent_at, "
        "m.possibly_duplicated, COALESCE(r.source, l.path), COALESCE(r.line, i.line), m.reason "
        "FROM messages m LEFT JOIN recipients r ON r.id = m.recipient_id "
        "LEFT JOIN list_issues i ON i.id = m.issue_id LEFT JOIN lists l ON l.id = i.list_id "
        "WHERE (%s::int = 0 OR m.state = ANY(%s::text[])) AND (%s::text IS NULL OR m.notice = %s) "
        "AND (%s::int = 0 OR m.possibly_duplicated = 1) ORDER BY m.notice, m.id"
    ),
    "schedule_rows": "SELECT id, notice, segment, state, created_at, note FROM schedules ORDER BY id",
    "recipient_key_of": (
        "SELECT r.key FROM messages m JOIN recipients r ON r.id = m.recipient_id WHERE m.id = %s"
    ),
    "message_by_queue_id": (
        "SELECT m.id FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.queue_id = %s AND r.key = %s"
    ),
    "message_by_message_id": (
        "SELECT m.id FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.message_id = %s AND r.key = %s"
    ),
    "was_sent_to": (
        "SELECT 1 FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE r.key = %s AND m.sent_at IS NOT NULL LIMIT 1"
    ),
    "event_seen": "SELECT 1 FROM bounce_events WHERE digest = ANY(%s::text[]) LIMIT 1",
    # Batched bounce recording: one batch at a time across every machine (the seen-before check
    # and the writes must not interleave with another ingest's).
    "bounce_lock": "SELECT pg_advisory_xact_lock(7310004)",
    "seen_digests": "SELECT digest FROM bounce_events WHERE digest = ANY(%s::text[])",
    "recipient_keys_of": (
        "SELECT m.id, r.key FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.id = ANY(%s::bigint[])"
    ),
    "soft_history": (
        "SELECT address, kind, hard, event_at FROM bounce_events WHERE message IS NOT NULL "
        "AND (kind IN ('bounce', 'delivered') OR hard = 1) AND address = ANY(%s::text[])"
    ),
    # ---- the methods PgLedger inherits from SqliteLedger run these ----
    "begin": "BEGIN",
    "commit": "COMMIT",
    "rollback": "ROLLBACK",
    "meta_get": "SELECT value FROM meta WHERE key = %s",
    "meta_add": "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
    "meta_set": (
        "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
    ),
    # Lists.
    "find_import": (
        "SELECT id, rows, valid, invalid, duplicates, warnings FROM lists "
        "WHERE path = %s AND sha256 = %s AND complete = 1"
    ),
    "stale_imports": "SELECT id FROM lists WHERE complete = 0",
    "drop_stale_imports": "DELETE FROM lists WHERE complete = 0",
    "new_import": "INSERT INTO lists (path, sha256, imported_at) VALUES (%s, %s, %s) RETURNING id",
    "forget_members": "DELETE FROM list_members WHERE list_id = %s",
    "forget_issues": "DELETE FROM list_issues WHERE list_id = %s",
    "add_reject": (
        "INSERT INTO list_issues (list_id, line, kind, reason, email, raw, fields) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)"
    ),
    "add_warning": (
        "INSERT INTO list_issues (list_id, line, kind, reason, email) VALUES (%s, %s, 'warning', %s, %s)"
    ),
    "complete_import": (
        "UPDATE lists SET rows = %s, valid = %s, invalid = %s, duplicates = %s, warnings = %s, complete = 1 "
        "WHERE id = %s"
    ),
    "import_lookup": (
        "SELECT r.key, r.id, r.fields, r.line, EXISTS (SELECT 1 FROM list_members lm WHERE lm.list_id = %s "
        "AND lm.recipient_id = r.id) FROM recipients r WHERE r.key = ANY(%s::text[])"
    ),
    "new_recipient_ids": (
        "SELECT nextval(pg_get_serial_sequence('recipients', 'id')) FROM generate_series(1, %s)"
    ),
    # Bulk writes go through COPY (PgLedger._bulk).
    "bulk_recipient": "COPY recipients (id, key, email, fields, source, line, smtputf8) FROM STDIN",
    "bulk_member": "COPY list_members (list_id, recipient_id) FROM STDIN",
    "replace_recipient": (
        "UPDATE recipients SET email = %s, fields = %s, source = %s, line = %s, smtputf8 = %s WHERE id = %s"
    ),
    "merge_fields": "UPDATE recipients SET fields = %s WHERE id = %s",
    "add_duplicate": (
        "INSERT INTO list_issues (list_id, line, kind, reason, email, recipient_id) "
        "VALUES (%s, %s, 'duplicate', %s, %s, %s)"
    ),
    "list_issues": (
        "SELECT l.path, i.line, i.kind, i.reason, i.email, i.raw FROM list_issues i "
        "JOIN lists l ON l.id = i.list_id WHERE i.list_id = ANY(%s::bigint[]) "
        "AND i.kind = ANY(%s::text[]) ORDER BY l.path, i.line"
    ),
    # Planning a run.
    "clear_targets": "DELETE FROM run_targets",
    "member_ids": (
        "SELECT r.id FROM recipients r WHERE r.id > %s AND EXISTS (SELECT 1 FROM list_members lm "
        "WHERE lm.recipient_id = r.id AND lm.list_id = ANY(%s::bigint[])) ORDER BY r.id LIMIT %s"
    ),
    "recipients_by_id": (
        "SELECT id, email, key, source, line, fields, smtputf8 FROM recipients WHERE id = ANY(%s::bigint[])"
    ),
    # The render check's groups (see statements_sqlite.py); each {key} takes the field's name
    # once per %s (SQLite: a JSON path per ?). jsonb's text form keeps the type apart ("1" from 1),
    # as SQLite's json_type does, and a JSON null apart from a missing field.
    "group_present": "(r.fields::jsonb -> %s) IS NOT NULL",
    "group_truthy": (
        "CASE jsonb_typeof(r.fields::jsonb -> %s) "
        "WHEN 'string' THEN CASE WHEN r.fields::jsonb ->> %s <> '' THEN 't1' ELSE 't0' END "
        "WHEN 'array' THEN CASE WHEN jsonb_array_length(r.fields::jsonb -> %s) > 0 THEN 'a1' ELSE 'a0' END "
        "ELSE coalesce((r.fields::jsonb -> %s)::text, '') END"
    ),
    "group_valued": "(r.fields::jsonb -> %s)::text",
    "targets_by_fields": (
        "SELECT min(r.id), count(*) FROM run_targets t JOIN messages m ON m.id = t.id "
        "JOIN recipients r ON r.id = m.recipient_id WHERE m.state IN ('pending', 'deferred') GROUP BY {keys}"
    ),
    "plan_batch": (
        "SELECT r.id, r.fields, r.email, r.source, r.line, r.key FROM recipients r WHERE r.id > %s "
        "AND EXISTS (SELECT 1 FROM list_members lm WHERE lm.recipient_id = r.id "
        "AND lm.list_id = ANY(%s::bigint[])) ORDER BY r.id LIMIT %s"
    ),
    "plan_message": (
        "INSERT INTO messages (notice, recipient_id, state) SELECT %s, r.id, "
        "CASE WHEN s.key IS NULL THEN 'pending' ELSE 'suppressed' END FROM recipients r "
        "LEFT JOIN suppressions s ON s.key = r.key WHERE r.id = ANY(%s::bigint[]) ON CONFLICT DO NOTHING"
    ),
    "plan_target": (
        "INSERT INTO run_targets (id) SELECT id FROM messages WHERE notice = %s "
        "AND recipient_id = ANY(%s::bigint[]) ON CONFLICT DO NOTHING"
    ),
    "recipient_id_range": "SELECT min(id), max(id) FROM recipients",
    "plan_all_messages": (
        "INSERT INTO messages (notice, recipient_id, state) SELECT %s, r.id, "
        "CASE WHEN s.key IS NULL THEN 'pending' ELSE 'suppressed' END FROM recipients r "
        "LEFT JOIN suppressions s ON s.key = r.key WHERE EXISTS (SELECT 1 FROM list_members lm "
        "WHERE lm.recipient_id = r.id AND lm.list_id = ANY(%s::bigint[])) AND r.id > %s AND r.id <= %s "
        "ON CONFLICT DO NOTHING"
    ),
    "plan_all_targets": (
        "INSERT INTO run_targets (id) SELECT m.id FROM messages m WHERE m.notice = %s "
        "AND EXISTS (SELECT 1 FROM list_members lm WHERE lm.recipient_id = m.recipient_id "
        "AND lm.list_id = ANY(%s::bigint[])) AND m.recipient_id > %s AND m.recipient_id <= %s "
        "ON CONFLICT DO NOTHING"
    ),
    "plan_issues": (
        "SELECT i.id, i.fields, l.path, i.line FROM list_issues i JOIN lists l ON l.id = i.list_id "
        "WHERE i.list_id = ANY(%s::bigint[]) AND i.kind IN ('invalid', 'malformed')"
    ),
    "plan_invalid": (
        "INSERT INTO messages (notice, issue_id, state) VALUES (%s, %s, 'invalid') ON CONFLICT DO NOTHING"
    ),
    "plan_issue_target": (
        "INSERT INTO run_targets (id) SELECT id FROM messages WHERE notice = %s AND issue_id = %s "
        "ON CONFLICT DO NOTHING"
    ),
    "plan_resend": (
        "UPDATE messages SET state = 'pending', next_attempt_at = NULL, first_attempt_at = NULL "
        "WHERE id IN (SELECT id FROM run_targets) AND state IN ('sent', 'failed', 'bounced', 'deferred')"
    ),
    "plan_failed_before": (
        "SELECT how, reason, retryable, count(*) FROM (SELECT CASE WHEN m.state = 'bounced' THEN 'bounced' "
        "WHEN (SELECT a.verdict FROM attempts a WHERE a.message = m.id ORDER BY a.id DESC LIMIT 1) "
        "= 'temporary' THEN 'gave_up' ELSE 'refused' END AS how, coalesce(m.reason, 'other') AS reason, "
        f"CASE WHEN {_RETRYABLE} THEN 1 ELSE 0 END AS retryable FROM run_targets t "
        "JOIN messages m ON m.id = t.id WHERE m.state IN ('failed', 'bounced')) f "
        "GROUP BY how, reason, retryable"
    ),
    "plan_retry_failed": (
        "UPDATE messages SET state = 'pending', next_attempt_at = NULL, first_attempt_at = NULL WHERE id IN "
        f"(SELECT m.id FROM run_targets t JOIN messages m ON m.id = t.id WHERE {_RETRYABLE})"
    ),
    "plan_skip_unsubscribed": (
        "UPDATE messages SET state = 'suppressed', reason = 'unsubscribed' "
        "WHERE id IN (SELECT id FROM run_targets) AND state IN ('pending', 'deferred') "
        "AND recipient_id IN (SELECT r.id FROM recipients r JOIN unsubscribes u ON u.key = r.key)"
    ),
    "plan_skip_complained": (
        "UPDATE messages SET state = 'suppressed', reason = 'complained' "
        "WHERE id IN (SELECT id FROM run_targets) AND state IN ('pending', 'deferred') "
        "AND recipient_id IN (SELECT r.id FROM recipients r WHERE r.key IN "
        "(SELECT address FROM bounce_events WHERE kind = 'complaint' AND message IS NOT NULL) OR r.id IN "
        "(SELECT m2.recipient_id FROM bounce_events e JOIN messages m2 ON m2.id = e.message "
        "WHERE e.kind = 'complaint'))"
    ),
    "plan_resuppress": (
        "UPDATE messages SET state = 'suppressed' WHERE id IN (SELECT id FROM run_targets) "
        "AND state IN ('pending', 'deferred') AND recipient_id IN "
        "(SELECT r.id FROM recipients r JOIN suppressions s ON s.key = r.key)"
    ),
    "plan_unsuppress": (
        "UPDATE messages SET state = 'pending' WHERE id IN (SELECT id FROM run_targets) "
        "AND state = 'suppressed' AND coalesce(reason, '') NOT IN ('unsubscribed', 'complained') "
        "AND recipient_id NOT IN (SELECT r.id FROM recipients r JOIN suppressions s ON s.key = r.key)"
    ),
    "plan_counts": (
        "SELECT m.state, count(*) FROM run_targets t JOIN messages m ON m.id = t.id GROUP BY m.state"
    ),
    "due_targets": (
        "SELECT t.id, r.fields, r.email FROM run_targets t JOIN messages m ON m.id = t.id "
        "JOIN recipients r ON r.id = m.recipient_id WHERE m.state IN ('pending', 'deferred')"
    ),
    "drop_target": "DELETE FROM run_targets WHERE id = %s",
    "targets_to_send": (
        "SELECT m.id, m.attempts, m.first_attempt_at, m.possibly_duplicated, r.email, r.key, r.fields, "
        "r.source, r.line, r.smtputf8 FROM run_targets t JOIN messages m ON m.id = t.id "
        "JOIN recipients r ON r.id = m.recipient_id WHERE m.state IN ('pending', 'deferred') ORDER BY m.id"
    ),
    # A run.
    "start_run": (
        'INSERT INTO runs (notice, segment, started_at, pid, host, "user", transport, status, options) '
        "VALUES (%s, %s, %s, %s, %s, %s, %s, 'running', %s) RETURNING id"
    ),
    "release": (
        "UPDATE messages SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'pending' END, "
        "next_attempt_at = COALESCE(next_attempt_at, 0) WHERE id = %s AND state = 'sending'"
    ),
    "next_retry_at": (
        "SELECT min(next_attempt_at) FROM messages WHERE notice = %s AND state = 'deferred' "
        "AND id IN (SELECT id FROM run_targets)"
    ),
    "record_check": (
        'INSERT INTO checks (at, "user", kind, notice, run_id, failed, report) '
        "VALUES (%s, %s, %s, %s, %s, %s, %s)"
    ),
    "record_test": (
        'INSERT INTO test_sends (at, "user", notice, seed, accepted, reply) VALUES (%s, %s, %s, %s, %s, %s)'
    ),
    "end_run": "UPDATE runs SET ended_at = %s, status = %s, summary = %s WHERE id = %s",
    # Suppressions, unsubscribes, bounces.
    "suppress": (
        "INSERT INTO suppressions (key, reason, at, source) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ),
    "unsuppress": "DELETE FROM suppressions WHERE key = %s",
    "suppressions": "SELECT key, reason, at, source FROM suppressions ORDER BY key",
    "bounce_event": (
        "INSERT INTO bounce_events "
        "(digest, at, source, kind, address, message, matched, reason, hard, event_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ),
    "bounce_message": "UPDATE messages SET state='bounced', reason = %s WHERE id = %s AND state = 'sent'",
    "soft_streak": (
        "SELECT count(*), coalesce(max(event_at) - min(event_at), 0) FROM bounce_events "
        "WHERE address = %s AND kind = 'bounce' AND hard = 0 AND message IS NOT NULL AND event_at > coalesce("
        "(SELECT max(event_at) FROM bounce_events WHERE address = %s AND message IS NOT NULL "
        "AND (kind = 'delivered' OR hard = 1)), 0)"
    ),
    "unsubscribe": (
        "INSERT INTO unsubscribes (key, at, message, via) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ),
    "is_unsubscribed": (
        "SELECT 1 FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "JOIN unsubscribes u ON u.key = r.key WHERE m.id = %s"
    ),
    # The audit trail.
    "audit_count": "SELECT count(*) FROM audit",
    "audit_last": "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "audit_append": (
        'INSERT INTO audit (seq, at, "user", host, action, details, prev, hash) '
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "audit_entries": 'SELECT seq, at, "user", host, action, details, prev, hash FROM audit ORDER BY seq',
    "activity_lists": "SELECT count(*), min(imported_at) FROM lists",
    "activity_runs": "SELECT count(*), min(started_at) FROM runs",
    "activity_messages": "SELECT count(*) FROM messages",
    # Run and schedule reads.
    "first_sent_at": "SELECT min(sent_at) FROM messages WHERE notice = %s",
    "oldest_sent_since": "SELECT min(sent_at) FROM messages WHERE sent_at > %s",
    "complete_lists": (
        "SELECT path, sha256 FROM lists WHERE complete = 1 "
        "AND id IN (SELECT max(id) FROM lists GROUP BY path)"
    ),
    "waiting_in_run": (
        "SELECT count(*) FROM messages m JOIN run_targets t ON t.id = m.id WHERE m.state = 'deferred'"
    ),
    "schedules": (
        'SELECT id, notice, segment, after_s, at, "window", state, created_at, created_by, confirmed_at, '
        "last_run_at, note FROM schedules ORDER BY id"
    ),
    "add_schedule": (
        'INSERT INTO schedules (notice, segment, after_s, at, "window", state, created_at, created_by) '
        "VALUES (%s, %s, %s, %s, %s, 'waiting', %s, %s) RETURNING id"
    ),
    "set_schedule_state": (
        "UPDATE schedules SET state = %s, note = %s, last_run_at = coalesce(%s, last_run_at), "
        "confirmed_at = coalesce(%s, confirmed_at) WHERE id = %s"
    ),
    # Audience reads (notifier.lists.audience): keys as one text[] parameter.
    "states_for": (
        "SELECT r.key, m.state FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.notice = %s AND r.key = ANY(%s::text[])"
    ),
    "complained": (
        "SELECT r.key FROM bounce_events e JOIN messages m ON m.id = e.message "
        "JOIN recipients r ON r.id = m.recipient_id WHERE e.kind = 'complaint' AND r.key = ANY(%s::text[]) "
        "UNION SELECT address FROM bounce_events WHERE kind = 'complaint' AND message IS NOT NULL "
        "AND address = ANY(%s::text[])"
    ),
    "unsubscribed": "SELECT key FROM unsubscribes WHERE key = ANY(%s::text[])",
    "suppressed": "SELECT key, reason FROM suppressions WHERE key = ANY(%s::text[])",
    "accepted_at": (
        "SELECT r.key, m.sent_at FROM messages m JOIN recipients r ON r.id = m.recipient_id "
        "WHERE m.notice = %s AND m.state IN ('sent', 'bounced') AND m.sent_at IS NOT NULL "
        "AND r.key = ANY(%s::text[])"
    ),
    "filings": 'SELECT rule, at, ref, "user" FROM filings ORDER BY rule',
    "mark_filed": (
        'INSERT INTO filings (rule, at, ref, "user", recorded_at) VALUES (%s, %s, %s, %s, %s) '
        "ON CONFLICT (rule) DO UPDATE SET at = EXCLUDED.at, ref = EXCLUDED.ref, "
        '"user" = EXCLUDED."user", recorded_at = EXCLUDED.recorded_at'
    ),
    # Notice channels (issue 16): one decision per (notice, recipient); the NY notice log.
    "channels_record": (
        "INSERT INTO channel_decisions (notice, recipient_id, channel, rule, reason, jurisdiction, "
        "log_required, rules_version, decided_at) SELECT %s, id, %s, %s, %s, %s, %s, %s, %s FROM recipients "
        "WHERE key = %s ON CONFLICT (notice, recipient_id) DO UPDATE SET channel = excluded.channel, "
        "rule = excluded.rule, reason = excluded.reason, jurisdiction = excluded.jurisdiction, "
        "log_required = excluded.log_required, rules_version = excluded.rules_version, "
        "decided_at = excluded.decided_at"
    ),
    "channels_counts": (
        "SELECT jurisdiction, channel, rule, reason, count(*) FROM channel_decisions WHERE notice = %s "
        "GROUP BY jurisdiction, channel, rule, reason ORDER BY jurisdiction, channel, rule, reason"
    ),
    "channels_of": (
        "SELECT recipient_id, channel, rule, reason, log_required FROM channel_decisions WHERE notice = %s"
    ),
    "channels_notices": "SELECT DISTINCT notice FROM channel_decisions ORDER BY notice",
    "notice_log_sync": (
        "INSERT INTO notice_log (attempt_id, notice, recipient_id, at, channel, message_id, rule, logged_at) "
        "SELECT a.id, m.notice, m.recipient_id, a.at, 'email', coalesce(m.message_id, ''), d.rule, %s "
        "FROM attempts a JOIN messages m ON m.id = a.message JOIN channel_decisions d "
        "ON d.notice = m.notice AND d.recipient_id = m.recipient_id "
        "WHERE a.verdict = 'accepted' AND d.log_required = 1 "
        "AND NOT EXISTS (SELECT 1 FROM notice_log n WHERE n.attempt_id = a.id) "
        "ON CONFLICT (attempt_id) DO NOTHING"  # two senders ending at once log each notice once
    ),
    "channels_unemailed": (
        "SELECT d.notice, d.recipient_id, r.email, r.fields, r.source, r.line FROM channel_decisions d "
        "JOIN recipients r ON r.id = d.recipient_id WHERE (%s::text IS NULL OR d.notice = %s) AND NOT EXISTS "
        "(SELECT 1 FROM messages m WHERE m.notice = d.notice AND m.recipient_id = d.recipient_id) "
        "ORDER BY d.notice, d.recipient_id"
    ),
    "notice_log_rows": (
        "SELECT n.at, n.notice, r.email, r.fields, n.channel, n.message_id, n.rule FROM notice_log n "
        "JOIN recipients r ON r.id = n.recipient_id ORDER BY n.at, n.attempt_id"
    ),
    # Credit-monitoring offers (issue 17): code pools, one code per (offer, recipient), take-up.
    "offer_code_add": (
        "INSERT INTO offer_codes (offer, pool, code, imported_at) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (offer, code) DO NOTHING"
    ),
    "offer_code_of": "SELECT code FROM offer_codes WHERE offer = %s AND issued_to = %s",
    # Two senders issuing to the same person at once (the same recipient in two notices, or both
    # senders' pre-send pass): the second waits for the first's transaction, then finds its code.
    "offer_lock_recipient": "SELECT pg_advisory_xact_lock(7310017, hashtext(%s || chr(10) || %s))",
    # FOR UPDATE SKIP LOCKED: concurrent senders each take a different free code, never the same.
    # "id > %s": each sender walks the pool from where its last code came from, so it does not
    # step again over the index entries of every code issued before (dead until vacuumed).
    "offer_code_issue": (
        "UPDATE offer_codes SET issued_to = %s, issued_at = %s WHERE id = (SELECT id FROM offer_codes "
        "WHERE offer = %s AND pool = %s AND issued_to IS NULL AND id > %s ORDER BY id LIMIT 1 "
        "FOR UPDATE SKIP LOCKED) AND issued_to IS NULL RETURNING code, id"
    ),
    "offer_codes_of": (
        "SELECT issued_to, offer, code, pool FROM offer_codes WHERE issued_to = ANY(%s::text[])"
    ),
    "offer_counts": (
        "SELECT offer, pool, count(*), count(issued_to), count(enrolled_at) FROM offer_codes "
        "GROUP BY offer, pool ORDER BY offer, pool"
    ),
    "offer_enrol": (
        "UPDATE offer_codes SET enrolled_at = coalesce(enrolled_at, %s) WHERE offer = %s AND code = %s "
        "RETURNING issued_to"
    ),
    "offer_free": "SELECT count(*) FROM offer_codes WHERE offer = %s AND pool = %s AND issued_to IS NULL",
    # Letters (issue 16): the batches `letters build` wrote, and returned mail.
    "letters_ids": "SELECT letter_id FROM letters WHERE notice = %s",
    "letters_last_batch": "SELECT coalesce(max(batch), 0) FROM letters WHERE notice = %s",
    "letters_add": (
        "INSERT INTO letters (notice, letter_id, key, batch, file, first_page, pages, address, "
        "addressee, source, built_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    ),
    "letters_rows": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE notice = %s ORDER BY batch, first_page"
    ),
    "letters_by_id": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE notice = %s AND letter_id = %s"
    ),
    "letters_by_row": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE notice = %s ORDER BY batch, first_page "
        "LIMIT 1 OFFSET %s"
    ),
    "letters_return": (
        "UPDATE letters SET returned_at = %s, return_reason = %s WHERE notice = %s AND letter_id = %s "
        "AND returned_at IS NULL"
    ),
    "letters_returned": (
        "SELECT notice, letter_id, key, batch, file, first_page, pages, address, addressee, source, "
        "built_at, returned_at, return_reason FROM letters WHERE returned_at IS NOT NULL "
        "AND (%s::text = '' OR notice = %s) ORDER BY notice, batch, first_page"
    ),
    "letters_keys": "SELECT key FROM letters WHERE notice = %s",
    # The campaign console (notifier/ledger/sqlite/console.py).
    "attempt_timeline": (
        "SELECT floor(a.at / %s) * %s, a.verdict, count(*) FROM attempts a "
        "JOIN messages m ON m.id = a.message WHERE m.notice = %s GROUP BY 1, 2 ORDER BY 1"
    ),
    "people_states": (
        "SELECT r.key, m.state, m.attempts, m.reason, m.last_code, r.id FROM messages m "
        "JOIN recipients r ON r.id = m.recipient_id WHERE m.notice = %s AND r.key = ANY(%s::text[])"
    ),
    "person_events": (
        "SELECT a.at, m.notice, 'attempt ' || a.verdict, COALESCE(a.code::text || ' ', '') || a.text "
        "FROM attempts a JOIN messages m ON m.id = a.message JOIN recipients r ON r.id = m.recipient_id "
        "WHERE r.key = %s "
        "UNION ALL SELECT e.at, COALESCE(m.notice, ''), e.kind, e.reason FROM bounce_events e "
        "LEFT JOIN messages m ON m.id = e.message LEFT JOIN recipients r ON r.id = m.recipient_id "
        "WHERE r.key = %s OR (e.message IS NULL AND e.address = %s) "
        "UNION ALL SELECT at, '', 'unsubscribed', via FROM unsubscribes WHERE key = %s "
        "UNION ALL SELECT at, '', 'suppressed', reason FROM suppressions WHERE key = %s"
    ),
}
