"""Phrase tables matched fast: one keyword pass first, a regular expression only where a
keyword says it can match.

A reason's vocabulary is a long alternation of phrases ("mailbox (is )?full", "no such user",
...). Python's ``re`` tries every alternative at every position of the text, which made reading
a bounce cost milliseconds. Here each alternative is compiled on its own and paired with the
keywords one of which any match must contain (worked out from the pattern: the longest run of
plain characters, or a group all of whose alternatives have one). A text is lower-cased once,
the keywords of all tables are found in it in one Aho-Corasick pass, and an alternative runs
only when one of its keywords was found; alternatives without keywords always run. The answer
is exactly that of the whole alternation searched case-insensitively: the text holds a keyword
of every alternative that matches it (tests/test_bounce_speed.py checks this on every wording
we hold).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

import ahocorasick

__all__ = ["PhraseBook", "required_literals", "split_alternatives"]

# A node of the small regular-expression syntax the tables use: ("lit", c), ("any", ""),
# ("group", alternatives) or ("opt"/"rep", node) for a quantified atom (min 0 / min >= 1).
_Node = tuple[str, object]
_ZERO_WIDTH = "bBAZ"


def split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern`` ("a|b(c|d)" -> ["a", "b(c|d)"])."""
    parser, out, start = _Parser(pattern), [], 0
    while True:
        parser.sequence()
        out.append(pattern[start : parser.i])
        if parser.i >= len(pattern):
            return out
        parser.i += 1  # "|" (a ")" here would be unbalanced: re.compile says so)
        start = parser.i


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def alternatives(self) -> list[list[_Node]]:
        alts = [self.sequence()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            alts.append(self.sequence())
        return alts

    def sequence(self) -> list[_Node]:
        seq: list[_Node] = []
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            atom = self.atom()
            seq.append(self.quantified(atom))
        return seq

    def atom(self) -> _Node:
        p, c = self.p, self.p[self.i]
        if c == "\\":
            e = p[self.i + 1]
            self.i += 2
            if e in _ZERO_WIDTH:
                return ("zero", "")
            # \d, \s, \w, \n, a back-reference ...: not one known character.
            return ("any", "") if e.isalnum() else ("lit", e)
        if c == "[":
            j = self.i + 1
            if p[j : j + 1] == "^":
                j += 1
            if p[j : j + 1] == "]":
                j += 1
            while p[j] != "]":
                j += 2 if p[j] == "\\" else 1
            self.i = j + 1
            return ("any", "")
        if c == "(":
            self.i += 1
            look = False
            if p[self.i : self.i + 1] == "?":
                kind = p[self.i + 1]
                look = kind in "=!<"
                self.i += 3 if kind == "<" else 2
            alts = self.alternatives()
            self.i += 1  # ")"
            return ("zero", "") if look else ("group", alts)
        self.i += 1
        if c == ".":
            return ("any", "")
        if c in "^$":
            return ("zero", "")
        return ("lit", c)

    def quantified(self, atom: _Node) -> _Node:
        p = self.p
        if self.i >= len(p):
            return atom
        c, least = p[self.i], -1
        if c in "?*":
            least = 0
            self.i += 1
        elif c == "+":
            least = 1
            self.i += 1
        elif c == "{" and (m := re.match(r"\{(\d*)(,\d*)?\}", p[self.i :])):
            least = int(m.group(1) or 0)
            self.i += m.end()
        if least < 0:
            return atom
        if p[self.i : self.i + 1] in ("?", "+"):
            self.i += 1  # lazy or possessive: the same strings
        return ("opt" if least == 0 else "rep", atom)


def _required(seq: list[_Node]) -> frozenset[str] | None:
    """Strings one of which every match of ``seq`` contains, or None when none is known."""
    candidates: list[frozenset[str]] = []
    run = ""
    for kind, value in seq:
        if kind == "lit":
            run += str(value)
            continue
        if run:
            candidates.append(frozenset({run}))
            run = ""
        inner: object = value
        if kind == "rep" and isinstance(inner, tuple):
            kind, inner = inner
            if kind == "lit":
                candidates.append(frozenset({str(inner)}))
        if kind == "group" and isinstance(inner, list):
            found = _either(inner)
            if found:
                candidates.append(found)
    if run:
        candidates.append(frozenset({run}))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(s) for s in c), -len(c)))


def _either(alternatives: list[list[_Node]]) -> frozenset[str] | None:
    out: set[str] = set()
    for alt in alternatives:
        found = _required(alt)
        if not found:
            return None
        out |= found
    return frozenset(out)


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lower-cased strings one of which is in any text ``pattern`` matches (case-insensitively),
    or None when the pattern guarantees none of at least three characters."""
    found = _either(_Parser(pattern).alternatives())
    if not found or min(len(s) for s in found) < 3:
        return None
    return frozenset(s.lower() for s in found)


class PhraseBook:
    """Named vocabularies; ``says(name, low)`` tells whether lower-cased ``low`` holds one of
    the phrases of ``name``. The keywords of every vocabulary are found in one Aho-Corasick
    pass over the text (pyahocorasick, C), remembered for the next question about it."""

    def __init__(self, tables: Mapping[str, Sequence[str]]) -> None:
        self.sources = {name: "|".join(phrases) for name, phrases in tables.items()}
        self._always: dict[str, list[re.Pattern[str]]] = {name: [] for name in tables}
        self._gated: dict[str, dict[str, list[re.Pattern[str]]]] = {name: {} for name in tables}
        automaton = ahocorasick.Automaton()
        for name, phrases in tables.items():
            for phrase in phrases:
                for alternative in split_alternatives(phrase):
                    regex = re.compile(alternative, re.I)
                    needles = required_literals(alternative)
                    if needles is None:
                        self._always[name].append(regex)
                    for needle in needles or ():
                        self._gated[name].setdefault(needle, []).append(regex)
                        if needle not in automaton:
                            automaton.add_word(needle, needle)
        automaton.make_automaton()
        self._automaton = automaton
        self._found = lru_cache(maxsize=256)(self._scan)

    def _scan(self, low: str) -> frozenset[str]:
        return frozenset(needle for _, needle in self._automaton.iter(low))

    def says(self, name: str, low: str) -> bool:
        gated = self._gated[name]
        for needle in self._found(low):
            for regex in gated.get(needle, ()):
                if regex.search(low):
                    return True
        return any(regex.search(low) for regex in self._always[name])

    def forget(self) -> None:
        """Drop the remembered keyword scans."""
        self._found.cache_clear()
