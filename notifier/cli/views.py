"""What `notify status`, `notify report` and `notify lists check` show. Reads the ledger only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, TextIO

from notifier import csvsafe
from notifier.ledger import SqliteLedger
from notifier.models import State

__all__ = [
    "OUTCOMES",
    "REPORT_COLUMNS",
    "outcome_table",
    "outcome_tables",
    "report_rows",
    "status_data",
    "write_outcomes",
    "write_report",
    "write_status",
]

STATE_ORDER = [s.value for s in State]
REPORT_COLUMNS = (
    "notice",
    "state",
    "email",
    "id",
    "first_name",
    "last_name",
    "country",
    "region",
    "postal_address",
    "attempts",
    "last_code",
    "last_reply",
    "reason",
    "queue_id",
    "message_id",
    "first_attempt_at",
    "last_attempt_at",
    "sent_at",
    "possibly_duplicated",
    "list",
    "line",
)


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_OUTCOME_SQL = """
SELECT m.id, substr(r.email, instr(r.email, '@') + 1) AS domain, m.state,
       coalesce(m.reason, '') AS reason,
       EXISTS (SELECT 1 FROM bounce_events e WHERE e.message=m.id AND e.kind='delivered') AS delivered,
       EXISTS (SELECT 1 FROM bounce_events e WHERE e.message=m.id AND e.kind='complaint') AS complained
FROM messages m JOIN recipients r ON r.id=m.recipient_id WHERE m.notice=?
"""
# What each outcome means for "was this person told by email?"
OUTCOMES = ("delivered", "accepted", "complained", "bounced", "deferred", "unreached")
_UNREACHED = ("invalid", "bounced", "failed", "suppressed")


def outcome_tables(ledger: SqliteLedger, notice: str) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per outcome, grouped by "reason" and by "domain", in one pass over the notice.

    delivered: the receiving system confirmed delivery (SES Delivery event); accepted: taken
    by the server, no bounce since; complained: reported as spam (they did receive it);
    bounced: accepted, then bounced; deferred: still being retried; unreached: email will not
    reach them (invalid address, bounced, failed, suppressed): a substitute notice is needed.
    """
    tables: dict[str, dict[str, dict[str, int]]] = {"reason": {}, "domain": {}}
    for _id, domain, state, reason, delivered, complained in ledger.query(_OUTCOME_SQL, (notice,)):
        counts = (
            bool(delivered),
            state == "sent",
            bool(complained),
            state == "bounced",
            state == "deferred",
            state in _UNREACHED,
        )
        keys = {"domain": domain.lower(), "reason": reason or ("invalid" if state == "invalid" else "-")}
        for by, key in keys.items():
            row = tables[by].setdefault(key, dict.fromkeys(OUTCOMES, 0))
            for outcome, hit in zip(OUTCOMES, counts, strict=True):
                row[outcome] += hit
    return {
        by: dict(sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
        for by, table in tables.items()
    }


def outcome_table(ledger: SqliteLedger, notice: str, by: str) -> dict[str, dict[str, int]]:
    """One of :func:`outcome_tables`: ``by`` is "reason" or "domain"."""
    return outcome_tables(ledger, notice)[by]


def _totals(table: dict[str, dict[str, int]]) -> dict[str, int]:
    out = dict.fromkeys(OUTCOMES, 0)
    for row in table.values():
        for k, n in row.items():
            out[k] += n
    return out


def status_data(ledger: SqliteLedger, *, show: int = 20) -> dict[str, Any]:
    notices = []
    for notice in ledger.notices():
        counts = ledger.counts(notice)
        deferred = ledger.query(
            "SELECT count(*), min(next_attempt_at) FROM messages WHERE notice=? AND state='deferred'",
            (notice,),
        )[0]
        errors = ledger.query(
            "SELECT last_code, count(*), max(last_text) FROM messages WHERE notice=? "
            "AND state IN ('deferred', 'failed') GROUP BY last_code ORDER BY count(*) DESC",
            (notice,),
        )
        reasons = ledger.query(
            "SELECT reason, count(*) FROM messages WHERE notice=? "
            "AND state IN ('deferred', 'failed', 'bounced') AND reason IS NOT NULL "
            "GROUP BY reason ORDER BY count(*) DESC",
            (notice,),
        )
        dup_total = ledger.query(
            "SELECT count(*) FROM messages WHERE notice=? AND possibly_duplicated=1", (notice,)
        )[0][0]
        dups = ledger.query(
            "SELECT r.email, m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id "
            "WHERE m.notice=? AND m.possibly_duplicated=1 ORDER BY m.id LIMIT ?",
            (notice, show),
        )
        notices.append(
            {
                "notice": notice,
                "counts": {s: counts.get(s, 0) for s in STATE_ORDER if counts.get(s, 0)},
                "total": sum(counts.values()),
                "retry_queue": {"deferred": deferred[0], "next_retry_at": _iso(deferred[1])},
                "errors": [
                    {"code": code if code is not None else "no reply", "count": n, "last_reply": text}
                    for code, n, text in errors
                ],
                "possibly_duplicated": {"count": dup_total, "recipients": [e for e, _ in dups]},
                "reasons": dict(reasons),
                "outcomes": _totals((tables := outcome_tables(ledger, notice))["domain"]),
                "by_domain": dict(list(tables["domain"].items())[:show]),
                "by_reason": {k: v for k, v in tables["reason"].items() if k != "-"},
            }
        )
    lists = [
        {"path": p, "rows": r, "valid": v, "invalid": i, "duplicates": d, "imported_at": _iso(t)}
        for p, r, v, i, d, t in ledger.query(
            "SELECT path, rows, valid, invalid, duplicates, imported_at FROM lists WHERE complete=1 "
            "ORDER BY id DESC LIMIT 10"
        )
    ]
    runs = [
        {
            "run": i,
            "notice": n,
            "segment": s,
            "status": st,
            "started_at": _iso(a),
            "ended_at": _iso(b),
            "user": u,
            "host": h,
            "summary": json.loads(sm),
        }
        for i, n, s, st, a, b, u, h, sm in ledger.query(
            "SELECT id, notice, segment, status, started_at, ended_at, user, host, summary FROM runs "
            "ORDER BY id DESC LIMIT 5"
        )
    ]
    return {
        "ledger": ledger.label,
        "notices": notices,
        "lists": lists,
        "runs": runs,
        "senders": ledger.live_senders(),
        "stale_leases": ledger.stale_leases(),
    }


def write_status(data: dict[str, Any], out: TextIO) -> None:
    out.write(f"Ledger {data['ledger']}\n")
    if not data["notices"]:
        out.write("Nothing planned or sent yet. Start with `notify send --segment NAME`.\n")
    for n in data["notices"]:
        out.write(f"\nNotice {n['notice']} — {n['total']} recipients\n")
        for state, count in n["counts"].items():
            out.write(f"  {state:<12}{count:>9,}\n")
        rq = n["retry_queue"]
        if rq["deferred"]:
            out.write(f"  retry queue: {rq['deferred']} deferred, next retry at {rq['next_retry_at']}\n")
        pd = n["possibly_duplicated"]
        if pd["count"]:
            out.write(
                f"  possibly duplicated: {pd['count']} — in flight when a run was killed, or the connection "
                "was lost before the server's reply to the message; they were sent again, so some may have "
                "received two copies:\n"
            )
            for email in pd["recipients"]:
                out.write(f"    {email}\n")
            if pd["count"] > len(pd["recipients"]):
                out.write("    ... all of them: notify report --possibly-duplicated\n")
        if n["reasons"]:
            out.write(
                "  not delivered, by reason: " + ", ".join(f"{r} {c}" for r, c in n["reasons"].items()) + "\n"
            )
        o = n["outcomes"]
        out.write(
            f"  by email: {o['delivered']} delivery confirmed, {o['accepted']} accepted, "
            f"{o['complained']} complained, {o['bounced']} bounced, {o['deferred']} deferred, "
            f"{o['unreached']} unreached"
            + (" (substitute notice: notify report --unreached)" if o["unreached"] else "")
            + "\n"
        )
        troubled = {
            d: r for d, r in n["by_domain"].items() if r["bounced"] or r["deferred"] or r["unreached"]
        }
        if troubled:
            out.write("  domains with trouble: ")
            out.write(
                ", ".join(
                    f"{d} ({r['bounced']} bounced, {r['deferred']} deferred, {r['unreached']} unreached)"
                    for d, r in list(troubled.items())[:5]
                )
                + "\n"
            )
        if n["errors"]:
            out.write("  last errors by reply code:\n")
            for e in n["errors"]:
                out.write(f"    {e['code']!s:<9}{e['count']:>7,}  {e['last_reply']}\n")
    if data.get("senders"):
        out.write("\nSenders:\n")
        for x in data["senders"]:
            state = "alive" if x["alive"] else "SILENT (its claims return to the pool when the lease ends)"
            out.write(
                f"  {x['host']} pid {x['pid']}: {x['notice']}, claimed {x['claimed']}, sent {x['sent']}, "
                f"{x['rate']}/s, last heartbeat {x['last_heartbeat_s']} s ago, {state}\n"
            )
    if data.get("stale_leases"):
        out.write(
            f"  {data['stale_leases']} message(s) claimed by a sender that stopped: the next sender resends "
            "them, flagged 'possibly duplicated'\n"
        )
    for item in data["lists"][:3]:
        out.write(
            f"\nList {item['path']}: {item['rows']} rows, {item['valid']} usable, "
            f"{item['invalid']} rejected, "
            f"{item['duplicates']} duplicates merged (imported {item['imported_at']})"
        )
    if data["lists"]:
        out.write("\n")
    for run in data["runs"][:1]:
        s = run["summary"]
        out.write(
            f"Last run #{run['run']} ({run['notice']}, segment {run['segment']}): {run['status']}, "
            f"started {run['started_at']} by {run['user']}@{run['host']}"
            + (
                f"; sent {s.get('sent', 0)}, deferred {s.get('deferred', 0)}, failed {s.get('failed', 0)}"
                if s
                else ""
            )
            + "\n"
        )


def report_rows(
    ledger: SqliteLedger, *, states: list[str], notice: str | None, possibly_duplicated: bool = False
) -> Iterator[dict[str, Any]]:
    where, params = ["1=1"], []
    if states:
        where.append(f"m.state IN ({','.join('?' * len(states))})")
        params += states
    if notice:
        where.append("m.notice=?")
        params.append(notice)
    if possibly_duplicated:
        where.append("m.possibly_duplicated=1")
    sql = (
        "SELECT m.notice, m.state, COALESCE(r.email, i.email), r.fields, i.fields, m.attempts, m.last_code, "
        "COALESCE(m.last_text, i.reason), m.queue_id, m.message_id, m.first_attempt_at, m.last_attempt_at, "
        "m.sent_at, m.possibly_duplicated, COALESCE(r.source, l.path), COALESCE(r.line, i.line), m.reason "
        "FROM messages m LEFT JOIN recipients r ON r.id=m.recipient_id "
        "LEFT JOIN list_issues i ON i.id=m.issue_id LEFT JOIN lists l ON l.id=i.list_id "
        f"WHERE {' AND '.join(where)} ORDER BY m.notice, m.id"
    )
    for row in ledger.rows(sql, params):
        (
            notice_,
            state,
            email,
            rfields,
            ifields,
            attempts,
            code,
            text,
            qid,
            mid,
            first,
            last,
            sent,
            dup,
            source,
            line,
            reason,
        ) = row
        fields = json.loads(rfields or ifields or "{}")
        yield {
            "notice": notice_,
            "state": state,
            "email": email or "",
            "id": fields.get("id", ""),
            "first_name": fields.get("first_name", ""),
            "last_name": fields.get("last_name", ""),
            "country": fields.get("country", ""),
            "region": fields.get("region", ""),
            "postal_address": fields.get("postal_address", ""),
            "attempts": attempts,
            "last_code": code if code is not None else "",
            "last_reply": text or "",
            "reason": reason or ("invalid" if state == "invalid" else ""),
            "queue_id": qid or "",
            "message_id": mid or "",
            "first_attempt_at": _iso(first),
            "last_attempt_at": _iso(last),
            "sent_at": _iso(sent),
            "possibly_duplicated": bool(dup),
            "list": source or "",
            "line": line or "",
        }


def write_report(rows: Iterator[dict[str, Any]], fmt: str, out: TextIO) -> int:
    n = 0
    if fmt == "csv":
        writer = csvsafe.dict_writer(out, REPORT_COLUMNS)  # list values and remote replies: no formulas
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    else:
        out.write("[")
        for row in rows:
            out.write(("," if n else "") + "\n  " + json.dumps(row, ensure_ascii=False))
            n += 1
        out.write("\n]\n")
    return n


def write_outcomes(table: dict[str, dict[str, int]], by: str, fmt: str, out: TextIO) -> int:
    """The outcome table as CSV or JSON; returns the number of rows."""
    if fmt == "json":
        json.dump([{by: k, **v} for k, v in table.items()], out, indent=2)
        out.write("\n")
    else:
        writer = csvsafe.writer(out)  # a domain or reason cell comes from outside
        writer.writerow([by, *OUTCOMES])
        writer.writerows([[k, *(v[o] for o in OUTCOMES)] for k, v in table.items()])
    return len(table)
