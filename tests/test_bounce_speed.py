"""Reading bounces fast gives the same answers as reading them slowly: the phrase tables' keyword
pass, the one-pass command finder and the parsing on every core answer exactly what the plain
patterns and one process answer (issue 15: "the same answers")."""

from __future__ import annotations

import json
import multiprocessing
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.bounces import parallel
from notifier.bounces.commands import command_in
from notifier.bounces.parallel import prepared
from notifier.bounces.parse import parse_bounce
from notifier.bounces.phrases import PhraseBook, required_literals, split_alternatives
from notifier.bounces.vocabulary import WORDS

DATA = Path(__file__).parent / "data" / "bounces"
DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bounces-dev" / "samples"


def _texts() -> list[str]:
    """Every diagnostic and human-readable part we hold: our fixtures, and the dev corpus when
    it is beside the project."""
    files = sorted(DATA.glob("*.eml")) + (sorted(DEV.iterdir()) if DEV.is_dir() else [])
    texts = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        texts += [text, *text.split("\n\n")]
    return texts


TEXTS = _texts()
ALTERNATIVES = [
    (name, alternative)
    for name, source in WORDS.sources.items()
    for alternative in split_alternatives(source)
]


def test_every_table_answers_what_its_whole_pattern_answers_on_every_text_we_hold() -> None:
    """For every reason and every text of our fixtures (and the dev corpus), the keyword-first
    match says yes exactly when the whole alternation, searched case-insensitively, does."""
    for name, source in WORDS.sources.items():
        whole = re.compile(source, re.I)
        for text in TEXTS:
            assert WORDS.says(name, text.lower()) == bool(whole.search(text)), (name, text[:200])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(ALTERNATIVES).flatmap(
        lambda pair: st.tuples(st.just(pair), st.from_regex(pair[1], fullmatch=True), st.text(max_size=20))
    )
)
def test_a_text_holding_any_phrase_is_recognised_whatever_surrounds_it(
    case: tuple[tuple[str, str], str, str],
) -> None:
    """Any string a phrase matches, with other text before it (unless the phrase is anchored at
    the start), makes its table say yes: the keywords worked out from the pattern are in every
    match."""
    (name, alternative), phrase, before = case
    text = phrase if alternative.startswith("^") else before + " " + phrase
    assert WORDS.says(name, text.lower())


@pytest.mark.parametrize(
    ("pattern", "keywords"),
    [
        (r"mailbox (is |size )?(full|exceed)", {"mailbox "}),
        (r"no (such|mailbox) (here|found)", {"such", "mailbox"}),
        (r"users? unknown", {" unknown"}),
        (r"doesn'?t receive email", {"t receive email"}),
        (r"(?:a|b)c", None),  # nothing of three characters is certain
        (r"\bvdeliver", {"vdeliver"}),
    ],
)
def test_the_keywords_of_a_pattern_are_the_ones_every_match_contains(
    pattern: str, keywords: set[str] | None
) -> None:
    """The keyword worked out for a pattern is the longest text every match must contain (or one
    of a group's alternatives); a pattern with none always runs."""
    found = required_literals(pattern)
    assert (set(found) if found is not None else None) == keywords


def test_a_table_whose_phrase_has_no_keyword_still_finds_it() -> None:
    """A phrase made only of wildcards and short pieces runs on every text, and still matches."""
    book = PhraseBook({"short": (r"\d{3} ok|no",)})
    assert book.says("short", "250 ok") and book.says("short", "say no") and not book.says("short", "yes")


# Every command pattern, each searched in turn (the cue-gated finder must agree).
_OLD_COMMANDS = [
    (r"(in reply to|after|>>>|(?<![a-z])our|response to|sending) (end of )?(data|message body)\b", "DATA"),
    (
        r"(in reply to|after|>>>|(?<![a-z])our|response to) rcpt( to)?\b|does not like recipient"
        r"|rcpt to: ?<?[^\s@]+@"
        r"|recipient address rejected",
        "RCPT",
    ),
    (r"(in reply to|after|>>>|(?<![a-z])our|response to) mail( from)?\b|mail from:<[^>]*>\s*size=", "MAIL"),
    (
        r"(in reply to|after|>>>|(?<![a-z])our) (ehlo|helo)\b|while connect|initial connection|greeting",
        "HELO",
    ),
    (r"(in reply to|after|>>>) starttls", "STARTTLS"),
    (r"\bmail\.local\b|local delivery|\bvdeliver|\bmaildrop\b|\bdovecot-lda\b", "RCPT"),
]


def _command_by_searching_each(text: str) -> str:
    best: tuple[int, str] | None = None
    for pattern, command in _OLD_COMMANDS:
        m = re.search(pattern, text, re.I)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), command)
    if (
        best
        and best[1] == "DATA"
        and re.search(
            r">>> data\b.{0,600}?(need rcpt|no valid recipients|all rcpt commands were rejected)",
            text,
            re.I | re.S,
        )
    ):
        return "RCPT"
    return best[1] if best else ""


def test_the_command_a_failure_answered_is_the_earliest_one_named_as_before() -> None:
    """Finding the SMTP command from its cues gives what searching for every command pattern in
    turn and taking the earliest gave, on every text we hold."""
    for text in TEXTS:
        assert command_in(text) == _command_by_searching_each(text), text[:200]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "in reply to RCPT TO",
                "after end of data",
                ">>> DATA",
                "our MAIL FROM",
                "x",
                "\n",
                " our ",
                "greeting",
                "mail.local",
                "rcpt to:<a@b",
                "while connecting",
                "550 ",
                "response to",
            ]
        ),
        max_size=8,
    ).map("".join)
)
def test_the_command_finder_agrees_with_searching_each_pattern_on_any_mix_of_cues(text: str) -> None:
    """Texts made of the cues in any order and case name the same command both ways."""
    assert command_in(text) == _command_by_searching_each(text)
    assert command_in(text.upper()) == _command_by_searching_each(text.upper())


def test_parsing_on_several_processes_gives_every_answer_of_one_process_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Messages parsed by worker processes, window after window, come back in their order with
    exactly what parsing them here says."""
    monkeypatch.setattr(parallel, "WINDOW", 3)
    raws = [path.read_bytes() for path in sorted(DATA.glob("*.eml"))] * 2
    messages = [(f"m{i}", raw) for i, raw in enumerate(raws)]
    got = list(prepared(messages, processes=2, at_least=2))
    assert [p.label for p in got] == [label for label, _ in messages]
    assert [json.dumps(p.parsed.as_dict()) for p in got] == [
        json.dumps(parse_bounce(r).as_dict()) for r in raws
    ]


def test_a_few_messages_are_parsed_here_without_starting_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the threshold no worker process is started (their start-up would cost more than
    they save)."""

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker pool was started for a handful of messages")

    monkeypatch.setattr(multiprocessing, "get_context", no_pool)
    raws = [path.read_bytes() for path in sorted(DATA.glob("*.eml"))]
    got = list(prepared([(str(i), raw) for i, raw in enumerate(raws)], processes=2))
    assert len(got) == len(raws)
