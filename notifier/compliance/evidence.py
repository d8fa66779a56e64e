"""`notify audit export`: an evidence pack for regulators and counsel.

``evidence.json`` holds the verified audit log, who was notified of what and when (per notice
and per jurisdiction, with first and last acceptance times), the legal deadlines and whether
they were met, per-recipient outcomes keyed by the list's own ``id`` column, and the schedules.
``summary.txt`` says the same in plain words. Neither holds message bodies, names or addresses:
the list id leads back to a person only for whoever holds the list.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from notifier.compliance.deadlines_view import deadline_report
from notifier.ledger import Ledger
from notifier.ledger.audit import AuditEntry, Verdict, verify
from notifier.ledger.base import StoredChannel
from notifier.private import private_text
from notifier.settings import Settings

__all__ = ["check_audit", "export_evidence", "gather"]


def check_audit(ledger: Ledger, *, recorded: str | None = None) -> tuple[list[AuditEntry], Verdict]:
    """The log and what `verify` finds in it, under the campaign's audit key (ConfigError,
    exit 2, when the key is not here: without it nothing can be vouched for)."""
    key = ledger.audit_source.for_reading()
    entries = list(ledger.audit_entries())
    verdict = verify(
        entries,
        ledger.audit_head(),
        key,
        stored_key_id=ledger.audit_key_id(),
        activity=ledger.audit_activity(),
        recorded=recorded,
    )
    return entries, verdict


def _iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def _jurisdiction(country: str, region: str) -> str:
    return region or country or "unknown"


def gather(settings: Settings, ledger: Ledger, *, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or dt.datetime.now(dt.UTC)
    entries, verdict = check_audit(ledger)
    head = ledger.audit_head()
    notices: dict[str, Any] = {}
    for notice in ledger.notices():
        per: dict[str, dict[str, Any]] = defaultdict(lambda: {"targets": 0, "states": defaultdict(int)})
        first: float | None = None
        last: float | None = None
        for m in ledger.report_rows(notice=notice):
            # A rejected list row (no recipient) has no jurisdiction we can vouch for.
            f = m.fields if m.recipient_id is not None else {}
            state, sent_at = m.state, m.sent_at
            row = per[_jurisdiction(f.get("country") or "", f.get("region") or "")]
            row["targets"] += 1
            row["states"][state] += 1
            if sent_at is not None:
                row["first_accepted"] = min(row.get("first_accepted", sent_at), sent_at)
                row["last_accepted"] = max(row.get("last_accepted", sent_at), sent_at)
                first = sent_at if first is None else min(first, sent_at)
                last = sent_at if last is None else max(last, sent_at)
        notices[notice] = {
            "counts": ledger.counts(notice),
            "first_accepted": _iso(first),
            "last_accepted": _iso(last),
            "by_jurisdiction": {
                j: {
                    "targets": v["targets"],
                    "states": dict(v["states"]),
                    "first_accepted": _iso(v.get("first_accepted")),
                    "last_accepted": _iso(v.get("last_accepted")),
                }
                for j, v in sorted(per.items())
            },
        }
    try:
        # The same audience and filings `notify deadlines` shows (notifier.lists.audience).
        deadlines = [o.as_dict(now) for o in deadline_report(settings, settings.notice).obligations]
    except Exception as exc:  # evidence must still be written when a fact is missing
        deadlines = [{"error": f"deadlines could not be computed: {exc}"}]
    for notice in ledger.channel_notices():  # the channel each person was given, and why (issue 16)
        entry = notices.setdefault(notice, {"counts": {}, "by_jurisdiction": {}})
        entry["channels"] = _channels(ledger, notice)
    decided = {n: ledger.channels_of(n) for n in ledger.channel_notices()}
    ledger.sync_notice_log()
    recipients = [
        {
            "list_id": m.fields["id"] if m.fields.get("id") is not None else f"row {m.recipient_id}",
            "jurisdiction": _jurisdiction(m.fields.get("country") or "", m.fields.get("region") or ""),
            "notice": m.notice,
            "state": m.state,
            "reason": m.reason or None,
            "first_attempt_at": _iso(m.first_attempt_at),
            "accepted_at": _iso(m.sent_at),
            "possibly_duplicated": m.possibly_duplicated,
            **_channel_of(decided, m.notice, m.recipient_id),
        }
        for m in itertools.chain(ledger.report_rows(), ledger.unemailed_rows())
        if m.recipient_id is not None  # people; rejected rows are counted per notice above
    ]
    schedules = [
        {
            "id": x.id,
            "notice": x.notice,
            "segment": x.segment,
            "state": x.state,
            "created_at": _iso(x.created_at),
            "note": x.note,
        }
        for x in ledger.schedule_rows()
    ]
    incident = settings.facts.get("incident", {})
    return {
        "generated_at": now.isoformat(timespec="seconds"),
        "campaign": settings.campaign,
        "organisation": settings.facts.get("org", {}).get("legal_name", ""),
        "incident": {
            k: str(incident[k])
            for k in ("reference", "occurred", "discovered", "aware", "contained", "notice_date")
            if k in incident
        },
        "notices": notices,
        "deadlines": deadlines,
        "schedules": schedules,
        "recipients": recipients,
        # NY GBL 899-aa(5)(b): how many electronic notices the log holds (`notify channels log` lists them).
        "notice_log_entries": sum(1 for _ in ledger.notice_log()),
        "audit": {
            "entries": [e.as_dict() for e in entries],
            "head": {"count": head.count, "hash": head.hash} if head else None,
            "intact": verdict.intact,
            "problems": verdict.problems,
            "warnings": verdict.warnings,
            "keyed": verdict.keyed,
        },
    }


def _channels(ledger: Ledger, notice: str) -> dict[str, Any]:
    """Counts by channel, and by (jurisdiction, channel, rule, reason): who got which channel, why."""
    rows = ledger.channel_counts(notice)
    by_channel: dict[str, int] = defaultdict(int)
    for c in rows:
        by_channel[c.channel] += c.people
    return {
        "by_channel": dict(sorted(by_channel.items())),
        "by_rule": [
            {
                "jurisdiction": c.jurisdiction,
                "channel": c.channel,
                "rule": c.rule,
                "reason": c.reason,
                "people": c.people,
            }
            for c in rows
        ],
    }


def _channel_of(decided: dict[str, dict[int, StoredChannel]], notice: str, rid: int | None) -> dict[str, Any]:
    d = decided.get(notice, {}).get(rid) if rid is not None else None
    return {"channel": d.channel if d else None, "channel_rule": d.rule if d else None}


def _summary(data: dict[str, Any]) -> str:
    lines = [
        f"Evidence pack: campaign {data['campaign']} ({data['organisation']})",
        f"Generated {data['generated_at']}",
        "Incident: " + ", ".join(f"{k} {v}" for k, v in data["incident"].items()),
        "",
    ]
    audit = data["audit"]
    if audit["intact"]:
        head = audit["head"]
        lines.append(
            f"Audit log: {len(audit['entries'])} entries, keyed hash chain intact"
            + (f"; head {head['hash']}" if head else "")
        )
    else:
        lines.append("Audit log: ALTERED — " + "; ".join(audit["problems"]))
    lines.append("")
    for name, n in data["notices"].items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(n["counts"].items()))
        lines.append(
            f"Notice {name}: {counts}; first accepted {n.get('first_accepted')}, "
            f"last {n.get('last_accepted')}"
        )
        ch = n.get("channels", {}).get("by_channel", {})
        if ch:
            lines.append(
                f"  channels: {ch.get('email', 0)} by email, {ch.get('postal', 0)} by letter, "
                f"{ch.get('none-possible', 0)} with no lawful channel"
            )
        for j, v in n["by_jurisdiction"].items():
            states = ", ".join(f"{k} {c}" for k, c in sorted(v["states"].items()))
            lines.append(
                f"  {j}: {v['targets']} people ({states}); "
                f"accepted {v['first_accepted']} .. {v['last_accepted']}"
            )
        lines.append("")
    lines.append("Deadlines:")
    for d in data["deadlines"]:
        if "error" in d:
            lines.append(f"  {d['error']}")
            continue
        lines.append(f"  {d.get('status', '?'):<10} {d['id']:<9} {d['what']} — due {d.get('due') or 'n/a'}")
        if d.get("filed"):
            filed = d["filed"]
            lines.append(
                f"  {'':<10} {'':<9} filed {filed['at']} ref {filed['ref'] or '-'} (by {filed['by']})"
            )
    lines.append("")
    for s in data["schedules"]:
        lines.append(
            f"Schedule {s['id']}: {s['notice']} to {s['segment']}: {s['state']} {s['note']}".rstrip()
        )
    lines.append("")
    lines.append(
        "Message bodies, names and addresses are not included; recipients are identified by list id."
    )
    return "\n".join(lines) + "\n"


def export_evidence(settings: Settings, ledger: Ledger, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = gather(settings, ledger)
    out = []
    for name, text in (
        ("evidence.json", json.dumps(data, indent=2, ensure_ascii=False)),
        ("summary.txt", _summary(data)),
    ):
        path = folder / name
        with private_text(path) as fh:
            fh.write(text)
        out.append(path)
    return out
