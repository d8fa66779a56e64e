"""Local delivery agents' own messages: where a bounce quotes what the program that writes into
the mailbox said (Dovecot's LDA, mail.local, procmail, maildrop, vpopmail's vdelivermail,
vmailmgr's vdeliver), its words name the reason whatever the report around them says (Sisimai
lib/sisimai/lda.rb and mda.rb, quoting dovecot/src/deliver and the agents' sources).

Pure data and one lookup, asked first by ``reasons.reason_for``.
"""

from __future__ import annotations

__all__ = ["agent_reason"]

# Each agent: the marks of its output (all must be there), then its messages per reason, in
# the order Sisimai tries them (lower-case).
_AGENTS: tuple[tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    (
        # dovecot/src/deliver/deliver.c DEFAULT_MAIL_REJECTION_HUMAN_REASON
        ("your message to <", "> was automatically rejected:"),
        (
            ("mailbox_full", ("not enough disk space", "quota exceeded")),
            ("user_unknown", ("mailbox doesn't exist: ",)),
        ),
    ),
    (
        ("mail.local: ",),
        (
            ("mailbox_full", ("disc quota exceeded", "mailbox full or quota exceeded")),
            ("mailer_error", ("temporary file write error",)),
            (
                "user_unknown",
                (
                    ": invalid mailbox path",
                    ": unknown user:",
                    ": user missing home directory",
                    ": user unknown",
                ),
            ),
        ),
    ),
    (
        ("procmail: ",),
        (
            ("mailbox_full", ("quota exceeded while writing", "user over quota")),
            ("mailer_error", ("service unavailable",)),
            ("system_full", ("no space left to finish writing",)),
        ),
    ),
    (
        ("maildrop: ",),
        (
            ("user_unknown", ("cannot find system user", "invalid user specified.")),
            ("mailbox_full", ("maildir over quota.",)),
        ),
    ),
    (
        ("vdelivermail: ",),
        (
            # A catch-all took the mail for an address that does not exist: the domain's own
            # rule refused it (Sisimai: filtered).
            ("filtered", ("user does not exist, but will deliver to ",)),
            ("mailbox_full", ("domain is over quota", "user is over quota")),
            ("suspended", ("account is locked email bounced",)),
            ("user_unknown", ("sorry, no mailbox here by that name.",)),
        ),
    ),
    (
        ("vdeliver: ",),
        (
            ("mailbox_full", ("delivery failed due to system quota violation",)),
            (
                "user_unknown",
                (
                    "invalid or unknown base user or domain",
                    "invalid or unknown virtual user",
                    "user name does not refer to a virtual user",
                ),
            ),
        ),
    ),
)


def agent_reason(low: str) -> str | None:
    """The reason a local delivery agent's message in lower-cased ``low`` names, or None when
    no agent speaks there or its words are not in its table."""
    for marks, table in _AGENTS:
        if all(mark in low for mark in marks):
            return next((reason for reason, phrases in table if any(p in low for p in phrases)), None)
    return None
