"""What an SMTP (or SES) reply means for the recipient, in the vocabulary of
``notifier.reasons``.

``blocked``, ``authentication``, ``rate_limited`` and the other reasons in ``OUR_PROBLEM``
are about our reputation or set-up (SPF/DKIM/DMARC), not the recipient's address: they never
suppress it. Hard is only what says the address cannot work.
"""

from __future__ import annotations

from dataclasses import dataclass

from .reasons import OUR_PROBLEM, is_hard, reason_for, status_in

__all__ = ["Classification", "OUR_PROBLEM", "classify_reply"]


@dataclass(frozen=True, slots=True)
class Classification:
    reason: str
    hard: bool
    status: str  # the enhanced status code found, or ""

    @property
    def suppresses(self) -> bool:
        """Whether this says something about the address (never for our own problems)."""
        return self.hard


def classify_reply(code: int | None, text: str, command: str = "RCPT") -> Classification:
    """Classify one reply to ``command``. ``code`` None means no reply at all (connection trouble)."""
    if code is not None and 200 <= code < 300:
        return Classification("delivered", False, "")
    status = status_in(text)
    if code is None:
        reason = reason_for(status=status, text=text or "", command=command) if status else "network"
        return Classification(reason if reason not in ("on_hold", "other") else "network", False, status)
    reason = reason_for(status=status, code=str(code), text=f"{code} {text or ''}", command=command)
    if reason in ("on_hold", "other") and code == 554:
        reason = "policy"
    permanent = code >= 500
    return Classification(reason, permanent and is_hard(reason, str(code)), status)
