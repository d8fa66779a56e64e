"""Differential check of our bounce reason decision against Sisimai's (issue 14).

Builds SYNTHETIC bounces only (no sample corpus): RFC 3463 status codes x diagnostic wordings
taken from Sisimai's own per-reason phrase tables (read from the installed libsisimai-perl's
``Sisimai/Reason/*.pm`` ``$index`` lists) x the SMTP command the reply answered x a DSN
(multipart/report, Postfix-like) or a plain-text (Exim-like) bounce. Every bounce goes through
``notifier.bounces.parse.parse_bounce`` and through ``Sisimai->make`` (Debian's libsisimai-perl
4.25), and the agreement is printed by category (format, command, status class, Sisimai reason).

    python bench/reason_differential.py [--per-reason N] [--show N]

Sisimai 4.25 predates 5.x's reasons (authfailure, requireptr, badreputation, notcompliantrfc,
failedstarttls, ratelimited/speeding): disagreements there are expected; 5.x wins (study
rb-sisimai for those). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.bounces.parse import parse_bounce
from notifier.bounces.reasons import SISIMAI

PM = Path("/usr/share/perl5/Sisimai/Reason")
STATUSES = ("", "5.0.0", "5.1.1", "5.2.1", "5.2.2", "5.7.1", "5.7.0", "4.2.2", "4.7.1", "4.0.0", "4.4.7")
COMMANDS = ("", "RCPT", "DATA", "MAIL")
_INDEX = re.compile(r"\$index\s*=\s*\[(.*?)\];", re.S)
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def wordings() -> dict[str, list[str]]:
    """Sisimai reason -> the phrases of its ``$index`` table (plain strings only)."""
    out: dict[str, list[str]] = {}
    for pm in sorted(PM.glob("*.pm")):
        text = pm.read_text(errors="replace")
        name = re.search(r"sub text\s*\{\s*'(\w+)'", text)
        m = _INDEX.search(text)
        if not name or not m:
            continue
        phrases = [a or b for a, b in _QUOTED.findall(m.group(1))]
        phrases = [p for p in phrases if p.strip() and "\\" not in p and "$" not in p]
        if phrases:
            out[name.group(1)] = phrases
    return out


def dsn(n: int, status: str, command: str, words: str) -> bytes:
    rcpt = f"r{n}@example.jp"
    code = (status[0] + "50") if status else "550"
    code = "450" if status.startswith("4") else code
    diag = f"{code} {status + ' ' if status else ''}{words}"
    said = f" (in reply to {command} command)" if command else ""
    action = "delayed" if status.startswith("4") else "failed"
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "To: sender@example.org\n"
        f"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <b{n}@mx.example.org>\n"
        "Date: Thu, 1 Oct 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\n\n'
        "--BB\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.org.\n\n"
        "I'm sorry to have to inform you that your message could not\nbe delivered to one or more"
        " recipients.\n\n"
        f"<{rcpt}>: host mx.example.jp[192.0.2.1] said: {diag}{said}\n\n"
        "--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: rfc822; {rcpt}\nOriginal-Recipient: rfc822; {rcpt}\nAction: {action}\n"
        f"Status: {status or ('4.0.0' if action == 'delayed' else '5.0.0')}\n"
        "Remote-MTA: dns; mx.example.jp\n"
        f"Diagnostic-Code: smtp; {diag}\n\n"
        "--BB\nContent-Type: text/rfc822-headers\n\nFrom: sender@example.org\n"
        f"To: {rcpt}\nSubject: Notice\nMessage-ID: <m{n}@example.org>\n\n--BB--\n"
    ).encode()


def plain(n: int, status: str, command: str, words: str) -> bytes:
    rcpt = f"r{n}@example.jp"
    code = "450" if status.startswith("4") else "550"
    after = {
        "RCPT": f"after RCPT TO:<{rcpt}>",
        "DATA": "after end of data",
        "MAIL": "after MAIL FROM:<sender@example.org>",
    }
    said = (
        f"SMTP error from remote mail server {after[command]}:"
        if command
        else "SMTP error from remote mail server:"
    )
    return (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nTo: sender@example.org\n"
        f"Subject: Mail delivery failed: returning message to sender\nMessage-Id: <b{n}@mx.example.org>\n"
        "Date: Thu, 1 Oct 2026 10:00:00 +0000\nX-Failed-Recipients: " + rcpt + "\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {rcpt}\n    host mx.example.jp [192.0.2.1]\n    {said}\n"
        f"    {code} {status + ' ' if status else ''}{words}\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        f"From: sender@example.org\nTo: {rcpt}\nSubject: Notice\n\nHello\n"
    ).encode()


PERL = r"""
use strict; use Sisimai; use JSON::PP;
my $v = Sisimai->make($ARGV[0], 'delivered' => 1) || [];
for my $e (@$v) {
  print JSON::PP->new->canonical->encode({r => $e->recipient->address, reason => $e->reason,
    hard => ($e->softbounce == 0 ? 1 : 0), cmd => $e->smtpcommand, status => $e->deliverystatus}), "\n";
}
"""


def sisimai(messages: list[bytes]) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "mbox"
        with box.open("wb") as fh:
            for raw in messages:
                fh.write(b"From MAILER-DAEMON Thu Oct  1 10:00:00 2026\n" + raw + b"\n")
        out = subprocess.run(["perl", "-e", PERL, str(box)], capture_output=True, check=True).stdout
    return {row["r"]: row for row in map(json.loads, out.decode().splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-reason", type=int, default=12, help="phrases sampled per Sisimai reason")
    ap.add_argument("--show", type=int, default=0, help="print N disagreements per category")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    cases: list[tuple[str, str, str, str, str, bytes]] = []
    for reason, phrases in wordings().items():
        for words in rnd.sample(phrases, min(args.per_reason, len(phrases))):
            for status in STATUSES:
                for command in COMMANDS:
                    for fmt, build in (("dsn", dsn), ("plain", plain)):
                        n = len(cases)
                        cases.append((fmt, reason, status, command, words, build(n, status, command, words)))
    theirs = sisimai([c[5] for c in cases])
    by: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    diffs: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    hard_same = total = same = 0
    for n, (fmt, table, status, command, words, raw) in enumerate(cases):
        them = theirs.get(f"r{n}@example.jp")
        if them is None:
            by["sisimai found none"][fmt] += 1
            continue
        ours = parse_bounce(raw)
        mine = ours.recipients[0] if ours.recipients else None
        label = SISIMAI.get(mine.reason, mine.reason) if mine else "(none)"
        total += 1
        ok = label == them["reason"]
        same += ok
        hard_same += bool(mine and mine.hard == bool(them["hard"]))
        for cat in (
            f"format {fmt}",
            f"command {command or '-'}",
            f"status {status or '-'}",
            f"sisimai {them['reason']}",
        ):
            by[cat]["agree" if ok else "differ"] += 1
        if not ok:
            diffs[(str(them["reason"]), label)].append(
                f"{fmt} {status or '-'} {command or '-'} [{table}] {words}"
            )
    print(f"bounces: {len(cases)}, read by both: {total}")
    print(f"reason agreement: {same}/{total} = {same / max(total, 1):.1%}")
    print(f"hard/soft agreement: {hard_same}/{total} = {hard_same / max(total, 1):.1%}")
    for cat in sorted(by):
        c = by[cat]
        if "agree" in c or "differ" in c:
            t = c["agree"] + c["differ"]
            print(f"  {cat:32} {c['agree']:5}/{t:<5} {c['agree'] / t:6.1%}")
        else:
            print(f"  {cat:32} {dict(c)}")
    print("disagreements, sisimai -> ours (count):")
    for (theirs_r, ours_r), rows in sorted(diffs.items(), key=lambda kv: -len(kv[1])):
        print(f"  {theirs_r:>16} -> {ours_r:16} {len(rows)}")
        for row in rows[: args.show]:
            print(f"      {row}")


if __name__ == "__main__":
    main()
