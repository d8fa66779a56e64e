"""Is a follow-up ready to go out? One set of rules that `schedule`, `lint`, `check` and the
run itself ask, so a follow-up is refused before it is scheduled rather than after it went out.

A follow-up is not ready when
  * a facts section its templates use is empty (an empty ``[changes]`` renders "we have made
    these changes:" followed by nothing), or
  * ``[serve] public_url`` is not set: follow-ups carry a one-click List-Unsubscribe link
    (RFC 8058), which must point somewhere reachable.

:func:`problems` is pure (text and mappings in, problems out); :func:`notice_problems` reads the
notice's folder and hands it over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifier.errors import UsageError
from notifier.render.notice import notice_meta
from notifier.settings import Settings

__all__ = ["FACT_SECTIONS", "Problem", "notice_problems", "problems", "refuse_unready"]

# The follow-up facts sections of notify.toml, and the key that carries the substance of each
# (None: any non-empty key will do). Only sections a notice's templates mention are asked for.
FACT_SECTIONS: Mapping[str, str | None] = {
    "changes": None,
    "investigation": "findings",
    "final_update": "summary",
}

# Template files whose text is searched for the sections they use.
_PARTS = ("subject.txt", "body.txt", "body.html")


@dataclass(frozen=True, slots=True)
class Problem:
    id: str  # FOLLOWUP-FACTS or FOLLOWUP-UNSUBSCRIBE
    notice: str
    found: str
    fix: str

    def line(self) -> str:
        return f"ERROR {self.id}: {self.found}\n  fix: {self.fix}"


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(_filled(v) for v in value)
    return value is not None


def sections_used(template_text: str) -> list[str]:
    """The follow-up facts sections a template mentions (``changes.two_factor`` -> changes)."""
    return [s for s in FACT_SECTIONS if re.search(rf"\b{s}\s*\.", template_text)]


def problems(
    notice: str, kind: str, template_text: str, facts: Mapping[str, Any], public_url: str
) -> list[Problem]:
    """What keeps follow-up ``notice`` from being sent; empty when it is ready (or not a follow-up)."""
    if kind != "follow-up":
        return []
    found: list[Problem] = []
    for section in sections_used(template_text):
        values = facts.get(section) or {}
        key = FACT_SECTIONS[section]
        ready = _filled(values.get(key)) if key else any(_filled(v) for v in values.values())
        if not ready:
            what = f"[{section}] {key}" if key else f"[{section}]"
            found.append(
                Problem(
                    "FOLLOWUP-FACTS",
                    notice,
                    f"{notice!r} tells people about {what}, and notify.toml has nothing there: "
                    "everyone would get a heading followed by nothing",
                    f"fill in {what} in notify.toml (the commented example from `notify init` shows "
                    "the keys), then run `notify lint --notice " + notice + "`",
                )
            )
    if not public_url:
        found.append(
            Problem(
                "FOLLOWUP-UNSUBSCRIBE",
                notice,
                f"{notice!r} is a follow-up and carries a one-click unsubscribe link, "
                "but [serve] public_url is not set",
                "set [serve] public_url to the https address where `notify serve` is reachable "
                '(e.g. public_url = "https://notify.example.com")',
            )
        )
    return found


def notice_problems(
    templates_dir: Path, notice: str, facts: Mapping[str, Any], public_url: str
) -> list[Problem]:
    """:func:`problems` for the notice folder ``templates_dir / notice`` (every variant included)."""
    directory = templates_dir / notice
    kind, _ = notice_meta(directory)
    if kind != "follow-up":
        return []
    texts = [p.read_text(encoding="utf-8") for p in _template_files(directory)]
    return problems(notice, kind, "\n".join(texts), facts, public_url)


def _template_files(directory: Path) -> Iterable[Path]:
    for part in _PARTS:
        yield from (p for p in directory.rglob(part) if p.is_file())


def refuse_unready(settings: Settings, notice: str) -> None:
    """Raise a UsageError (exit 2) listing every problem and its fix, when there is one."""
    found = notice_problems(settings.templates_dir, notice, settings.facts, settings.public_url)
    if found:
        raise UsageError(
            f"follow-up {notice!r} is not ready to send:\n" + "\n".join(p.line() for p in found),
            hint="fix the settings above; nothing was scheduled or sent",
        )
