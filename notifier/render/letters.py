"""Letters: ``templates/<notice>/letter.html`` rendered for one person, placed on the page for a
window envelope, and printed to PDF with WeasyPrint.

A letter is written in the same Jinja, rendered by the notice's own environment (the same
sandbox, autoescaping, StrictUndefined, ``category`` and ``longdate`` filters) with the same
per-recipient context as the email, so it states the same facts; a notice's variants
(``variants/<CODE>/letter.html``) are chosen as the email's are. The template writes the text;
this module adds what must not be left to a template: the recipient's address block inside the
envelope window (1/8" clear of its edges), the return address, the page size and margins, and
"Page N of M" on every page (notifier.letters.geometry has the numbers and their sources).

Why WeasyPrint (measured by bench/letters.py; README "Letters and other channels"): the letter
stays HTML + CSS, so one template language serves both channels and `notify lint` reads both
the same way; ReportLab renders faster but would need each notice written a second time in
Python. Letters are laid out one document each (so page numbers count per letter) and written
in batches, which shares the font subsetting — the costly part — across the batch.

Security: a template is data. WeasyPrint fetches what a page references; here it may read only
files inside the campaign's templates folder (a logo), never a URL or another file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import escape

from notifier.errors import TemplateError
from notifier.letters.geometry import LEADING, Layout, address_lines, fit_size
from notifier.models import Rendered
from notifier.render.notice import Notice, RenderFailure, Section

__all__ = [
    "Addressee",
    "LETTER",
    "LetterTemplate",
    "PdfPrinter",
    "has_letter",
    "letter_rendered",
    "letter_renderer",
]

LETTER = "letter.html"
FONTS = "'Liberation Sans', 'DejaVu Sans', sans-serif"  # Debian fonts-liberation2, fonts-dejavu-core


@dataclass(frozen=True, slots=True)
class Addressee:
    """Who the letter is addressed to: the person, or (deceased) their next of kin."""

    lines: tuple[str, ...]  # the address block, as the list gave it
    next_of_kin: bool = False

    @property
    def name(self) -> str:
        return self.lines[0] if self.lines else ""


def has_letter(notice: Notice) -> bool:
    return (notice.directory / LETTER).is_file()


class LetterTemplate:
    """A notice's letter, compiled once per variant. Raises TemplateError when it will not compile."""

    def __init__(self, notice: Notice, layout: Layout) -> None:
        if not has_letter(notice):
            raise TemplateError(
                f"notice {notice.name!r} has no {LETTER} in {notice.directory}",
                hint=f"write templates/{notice.name}/{LETTER} (start from the built-in breach-notice one)",
            )
        self.notice = notice
        self.layout = layout
        env: jinja2.Environment = notice._html_env  # the email's environment, on purpose
        # (language, variant) -> template. A language pack (lang/<code>/) may hold its own
        # letter.html; a pack without one gets the letter in the notice's own language.
        self._templates: dict[tuple[str, str], jinja2.Template] = {}
        for code in notice.languages:
            root = notice.directory if code == notice.language else notice.packs[code].directory
            if not (root / LETTER).is_file():
                continue
            rel = root.relative_to(notice.directory.parent).as_posix()
            for variant in notice.variants:
                own = root / "variants" / variant / LETTER
                part = f"variants/{variant}/{LETTER}" if variant != "default" and own.is_file() else LETTER
                try:
                    self._templates[(code, variant)] = env.get_template(f"{rel}/{part}")
                except jinja2.TemplateSyntaxError as exc:
                    raise TemplateError(
                        f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}",
                        hint="fix the letter template; `notify letters build` will not run until it compiles",
                    ) from None
        self._css = layout_css(layout)
        self.fallbacks: dict[str, int] = {}  # language -> letters printed in the notice's own instead

    def body(
        self, recipient: Mapping[str, Any], to: Addressee, extra: Mapping[str, Any] | None = None
    ) -> str:
        """The template's HTML for one person (no address block); ``extra``: their per-recipient
        facts beside ``recipient`` (pipeline.campaign.recipient_context: the offer and its code),
        as the email gets them. Raises RenderFailure."""
        language = self.notice.language_for(recipient).language
        variant = self.notice.variant_for(recipient)
        template = self._templates.get((language, variant))
        if template is None:
            # Their language pack has no letter.html: the letter in the notice's own language,
            # facts and labels included (never a mix), counted so the build says so.
            self.fallbacks[language] = self.fallbacks.get(language, 0) + 1
            recipient = {**recipient, "locale": self.notice.language}
            template = self._templates[(self.notice.language, variant)]
        # The email's per-recipient context (language, translated facts, the recipient).
        _parts, ctx = self.notice._select(recipient, extra)
        ctx["letter"] = Section(
            "letter",
            {
                "to": to.name,
                "next_of_kin": to.next_of_kin,
                "address": list(to.lines),
                "paper": self.layout.paper,
            },
        )
        try:
            return template.render(ctx)
        except jinja2.TemplateError as exc:
            where = _where(exc, self.notice.directory.parent)
            raise RenderFailure(where, getattr(exc, "message", None) or str(exc)) from None

    def html(
        self, recipient: Mapping[str, Any], to: Addressee, extra: Mapping[str, Any] | None = None
    ) -> str:
        """The whole letter: the template's HTML with the address and return blocks placed.
        Raises RenderFailure (template or an address that does not fit the window)."""
        lines = address_lines(list(to.lines))
        size = fit_size(lines, self.layout)
        if size is None or not lines:
            raise RenderFailure(
                "address",
                f"the address ({len(lines)} lines) does not fit the envelope window even at 8 pt: "
                f"at most {self.layout.max_lines()} short lines",
            )
        block = "<br>".join(str(escape(line)) for line in lines)
        back = "<br>".join(str(escape(line)) for line in self.layout.return_address)
        inserted = (
            '<div class="notify-head">'
            f'<div class="notify-return">{back}</div>'
            f'<div class="notify-address" style="font-size: {size}pt; line-height: {size + LEADING}pt">'
            f"{block}</div></div>"
        )
        body = self.body(recipient, to, extra)
        m = _BODY.search(body)
        if m is None:
            raise RenderFailure(LETTER, "the letter has no <body> element to place the address in")
        # The layout's style goes last in the head, after the template's own, so it wins.
        style = f"<style>{self._css}</style>"
        before = body[: m.start()]
        end = before.lower().rfind("</head>")
        before = before[:end] + style + before[end:] if end >= 0 else before + style
        return before + body[m.start() : m.end()] + inserted + body[m.end() :]


_BODY = re.compile(r"<body\b[^>]*>", re.I)


def _where(exc: BaseException, templates_dir: Path) -> str:
    import traceback

    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            rel = Path(frame.filename).resolve().relative_to(templates_dir.resolve())
        except ValueError:
            continue
        return f"{rel}:{frame.lineno}"
    return LETTER


def layout_css(layout: Layout) -> str:
    """The page and the placed blocks. ``!important`` where a template's own CSS must not move
    the address out of the window.

    The blocks sit in a head of fixed height at the top of the first page and are moved into
    place with relative offsets from where they would flow (their heights are fixed, so those
    places are known): absolute positioning would cost WeasyPrint a fifth of a letter's time."""
    width, height = layout.size
    m, top, bottom = layout.margin, 0.6, 0.8
    a, r = layout.address_area, layout.return_box.inset(0.125)
    head = max(layout.body_top, a.bottom + 0.25, r.bottom + 0.25) - top
    return (
        f"@page {{ size: {width:.3f}in {height:.3f}in; margin: {top}in {m:.3f}in {bottom}in {m:.3f}in;"
        f' @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font: 9pt {FONTS}; }} }}'
        f" html, body {{ margin: 0 !important; padding: 0 !important; }}"
        f" body {{ font-family: {FONTS}; }}"
        f" .notify-head {{ display: block; height: {head:.4f}in; margin: 0; padding: 0; }}"
        " .notify-address, .notify-return { display: block; position: relative !important; overflow: hidden;"
        f" white-space: nowrap; font-family: {FONTS} !important; font-weight: normal !important;"
        " font-style: normal !important; letter-spacing: 0 !important; color: #000 !important;"
        " text-transform: none !important; margin: 0 !important; padding: 0 !important; }"
        f" .notify-return {{ left: {r.left - m:.4f}in !important; top: {r.top - top:.4f}in !important;"
        f" width: {r.width:.4f}in !important; height: {r.height:.4f}in !important;"
        " font-size: 9pt; line-height: 11pt; }"
        f" .notify-address {{ left: {a.left - m:.4f}in !important;"
        f" top: {a.top - top - r.height:.4f}in !important;"
        f" width: {a.width:.4f}in !important; height: {a.height:.4f}in !important; }}"
    )


@dataclass
class PdfPrinter:
    """WeasyPrint with the fonts configured once; one call prints a batch of letters."""

    templates_dir: Path
    _fonts: Any = field(default=None, init=False)

    def __post_init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        self._fonts = FontConfiguration()

    def _fetch(self, url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
        from weasyprint.urls import default_url_fetcher

        root = self.templates_dir.resolve()
        if url.startswith("file://"):
            path = Path(url[len("file://") :]).resolve()
            if path.is_relative_to(root) and path.is_file():
                result: dict[str, Any] = default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
                return result
        raise ValueError(f"letters may only use files inside {root}, not {url[:80]}")

    def pdf(self, letters: Sequence[str]) -> tuple[bytes, list[int]]:
        """One PDF of ``letters`` (whole HTML documents) in order, and each one's page count."""
        from weasyprint import HTML

        base = self.templates_dir.resolve().as_uri() + "/"
        docs = [
            HTML(string=text, base_url=base, url_fetcher=self._fetch).render(font_config=self._fonts)
            for text in letters
        ]
        pages = [page for doc in docs for page in doc.pages]
        data: bytes = docs[0].copy(pages).write_pdf()
        return data, [len(doc.pages) for doc in docs]


class _Text(HTMLParser):
    """The text of a letter's HTML as `notify lint` reads a text part: headings on their own
    line in capitals (lint's text-heading convention), blocks on their own lines."""

    BLOCKS = frozenset({"p", "div", "li", "tr", "br", "h1", "h2", "h3", "ul", "ol", "table", "section"})

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.title = ""
        self._heading = False
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self.BLOCKS:
            self.out.append("\n")
        self._heading = self._heading or tag in ("h1", "h2", "h3")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag == "title":
            self._in_title = False
        if tag in ("h1", "h2", "h3"):
            self._heading = False
        if tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.out.append(data.upper() if self._heading else data)


def letter_rendered(html: str) -> Rendered:
    """A letter as lint reads a message: its title as the subject, its HTML, its text."""
    parser = _Text()
    parser.feed(html)
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    text = "\n".join(line for line in lines if line)
    return Rendered(subject=" ".join(parser.title.split()), html=html, text=text + "\n")


def letter_renderer(
    notice: Notice, layout: Layout
) -> Callable[[Mapping[str, Any], Mapping[str, Any] | None], Rendered] | None:
    """For `notify lint`: the notice's letter as lint reads a message (None: it has none).
    The address block is left out; the letter is addressed to the person's name."""
    if not has_letter(notice):
        return None
    template = LetterTemplate(notice, layout)

    def render(view: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Rendered:
        name = " ".join(str(view[k]) for k in ("first_name", "last_name") if view.get(k)) or "Recipient"
        return letter_rendered(template.body(view, Addressee((name,)), extra))

    return render
