"""The digest as text and as HTML (autoescaped), from :class:`~notifier.digest.status.DigestData`."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Any

import jinja2

from notifier.digest.status import WINDOW_HOURS, DigestData
from notifier.render.locale import format_number

__all__ = ["render_digest", "subject"]


def subject(data: DigestData) -> str:
    """Under the codename when there is one (PagerDuty: keep to the incident's codename until
    insider involvement is ruled out; reference notice-channels §8)."""
    name = data.codename or data.campaign
    return f"Incident digest: {name}, {data.as_of:%Y-%m-%d %H:%M %Z}"


def _environment(*, html: bool, zone: dt.tzinfo | None) -> jinja2.Environment:
    folder = resources.files("notifier.digest") / "templates"
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (folder / name).read_text(encoding="utf-8")),
        # The text part is not HTML; the HTML part escapes every value (a notice or offer name is
        # the campaign's own, but still text, never markup).
        autoescape=html,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def when(value: Any) -> str:
        # Every time in the campaign's zone, as `notify deadlines` shows them.
        if isinstance(value, dt.datetime):
            return f"{value.astimezone(zone):%a %d %b %Y %H:%M %Z}"
        return str(value)

    env.filters["when"] = when
    env.filters["num"] = format_number
    return env


def render_digest(data: DigestData, fmt: str = "text") -> str:
    """The digest in ``fmt``: "text" or "html"."""
    html = fmt == "html"
    env = _environment(html=html, zone=data.as_of.tzinfo)
    template = env.get_template("digest.html" if html else "digest.txt")
    return template.render(data=data, title=subject(data), hours=WINDOW_HOURS)
