"""What `notify status`, `notify report` and `notify lists check` show. Reads the ledger only."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from notifier import csvsafe
from notifier.ledger import Ledger
from notifier.ledger.base import NOT_EMAILED, ReportRow, StoredChannel
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
    "channel",  # email, postal or none-possible, and the channel rule that decided it (issue 16)
    "channel_rule",
    "language",  # the language the notice was written to them in, and why (issue 17)
    "language_reason",
)


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# What each outcome means for "was this person told by email?"
OUTCOMES = ("delivered", "accepted", "complained", "bounced", "deferred", "unreached")
_UNREACHED = ("invalid", "bounced", "failed", "suppressed")


def outcome_tables(ledger: Ledger, notice: str) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per outcome, grouped by "reason" and by "domain", in one pass over the notice.

    delivered: the receiving system confirmed delivery (SES Delivery event); accepted: taken
    by the server, no bounce since; complained: reported as spam (they did receive it);
    bounced: accepted, then bounced; deferred: still being retried; unreached: email will not
    reach them (invalid address, bounced, failed, suppressed): a substitute notice is needed.
    """
    tables: dict[str, dict[str, dict[str, int]]] = {"reason": {}, "domain": {}}
    for o in ledger.outcome_rows(notice):
        state = o.state
        counts = (
            o.delivered,
            state == "sent",
            o.complained,
            state == "bounced",
            state == "deferred",
            state in _UNREACHED,
        )
        keys = {"domain": o.domain.lower(), "reason": o.reason or ("invalid" if state == "invalid" else "-")}
        for by, key in keys.items():
            row = tables[by].setdefault(key, dict.fromkeys(OUTCOMES, 0))
            for outcome, hit in zip(OUTCOMES, counts, strict=True):
                row[outcome] += hit
    return {
        by: dict(sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])))
        for by, table in tables.items()
    }


def outcome_table(ledger: Ledger, notice: str, by: str) -> dict[str, dict[str, int]]:
    """One of :func:`outcome_tables`: ``by`` is "reason" or "domain"."""
    return outcome_tables(ledger, notice)[by]


def _totals(table: dict[str, dict[str, int]]) -> dict[str, int]:
    out = dict.fromkeys(OUTCOMES, 0)
    for row in table.values():
        for k, n in row.items():
            out[k] += n
    return out


def status_data(ledger: Ledger, *, show: int = 20) -> dict[str, Any]:
    notices = []
    for notice in ledger.notices():
        st = ledger.notice_status(notice, show=show)
        counts = st.counts
        notices.append(
            {
                "notice": notice,
                "counts": {s: counts.get(s, 0) for s in STATE_ORDER if counts.get(s, 0)},
                "total": sum(counts.values()),
                "retry_queue": {"deferred": st.deferred, "next_retry_at": _iso(st.next_retry_at)},
                "errors": [
                    {"code": code if code is not None else "no reply", "count": n, "last_reply": text}
                    for code, n, text in st.errors
                ],
                "possibly_duplicated": {"count": st.duplicated, "recipients": st.duplicated_emails},
                "reasons": st.reasons,
                "outcomes": _totals((tables := outcome_tables(ledger, notice))["domain"]),
                "by_domain": dict(list(tables["domain"].items())[:show]),
                "by_reason": {k: v for k, v in tables["reason"].items() if k != "-"},
                "channels": _channel_totals(ledger, notice),
            }
        )
    lists = [
        {
            "path": x.path,
            "rows": x.rows,
            "valid": x.valid,
            "invalid": x.invalid,
            "duplicates": x.duplicates,
            "imported_at": _iso(x.imported_at),
        }
        for x in ledger.recent_lists(10)
    ]
    runs = [
        {
            "run": r.id,
            "notice": r.notice,
            "segment": r.segment,
            "status": r.status,
            "started_at": _iso(r.started_at),
            "ended_at": _iso(r.ended_at),
            "user": r.user,
            "host": r.host,
            "summary": r.summary,
        }
        for r in ledger.recent_runs(5)
    ]
    return {
        "ledger": ledger.label,
        "notices": notices,
        "lists": lists,
        "runs": runs,
        "senders": ledger.live_senders(),
        "stale_leases": ledger.stale_leases(),
    }


def _channel_totals(ledger: Ledger, notice: str) -> dict[str, int]:
    """People of ``notice`` by the channel the send plan decided (empty before any plan)."""
    out: dict[str, int] = {}
    for c in ledger.channel_counts(notice):
        out[c.channel] = out.get(c.channel, 0) + c.people
    return out


def write_status(data: dict[str, Any], out: TextIO) -> None:
    out.write(f"Ledger {data['ledger']}\n")
    if not data["notices"]:
        out.write("Nothing planned or sent yet. Start with `notify send --segment NAME`.\n")
    for n in data["notices"]:
        out.write(f"\nNotice {n['notice']} — {n['total']} recipients\n")
        for state, count in n["counts"].items():
            out.write(f"  {state:<12}{count:>9,}\n")
        ch = n.get("channels") or {}
        if ch:
            out.write(
                f"  channels: {ch.get('email', 0)} by email, {ch.get('postal', 0)} by letter, "
                f"{ch.get('none-possible', 0)} with no lawful channel (`notify channels` says why)\n"
            )
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
    ledger: Ledger,
    *,
    states: list[str],
    notice: str | None,
    possibly_duplicated: bool = False,
    language_of: Callable[[str, dict[str, Any]], tuple[str, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    """``language_of(notice, fields)``: (language, why) as the notice's language policy chooses."""
    channels: dict[str, dict[int, StoredChannel]] = {}  # per notice, read once

    def channel(r: ReportRow) -> StoredChannel | None:
        if r.notice not in channels:
            channels[r.notice] = ledger.channels_of(r.notice)
        return channels[r.notice].get(r.recipient_id) if r.recipient_id is not None else None

    rows: Iterator[ReportRow] = ledger.report_rows(
        states=states, notice=notice, possibly_duplicated=possibly_duplicated
    )
    if (not states or NOT_EMAILED in states) and not possibly_duplicated:
        # People whose channel is a letter or none: no email planned, still in the report.
        rows = itertools.chain(rows, ledger.unemailed_rows(notice))
    for r in rows:
        fields = r.fields
        decided = channel(r)
        language, why = language_of(r.notice, fields) if language_of is not None else ("", "")
        yield {
            "notice": r.notice,
            "state": r.state,
            "email": r.email,
            "id": fields.get("id", ""),
            "first_name": fields.get("first_name", ""),
            "last_name": fields.get("last_name", ""),
            "country": fields.get("country", ""),
            "region": fields.get("region", ""),
            "postal_address": fields.get("postal_address", ""),
            "attempts": r.attempts,
            "last_code": r.last_code if r.last_code is not None else "",
            "last_reply": r.last_reply,
            "reason": r.reason or ("invalid" if r.state == "invalid" else ""),
            "queue_id": r.queue_id,
            "message_id": r.message_id,
            "first_attempt_at": _iso(r.first_attempt_at),
            "last_attempt_at": _iso(r.last_attempt_at),
            "sent_at": _iso(r.sent_at),
            "possibly_duplicated": r.possibly_duplicated,
            "list": r.source,
            "line": r.line or "",
            "channel": decided.channel if decided else "",
            "channel_rule": decided.rule if decided else "",
            "language": language,
            "language_reason": why,
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
