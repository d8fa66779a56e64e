"""Sign-off: who approved which version of a notice, kept as evidence in the audit trail.

A notice's *version* is a hash over exactly what it was checked against: every file of its
templates folder (all variants and languages), the campaign facts of notify.toml the templates
read (org, incident, contact, dpo, ...), and the rules data notify checks notices with
(notifier/compliance/rules/*.toml). Change any of them and the version changes.

"Approve this version" (the console; name and role) appends a ``notice.approve`` entry to the
keyed audit chain (notifier/ledger/audit.py) holding the notice, the version hash and each
part's hashes. Only entries whose HMAC checks out under the campaign's audit key count: a row
written into the ledger by someone without the key approves nothing.

With ``[campaign] require_approval = true``, `notify send` and `run-due` refuse to send a
version that lacks an approval from each role in ``[campaign] approvers`` (or any approval
when none are listed) to any transport but an outbox, and say who must approve what. An
approval of an older version shows as "changed since approved by ..." with what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifier.checks.report import Finding
from notifier.checks.report import Status as CheckStatus
from notifier.errors import ChecksFailed, ConfigError, UsageError
from notifier.ledger import Ledger, ledger_exists, open_ledger
from notifier.ledger.audit import canonical, entry_mac, tree_hashes
from notifier.settings import Settings

__all__ = [
    "ACTION",
    "Approval",
    "Status",
    "Version",
    "approvals",
    "approve",
    "finding",
    "refuse_unapproved",
    "status",
    "statuses",
    "version_of",
]

ACTION = "notice.approve"
AREA = "Notice content"
RULES = Path(__file__).resolve().parent / "rules"
_MAX = 200  # characters of a name or role


@dataclass(frozen=True)
class Version:
    """One notice as it stands: the hash that is approved, and the hashes it is made of."""

    notice: str
    templates: Mapping[str, str]  # relative path -> sha256, every file of the notice's folder
    facts: str  # sha256 of the campaign facts (canonical JSON)
    rules: Mapping[str, str]  # rules file -> sha256

    @property
    def hash(self) -> str:
        parts = {"templates": dict(self.templates), "facts": self.facts, "rules": dict(self.rules)}
        return hashlib.sha256(canonical({"notice": self.notice, **parts}).encode()).hexdigest()

    @property
    def short(self) -> str:
        return self.hash[:12]

    def changes_from(self, details: Mapping[str, Any]) -> list[str]:
        """What differs from an approved entry's hashes, in words (file names, "facts", "rules")."""
        out: list[str] = []
        before = dict(details.get("templates", {}))
        for name in sorted(set(before) | set(self.templates)):
            if name not in self.templates:
                out.append(f"{name} removed")
            elif name not in before:
                out.append(f"{name} added")
            elif before[name] != self.templates[name]:
                out.append(f"{name} changed")
        if details.get("facts") != self.facts:
            out.append("notify.toml facts changed")
        if dict(details.get("rules", {})) != dict(self.rules):
            out.append("rules data changed")
        return out


def version_of(settings: Settings, notice: str) -> Version:
    """The current version of ``notice`` (a folder name of the campaign's templates)."""
    facts = hashlib.sha256(canonical(dict(settings.facts)).encode()).hexdigest()
    rules = {name: h for name, h in tree_hashes(RULES).items() if name.endswith(".toml")}
    return Version(notice, tree_hashes(settings.templates_dir / notice), facts, rules)


@dataclass(frozen=True)
class Approval:
    notice: str
    version: str
    name: str
    role: str
    at: float
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def when(self) -> str:
        return dt.datetime.fromtimestamp(self.at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    @property
    def who(self) -> str:
        return f"{self.name} ({self.role})"


def approvals(ledger: Ledger) -> list[Approval]:
    """Every approval in the audit trail whose entry carries the campaign's audit key, oldest
    first. Without the key nothing can be vouched for, so nothing counts as approved."""
    try:
        key = ledger.audit_source.for_reading()
    except ConfigError:
        return []
    out = []
    for e in ledger.audit_entries():
        if e.action != ACTION:
            continue
        mac = entry_mac(key, e.seq, e.at, e.user, e.host, e.action, e.details, e.prev)
        if not hmac.compare_digest(mac, e.hash):
            continue  # added by someone without the key: approves nothing
        d = json.loads(e.details)
        out.append(Approval(str(d["notice"]), str(d["version"]), str(d["name"]), str(d["role"]), e.at, d))
    return out


@dataclass(frozen=True)
class Status:
    """A notice's sign-off as it stands: its current version and who approved it."""

    version: Version
    current: list[Approval]  # approvals of this very version
    earlier: list[Approval]  # approvals of other versions of this notice, newest first
    required: tuple[str, ...]  # roles that must approve ([] = anyone, once)

    @property
    def missing(self) -> list[str]:
        """Roles still to approve this version ("anyone" when no roles are named)."""
        if not self.required:
            return [] if self.current else ["anyone"]
        have = {a.role.strip().lower() for a in self.current}
        return [r for r in self.required if r.strip().lower() not in have]

    @property
    def approved(self) -> bool:
        return not self.missing

    @property
    def changed_since(self) -> Approval | None:
        """The newest approval of an older version, when this version is not fully approved."""
        return self.earlier[0] if self.earlier and not self.approved else None

    def describe(self) -> str:
        """One line: approved by whom, or changed since approved by whom (and what changed)."""
        if self.approved:
            return "approved by " + ", ".join(f"{a.who} on {a.when}" for a in self.current)
        parts = []
        if self.current:
            parts.append("approved by " + ", ".join(a.who for a in self.current) + " so far")
        old = self.changed_since
        if old is not None:
            what = self.version.changes_from(old.details)
            since = f"changed since approved by {old.who} on {old.when}"
            parts.append(since + (f" ({', '.join(what)})" if what else ""))
        elif not self.current:
            parts.append("not approved")
        return "; ".join(parts)

    def needed(self) -> str:
        """Who must approve what, for a refusal."""
        who = "someone" if self.missing == ["anyone"] else " and ".join(self.missing)
        return f"{who} must approve notice {self.version.notice} version {self.version.short}"


def _status(found: Iterable[Approval], version: Version, required: tuple[str, ...]) -> Status:
    mine = [a for a in found if a.notice == version.notice]
    current = [a for a in mine if a.version == version.hash]
    earlier = sorted((a for a in mine if a.version != version.hash), key=lambda a: -a.at)
    return Status(version, current, earlier, required)


def status(ledger: Ledger | None, settings: Settings, notice: str) -> Status:
    """The sign-off of ``notice`` now (``ledger`` None: there is no ledger yet, so none)."""
    found = approvals(ledger) if ledger is not None else []
    return _status(found, version_of(settings, notice), settings.approvers)


def statuses(settings: Settings, notices: Iterable[str]) -> dict[str, Status]:
    """Every notice's sign-off, reading the ledger once (creating none)."""
    if not ledger_exists(settings):
        return {n: _status([], version_of(settings, n), settings.approvers) for n in notices}
    ledger = open_ledger(settings)
    try:
        found = approvals(ledger)
    finally:
        ledger.close()
    return {n: _status(found, version_of(settings, n), settings.approvers) for n in notices}


def approve(settings: Settings, notice: str, *, name: str, role: str, version: str) -> Approval:
    """Record that ``name`` (``role``) approves ``notice`` at ``version`` (the hash the page
    showed). Raises UsageError when the name or role is missing, the role is not one of
    ``[campaign] approvers``, or the notice changed since the page showed it."""
    name, role = " ".join(name.split())[:_MAX], " ".join(role.split())[:_MAX]
    if not name or not role:
        raise UsageError("an approval needs your name and your role", hint="fill in both fields")
    if settings.approvers and role.lower() not in {r.lower() for r in settings.approvers}:
        raise UsageError(
            f"{role!r} is not one of the roles that approve this campaign",
            hint=f"[campaign] approvers lists: {', '.join(settings.approvers)}",
        )
    current = version_of(settings, notice)
    if current.hash != version:
        raise UsageError(
            f"notice {notice} changed since this page was shown (now version {current.short})",
            hint="reload the page, review the new version, then approve it",
        )
    details = {
        "notice": notice,
        "version": current.hash,
        "name": name,
        "role": role,
        "templates": dict(current.templates),
        "facts": current.facts,
        "rules": dict(current.rules),
    }
    ledger = open_ledger(settings)
    try:
        ledger.audit(ACTION, details)
        at = max((a.at for a in approvals(ledger) if a.version == current.hash), default=0.0)
    finally:
        ledger.close()
    return Approval(notice, current.hash, name, role, at, details)


def finding(st: Status, settings: Settings) -> Finding:
    """The sign-off as a `notify check` finding (APPROVAL-1): FAIL when `send` would refuse
    this version, INFO when it is not (fully) approved but nothing waits for it."""
    if st.approved:
        return Finding("APPROVAL-1", AREA, CheckStatus.PASS, f"version {st.version.short} {st.describe()}")
    blocking = settings.require_approval and not settings.transport_url.startswith("outbox:")
    return Finding(
        "APPROVAL-1",
        AREA,
        CheckStatus.FAIL if blocking else CheckStatus.INFO,
        f"version {st.version.short}: {st.describe()}",
        f'{st.needed()} in `notify preview` ("Approve this version")'
        + ("" if blocking else "; [campaign] require_approval = true makes `notify send` wait for it"),
    )


def refuse_unapproved(ledger: Ledger, settings: Settings, notice: str, transport_url: str) -> None:
    """Raise ChecksFailed when ``[campaign] require_approval`` is on, the transport is not an
    outbox, and the current version of ``notice`` lacks an approval (saying who must approve
    what, and what changed since an earlier approval)."""
    if not settings.require_approval or transport_url.startswith("outbox:"):
        return
    st = status(ledger, settings, notice)
    if st.approved:
        return
    raise ChecksFailed(
        f"notice {notice} is not approved for sending: {st.describe()}",
        hint=f'{st.needed()}: open `notify preview`, review it and press "Approve this version" '
        "(or send to an outbox: transport outbox:PATH)",
    )
