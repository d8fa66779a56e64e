"""The content rules in each language (issue 17; reference notice-channels §5).

The rules in ``rules/content.toml`` are written in English. A notice written in Spanish is held
to the same rules through the ``[languages.<code>]`` tables there: each English heading has its
translation, each English pattern its counterpart (a check passes on either). Where the
statutory headings must stay in English (``[languages.statutory_english]``: California), the
rules that apply only there keep their English text, so a Spanish notice to a Californian needs
both "Qué sucedió" (GEN rules, translated) and "What Happened" (CA-02, in English) — the
templates write "Qué sucedió / What Happened". Readability uses each language's own adaptation
of Flesch's formula (WARN only).

Also here: what `notify lint` says about the packs themselves — unreviewed translations,
people whose language has no pack, and campaign facts not translated.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from notifier.render.locale import language_rules

if TYPE_CHECKING:
    from notifier.compliance.lint import ContentRule

__all__ = [
    "FREE_TEXT_FACTS",
    "heading_forms",
    "localise",
    "reading_ease",
    "statutory_places",
    "untranslated_facts",
]

# The campaign facts written as sentences for the reader: in a Spanish notice they must be in
# Spanish too ([translations.es.incident] in notify.toml), or lint says which are not.
FREE_TEXT_FACTS = (
    "incident.what_happened",
    "incident.likely_consequences",
    "incident.what_we_are_doing",
    "incident.what_you_can_do",
    "contact.hours",
    "changes.credentials_reset",
    "changes.two_factor",
    "changes.integrations_reviewed",
    "changes.audit",
    "changes.staff_training",
    "changes.software_updates",
    "changes.other",
    "investigation.findings",
    "investigation.root_cause",
    "final_update.summary",
    "final_update.closing",
)


def statutory_places() -> frozenset[str]:
    return frozenset(language_rules().get("statutory_english", {}).get("places", []))


def _table(language: str) -> Mapping[str, Any]:
    table: Mapping[str, Any] = language_rules().get(language.split("-")[0], {})
    return table


def _either(english: str, local: str) -> str:
    """One regex matching either; a leading (?i) of either moves to the front (Python wants
    global flags first)."""
    flags = "(?i)" if english.startswith("(?i)") or local.startswith("(?i)") else ""
    english, local = english.removeprefix("(?i)"), local.removeprefix("(?i)")
    return f"{flags}(?:{english})|(?:{local})"


def localise(rule: ContentRule, language: str) -> ContentRule:
    """``rule`` as it applies to a notice in ``language``. Rules that apply only in places whose
    statutory headings stay in English keep their English headings and title."""
    base = language.split("-")[0]
    if base == "en":
        return rule
    table = _table(base)
    if not table:
        return rule
    p = dict(rule.params)
    statutory = rule.applies is not None and rule.applies <= statutory_places()
    headings: Mapping[str, str] = table.get("headings", {})
    patterns: Mapping[str, str] = table.get("patterns", {})
    if rule.check in ("heading", "order") and not statutory:
        p["headings"] = [headings.get(h, h) for h in p["headings"]]
    elif rule.check == "title" and not statutory:
        p["text"] = headings.get(p["text"], p["text"])
    elif rule.check in ("pattern", "forbid", "subject"):
        p["patterns"] = [_either(pat, patterns[pat]) if pat in patterns else pat for pat in p["patterns"]]
    elif rule.check == "reading":
        p = {**p, "language": base, "formula": table.get("reading", ""), "min_ease": table.get("min_ease")}
    return dataclasses.replace(rule, params=p)


def heading_forms(heading: str) -> list[str]:
    """A heading and, for a bilingual one ("Qué sucedió / What Happened"), each of its halves."""
    parts = [heading]
    if " / " in heading:
        parts += heading.split(" / ")
    return parts


_VOWELS = re.compile(r"[aeiouyáéíóúüàâèêëîïôûùœæäöå]+", re.I)
_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]*")


def _syllables(word: str) -> int:
    return max(1, len(_VOWELS.findall(word)))


def reading_ease(text: str, formula: str) -> float:
    """Flesch reading ease as adapted for the language (higher is easier):
    Fernández Huerta (es), Kandel & Moles (fr), Amstad (de)."""
    sentences = max(1, len(re.findall(r"[.!?]+(\s|$)", text)))
    words = _WORD.findall(text)
    if not words:
        return 100.0
    per_sentence = len(words) / sentences
    per_word = sum(_syllables(w) for w in words) / len(words)
    if formula == "fernandez-huerta":
        return 206.84 - 60.0 * per_word - 1.02 * (100.0 / per_sentence)  # F: sentences per 100 words
    if formula == "kandel-moles":
        return 207.0 - 1.015 * per_sentence - 73.6 * per_word
    if formula == "amstad":
        return 180.0 - per_sentence - 58.5 * per_word
    return 206.835 - 1.015 * per_sentence - 84.6 * per_word


def untranslated_facts(facts: Mapping[str, Any], translations: Mapping[str, Any], language: str) -> list[str]:
    """Free-text facts set in notify.toml with no ``[translations.<language>...]`` counterpart."""
    local = translations.get(language) or translations.get(language.split("-")[0]) or {}
    missing = []
    for dotted in FREE_TEXT_FACTS:
        table, _, key = dotted.partition(".")
        if (facts.get(table) or {}).get(key) in (None, "", []):
            continue
        if (local.get(table) or {}).get(key) in (None, "", []):
            missing.append(dotted)
    return missing
