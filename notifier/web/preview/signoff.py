"""Sign-off pages: every notice's versions (variant x language) with who gets them, two versions
side by side with the differences marked, and "Approve this version".

The approval logic is notifier.compliance.approvals (shared with `notify send` and
`notify check`); this module only shows it and hands it the form.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from notifier.compliance import approvals
from notifier.errors import NotifierError
from notifier.lists import audience
from notifier.render.notice import Notice
from notifier.web.preview import people as people_pages
from notifier.web.preview.app import NotFound, PreviewApp, template

__all__ = ["Version", "approve", "compare", "diff_lines", "notices", "versions", "versions_of"]

SHOWN_PLACES = 12  # jurisdictions listed per version before "and N more"


@dataclass
class Version:
    """One version of a notice as recipients get it: a variant in a language."""

    notice: str
    variant: str
    language: str
    people: int = 0
    places: Counter[str] = field(default_factory=Counter)
    sample: int | None = None  # a recipient id who gets it

    @property
    def key(self) -> str:
        return f"{self.variant}|{self.language}" if self.language else self.variant

    @property
    def label(self) -> str:
        return f"{self.variant} · {self.language}" if self.language else self.variant

    def jurisdictions(self) -> str:
        top = [p for p, _ in self.places.most_common(SHOWN_PLACES)]
        more = len(self.places) - len(top)
        return ", ".join(top) + (f" and {more} more" if more > 0 else "")


def _language(notice: Notice, view: dict[str, Any]) -> str:
    choose = getattr(notice, "language_for", None)  # languages per recipient, where the notice has them
    return str(choose(view).language) if choose is not None else ""


def versions_of(notice: Notice, members: Iterable[audience.Member]) -> list[Version]:
    """Every (variant, language) of ``notice`` with the jurisdictions and number of the
    ``members`` who get it; versions nobody gets are listed too (0 recipients)."""
    found: dict[tuple[str, str], Version] = {}
    languages = list(getattr(notice, "languages", []) or [""])
    for variant in notice.variants:
        for lang in languages:
            found[(variant, lang)] = Version(notice.name, variant, lang)
    for m in members:
        variant = notice.variant_for(m.view)
        lang = _language(notice, m.view) if languages != [""] else ""
        v = found.setdefault((variant, lang), Version(notice.name, variant, lang))
        v.people += 1
        f = m.recipient.fields
        v.places[str(f.get("region") or f.get("country") or "no country")] += 1
        if v.sample is None:
            v.sample = m.id
    return sorted(found.values(), key=lambda v: (v.variant != "default", v.variant, v.language))


def versions(app: PreviewApp, name: str) -> list[Version]:
    """The versions of notice ``name`` among everyone in the lists (kept until a reload)."""
    key = ("versions", app.state().version, name)
    if key not in app.overview_cache:
        app.overview_cache[key] = versions_of(app.notice(name), app.members("all"))
    found: list[Version] = app.overview_cache[key]
    return found


def notices(app: PreviewApp, *, count: bool = True) -> list[dict[str, Any]]:
    """Every notice of the campaign: its versions, who gets each (``count``: else the versions
    only, with no pass over the list), and its sign-off."""
    st = app.state()
    names = app.notice_names()
    signoff = approvals.statuses(st.settings, names)
    out = []
    for name in names:
        row: dict[str, Any] = {"name": name, "signoff": signoff[name], "versions": [], "error": ""}
        try:
            row["versions"] = versions(app, name) if count else versions_of(app.notice(name), [])
        except NotifierError as exc:
            row["error"] = exc.message
        out.append(row)
    return out


def _sample_view(app: PreviewApp, v: Version, fallback: dict[str, Any]) -> dict[str, Any]:
    """Who to render ``v`` for: a recipient who gets it, else the first one placed there."""
    if v.sample is not None:
        person = app.recipient(v.sample)
        if person is not None:
            return person.template_view()
    view = dict(fallback)
    if v.variant != "default":
        code = v.variant
        view["region" if "-" in code else "country"] = code
        if "-" in code:
            view["country"] = code.split("-")[0]
    if v.language:
        view["locale"] = v.language
    return view


def diff_lines(a: str, b: str) -> tuple[Markup, Markup, int]:
    """Two texts side by side: removed words marked <del> on the left, added <ins> on the
    right, and how many lines differ."""
    left: list[str] = []
    right: list[str] = []
    changed = 0
    la, lb = a.splitlines(), b.splitlines()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if op == "equal":
            for line in la[i1:i2]:
                left.append(str(escape(line)))
                right.append(str(escape(line)))
            continue
        changed += max(i2 - i1, j2 - j1)
        old, new = "\n".join(la[i1:i2]), "\n".join(lb[j1:j2])
        wa, wb = old.split(" "), new.split(" ")
        lo: list[str] = []
        ro: list[str] = []
        for wop, a1, a2, b1, b2 in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
            if wop == "equal":
                lo.append(str(escape(" ".join(wa[a1:a2]))))
                ro.append(str(escape(" ".join(wb[b1:b2]))))
                continue
            if a2 > a1:
                lo.append(f"<del>{escape(' '.join(wa[a1:a2]))}</del>")
            if b2 > b1:
                ro.append(f"<ins>{escape(' '.join(wb[b1:b2]))}</ins>")
        left.append(" ".join(lo))
        right.append(" ".join(ro))
    return Markup("\n".join(left)), Markup("\n".join(right)), changed  # noqa: S704 - escaped above


def compare(app: PreviewApp, query: dict[str, str]) -> str:
    """Two versions of a notice side by side (subject, text, HTML), differences marked."""
    notice = app.notice(query.get("notice"))
    st = app.state()
    counted = ("counted", st.version) in app.overview_cache or len(st.lists.recipients) < people_pages.LARGE
    # A large list not counted yet: the versions with a person placed there, no pass over everyone.
    found = versions(app, notice.name) if counted else versions_of(notice, [])
    by_key = {v.key: v for v in found}
    a_key = query.get("a") or found[0].key
    b_key = query.get("b") or (found[1].key if len(found) > 1 else found[0].key)
    for key in (a_key, b_key):
        if key not in by_key:
            raise NotFound(
                f"Notice {notice.name} has no version {key!r}. Its versions: "
                + ", ".join(v.key for v in found)
            )
    people = app.state().lists.recipients
    fallback = people[0].template_view() if people else {"email": "someone@example.org"}
    sides = []
    for key in (a_key, b_key):
        v = by_key[key]
        sides.append((v, notice.render(_sample_view(app, v, fallback))))
    (va, ra), (vb, rb) = sides
    subject = diff_lines(ra.subject, rb.subject)
    text = diff_lines(ra.text, rb.text)
    return template("compare.html").render(
        notice=notice.name,
        versions=found,
        signoff=approvals.statuses(app.state().settings, [notice.name])[notice.name],
        a=va,
        b=vb,
        subject=subject,
        text=text,
        html_a=ra.html,
        html_b=rb.html,
        link=app.link,
        token=app.token,
    )


def approve(app: PreviewApp, form: dict[str, str]) -> tuple[bool, str]:
    """Record "Approve this version" from the form; (done, what to tell the reviewer)."""
    notice = app.notice(form.get("notice"))
    try:
        done = approvals.approve(
            app.state().settings,
            notice.name,
            name=form.get("name", ""),
            role=form.get("role", ""),
            version=form.get("version", ""),
        )
    except NotifierError as exc:
        return False, exc.message + (f" — {exc.hint}" if exc.hint else "")
    app.signoff_changed()
    return True, f"Approved: notice {done.notice} version {done.version[:12]} by {done.who}."
