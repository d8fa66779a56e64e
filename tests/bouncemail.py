"""Bounces written in tests: a delivery-status report from its parts, and what the reader says
of one (address, reason, hard) per bounced recipient."""

from __future__ import annotations

from notifier.bounces.parse import parse_bounce

__all__ = ["dsn", "read"]


def read(raw: str) -> list[tuple[str, str, bool]]:
    return [(r.address, r.reason, r.hard) for r in parse_bounce(raw.encode()).recipients]


def dsn(
    headers: str, notice: str, fields: str, per_message: str = "Reporting-MTA: dns; mx.example.net"
) -> str:
    """A multipart/report with ``notice`` as its text and ``fields`` as its recipient block."""
    return (
        f"{headers}MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        f"--B\nContent-Type: text/plain\n\n{notice}\n\n"
        f"--B\nContent-Type: message/delivery-status\n\n{per_message}\n\n"
        f"{fields}\n\n--B--\n"
    )
