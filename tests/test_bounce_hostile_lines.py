"""A hostile bounce cannot stall ingest: lines built to make a pattern go back over every
character (60,000 "a" before an "@", 30,000 "a.", 20,000 "a@", ...) are read in linear time under
each mail system's own format. Before, one such line in a qmail or Sendmail notice took 17 s of
CPU in the address pattern, and 20,000 "a@" took 17 s in Exim's recipient lines."""

from __future__ import annotations

import time

import pytest

from notifier.bounces.parse import parse_bounce

_HEADS = {
    "exim": "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: b@example.com\n"
    "Subject: Mail delivery failed: returning message to sender\n"
    "Message-Id: <E1P1YNN-0003AD-Ga@mx.example.net>\n\n"
    "This message was created automatically by mail delivery software.\n\n",
    "qmail": "From: MAILER-DAEMON@mx.example.net\nTo: b@example.com\nSubject: failure notice\n\n"
    "Hi. This is the qmail-send program at mx.example.net.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n",
    "sendmail": "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\nTo: b@example.com\n"
    "Subject: Returned mail: see transcript for details\n\n"
    "   ----- The following addresses had permanent fatal errors -----\n",
    "postfix": "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\nTo: b@example.com\n"
    "Subject: Undelivered Mail Returned to Sender\n\nThis is the mail system at host mx.example.net.\n\n",
}
_LINES = {
    "letters before an @": "a" * 60000 + "@",
    "dotted letters": "a." * 30000,
    "at signs": "a@" * 20000,
    "angle brackets": "<a@" * 10000,
    "qmail's connected-to": "Connected to " * 4000,
}


@pytest.mark.parametrize("family", sorted(_HEADS))
@pytest.mark.parametrize("line", sorted(_LINES))
def test_a_hostile_line_is_read_at_once(family: str, line: str) -> None:
    for shape in ("{}", "  {}", "<{}>:"):
        raw = (_HEADS[family] + shape.format(_LINES[line]) + "\n").encode()
        started = time.process_time()
        parse_bounce(raw)
        assert time.process_time() - started < 1.0, (family, line, shape)
