"""Check results: each finding has an ID from the reference, a status, what was found and
the exact fix. Never a bare boolean."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

__all__ = ["AREAS", "Finding", "Report", "Status"]

AREAS = (
    "Sender authentication",
    "Infrastructure",
    "Mailbox-provider rules",
    "Messages",
    "Notice content",
    "List",
    "Transport",
)


class Status(enum.StrEnum):
    PASS = "PASS"  # noqa: S105 - a check status, not a password
    INFO = "INFO"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # e.g. "SPF-3" (reference: sender-authentication.md)
    area: str
    status: Status
    found: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAIL]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.WARN]

    def status_of(self, check_id: str) -> Status | None:
        statuses = [f.status for f in self.findings if f.id == check_id]
        if not statuses:
            return None
        order = [Status.FAIL, Status.WARN, Status.INFO, Status.PASS]
        return min(statuses, key=order.index)

    def as_dict(self) -> dict[str, Any]:
        counts = {s.value: sum(1 for f in self.findings if f.status is s) for s in Status}
        return {"summary": counts, "findings": [f.as_dict() for f in self.findings]}

    def write_json(self, out: TextIO) -> None:
        json.dump(self.as_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")

    def write_text(self, out: TextIO) -> None:
        for area in AREAS:
            items = [f for f in self.findings if f.area == area]
            if not items:
                continue
            out.write(f"\n{area}\n")
            for f in items:
                out.write(f"  {f.status.value:<5} {f.id:<12} {f.found}\n")
                if f.fix and f.status in (Status.FAIL, Status.WARN):
                    for line in f.fix.splitlines():
                        out.write(f"  {'':<5} {'':<12} fix: {line}\n")
        c = self.as_dict()["summary"]
        out.write(f"\n{c['FAIL']} failed, {c['WARN']} warnings, {c['PASS']} passed, {c['INFO']} notes\n")
