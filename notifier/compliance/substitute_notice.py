"""The substitute notice's two documents from the same incident facts: the conspicuous website
notice (HTML, autoescaped) and a statement for the media.

Only notify.toml's facts go in ([org], [incident], [contact], [categories]): never a list value,
so neither document can carry anyone's personal data.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from notifier.render.notice import DEFAULT_CATEGORIES

__all__ = ["Posting", "render_media", "render_web", "write_documents"]

# One environment: HTML autoescaped (the web notice), plain text not (the media statement is text).
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("notifier.compliance", "templates"),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# The web notice keeps the five California headings (Civ. Code 1798.82(d)(1)), as the notice does.
WEB_TEMPLATE = "substitute-web.html"
MEDIA_TEMPLATE = "substitute-media.txt"


@dataclass(frozen=True, slots=True)
class Posting:
    posted_from: dt.date
    post_days: int
    phone_days: int = 0

    @property
    def posted_until(self) -> dt.date:
        return self.posted_from + dt.timedelta(days=self.post_days)

    @property
    def phone_until(self) -> dt.date | None:
        return self.posted_from + dt.timedelta(days=self.phone_days) if self.phone_days else None


def _context(facts: Mapping[str, Any], posting: Posting) -> dict[str, Any]:
    org = facts.get("org", {})
    incident = facts.get("incident", {})
    contact = facts.get("contact", {})
    words = {**DEFAULT_CATEGORIES, **facts.get("categories", {})}
    categories = [_public(words.get(c, c)) for c in incident.get("data_categories", [])]
    occurred = incident.get("occurred")
    until = incident.get("occurred_until")
    discovered = incident.get("discovered")
    return {
        "org": org.get("legal_name") or org.get("name", ""),
        "reference": incident.get("reference", ""),
        "what_happened": " ".join(str(incident.get("what_happened", "")).split()),
        "occurred": f"{_day(occurred)} to {_day(until)}" if occurred and until else _day(occurred),
        "discovered": _day(discovered),
        "categories": categories,
        "doing": list(incident.get("what_we_are_doing", [])),
        "can_do": list(incident.get("what_you_can_do", [])),
        "phone": contact.get("phone", ""),
        "hours": contact.get("hours", ""),
        "email": contact.get("email", ""),
        "url": contact.get("url", ""),
        "postal": contact.get("postal", ""),
        "posted_from": f"{posting.posted_from:%d %B %Y}",
        "posted_until": f"{posting.posted_until:%d %B %Y}",
        "phone_until": f"{posting.phone_until:%d %B %Y}" if posting.phone_until else "",
    }


def _public(words: str) -> str:
    """'your email address' -> 'email addresses'-style public wording: drop the 'your'."""
    return words[5:] if words.lower().startswith("your ") else words


def _day(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return f"{value:%d %B %Y}"
    return str(value or "")


def render_web(facts: Mapping[str, Any], posting: Posting) -> str:
    return _ENV.get_template(WEB_TEMPLATE).render(**_context(facts, posting))


def render_media(facts: Mapping[str, Any], posting: Posting) -> str:
    return _ENV.get_template(MEDIA_TEMPLATE).render(**_context(facts, posting))


def write_documents(folder: Path, facts: Mapping[str, Any], posting: Posting) -> tuple[Path, Path]:
    """Write web-notice.html and media-statement.txt into ``folder`` (each replaced atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in (
        ("web-notice.html", render_web(facts, posting)),
        ("media-statement.txt", render_media(facts, posting)),
    ):
        target = folder / name
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        out.append(target)
    return out[0], out[1]
