"""Claimed row -> finished message: render, MIME and (with [dkim]) sign; nothing else."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifier.errors import UsageError
from notifier.ledger import Claimed
from notifier.models import Envelope, Recipient
from notifier.render.mime import MessageTemplate
from notifier.render.notice import Notice
from notifier.render.signing import Signer
from notifier.settings import Sender
from notifier.tokens import Tokens

__all__ = ["MessageFactory", "Prepared"]


@dataclass(frozen=True, slots=True)
class Prepared:
    claimed: Claimed
    envelope: Envelope
    data: bytes
    message_id: str


class MessageFactory:
    """Claimed row -> finished message bytes (render + MIME), nothing else."""

    def __init__(
        self,
        notice: Notice,
        sender: Sender,
        tokens: Tokens,
        *,
        signer: Signer | None = None,
        unsubscribe_base: str = "",
        context: Callable[[Recipient], Mapping[str, Any]] | None = None,
    ) -> None:
        self.notice = notice
        # Per-recipient facts beside `recipient` (their credit-monitoring `offer` and code).
        self.context = context
        self.sender = sender
        self.tokens = tokens
        self.signer = signer
        # Follow-ups carry RFC 8058 one-click unsubscribe; legally required notices never do.
        if notice.kind == "follow-up" and not unsubscribe_base:
            raise UsageError(
                f"{notice.name!r} is a follow-up, and follow-ups need a working unsubscribe link",
                hint="set [serve] public_url to the https address where `notify serve` is reachable",
            )
        self.unsubscribe_base = unsubscribe_base.rstrip("/") if notice.kind == "follow-up" else ""
        self.template = MessageTemplate(
            from_header=sender.from_header,
            from_display=sender.display_name,
            from_address=sender.address,
            reply_to=sender.reply_to,
        )

    def prepare(self, claimed: Claimed, *, now: float | None = None) -> Prepared:
        """Render, build and (with [dkim]) sign one message.

        Signing stays on the event loop: OpenSSL releases the GIL, but handing each
        signature to a thread cost more than it saved here (1,128 vs 1,193 msg/s signed)."""
        r = claimed.recipient
        view = r.template_view()
        headers: tuple[tuple[str, str], ...] = ()
        if self.unsubscribe_base:
            token = self.tokens.unsubscribe_token(claimed.row)
            view["unsubscribe_url"] = f"{self.unsubscribe_base}/u/{token}"
            headers = (
                (
                    "List-Unsubscribe",
                    f"<{view['unsubscribe_url']}>, <mailto:unsubscribe+{token}@{self.sender.bounce_domain}>",
                ),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            )
        rendered = self.notice.render(view, self.context(r) if self.context is not None else None)
        message_id = self.tokens.message_id(self.notice.name, r.key, self.sender.domain)
        display = " ".join(str(r.fields.get(k, "")) for k in ("first_name", "last_name")).strip()
        built = self.template.build_message(
            rendered,
            to_address=r.email,
            to_display=display,
            message_id=message_id,
            utf8=r.smtputf8,
            now=now,
            headers=headers,
        )
        data = built.data
        if self.signer is not None:
            data = self.signer.sign(data, now=now, canonical_body=built.canonical_body)
        envelope = Envelope(
            mail_from=self.tokens.return_path(claimed.row, self.sender.bounce_domain),
            rcpt_to=r.email,
            smtputf8=r.smtputf8,
        )
        return Prepared(claimed, envelope, data, message_id)
