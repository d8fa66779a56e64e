"""The preview's pages: overview, check, recipients and message, each rendered from preview_pages/."""

from __future__ import annotations

import bisect
import datetime as dt
import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage

from notifier.compliance.deadlines_view import deadline_report
from notifier.compliance.lint import lint_message, lint_recipients, load_content_rules
from notifier.lists import audience
from notifier.lists.segments import BUILTIN
from notifier.render.notice import DEFAULT_CATEGORIES
from notifier.web.preview.app import BadRequest, NotFound, PreviewApp, template

__all__ = ["GMAIL_CLIP", "PAGE", "ROUTES", "check", "message", "overview", "recipient_id", "recipients"]

GMAIL_CLIP = 102 * 1024
PAGE = 50


def check(app: PreviewApp, query: dict[str, str]) -> str:
    """The full `notify check` report (DNS, transport, messages, content, list), kept until a reload."""
    st = app.state()
    notice = app.notice(query.get("notice"))
    campaign = app.campaign(notice)
    from notifier.checks.preflight import AudienceFacts, campaign_report

    facts = AudienceFacts("all", app.members("all"), st.lists.summaries, campaign.sample)
    report = campaign_report(st.settings, campaign.transport, notice, facts)
    app.check_summary = (st.version, report.as_dict()["summary"])
    return template("check.html").render(findings=report.findings, summary=report.as_dict()["summary"])


def overview(app: PreviewApp, query: dict[str, str]) -> str:
    st = app.state()
    notice = app.notice(query.get("notice"))
    segments = sorted({**BUILTIN, **st.settings.segments})
    counts = {name: app.segment_count(name) for name in segments}
    key = (st.version, notice.name)
    if key not in app.overview_cache:  # computed once per reload: a large list takes seconds
        rules = load_content_rules(notice.kind)
        categories = {**DEFAULT_CATEGORIES, **notice.context.get("categories", {})}
        people = ((m.view, m.where) for m in app.members("all"))
        linted = lint_recipients(rules, notice.render, notice.context, people, categories=categories)
        app.overview_cache[key] = (linted, deadline_report(st.settings, notice.name))
    linted, deadlines = app.overview_cache[key]
    obligations, tz = deadlines.obligations, deadlines.tz
    now = dt.datetime.now(dt.UTC)
    notices = app.notice_names()
    return template("overview.html").render(
        campaign=st.settings.campaign,
        sender=st.settings.sender.from_header,
        transport=st.settings.transport_url,
        notices=notices,
        notice=notice,
        segments=segments,
        counts=counts,
        linted=linted,
        link=app.link,
        obligations=obligations,
        now=now,
        tz=tz,
        check=app.check_summary[1] if app.check_summary and app.check_summary[0] == st.version else None,
    )


def _shown(m: audience.Member, query: dict[str, str]) -> bool:
    """The recipients page's filters (search, country, region, exposed category)."""
    f = m.recipient.fields
    if query.get("q"):
        q = query["q"].lower()
        if q not in m.recipient.email.lower() and not any(q in str(v).lower() for v in f.values()):
            return False
    for col in ("country", "region"):
        if query.get(col) and f.get(col) != query[col].upper():
            return False
    return not query.get("exposed") or query["exposed"].lower() in f.get("exposed", [])


def recipients(app: PreviewApp, query: dict[str, str]) -> str:
    st = app.state()
    after = _int(query, "after", default=0)
    segment = query.get("segment") or "all"
    members = app.members(segment)
    # Ids are places in the merged lists, in order: a page starts after the last one shown.
    start = bisect.bisect_right([m.id for m in members], after)
    rows: list[audience.Member] = []
    for m in members[start:]:
        if _shown(m, query):
            rows.append(m)
            if len(rows) == PAGE:
                break
    people = [(m.id, m.recipient.email, m.recipient.fields) for m in rows]
    next_after = rows[-1].id if len(rows) == PAGE else None
    return template("recipients.html").render(
        token=app.token,
        q={k: v for k, v in query.items() if k in ("q", "segment", "country", "region", "exposed")},
        people=people,
        segments=sorted({**BUILTIN, **st.settings.segments}),
        segment=segment,
        link=app.link,
        next_after=next_after,
    )


def _int(query: dict[str, str], key: str, *, default: int | None = None) -> int:
    value = query.get(key, "")
    if value == "" and default is not None:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"{key} must be a whole number, not {value!r}") from None


def recipient_id(query: dict[str, str]) -> int:
    """The recipient a page is about: an id of the preview's own list, nothing else."""
    value = query.get("id", "")
    if not value.isascii() or not value.isdigit():
        raise NotFound(f"There is no recipient with id {value!r} in this campaign's lists.")
    return int(value)


def message(app: PreviewApp, query: dict[str, str]) -> str:
    rid = recipient_id(query)
    recipient, notice, data = app.build(rid, query.get("notice"))
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
    html = html_part.get_content() if html_part is not None else ""
    text = text_part.get_content() if text_part is not None else ""
    view = recipient.template_view()
    categories = {**DEFAULT_CATEGORIES, **notice.context.get("categories", {})}
    findings = lint_message(
        load_content_rules(notice.kind), notice.render(view), notice.context, view, categories=categories
    )
    mobile = query.get("width") == "mobile"
    images = query.get("images") == "1"
    st = app.state()
    return template("message.html").render(
        subject=msg["Subject"],
        to=msg["To"],
        notice=notice.name,
        variant=notice.variant_for(view),
        size=len(data),
        html_size=len(html.encode()),
        clip=GMAIL_CLIP,
        link=app.link,
        rid=rid,
        q=query,
        images=images,
        mobile=mobile,
        findings=findings,
        html=html,
        text=text,
        headers=list(msg.items()),
        seeds=st.settings.preview_seeds,
        raw=data.decode("utf-8", "replace"),
    )


ROUTES: dict[str, Callable[[PreviewApp, dict[str, str]], str]] = {
    "/": overview,
    "/check": check,
    "/recipients": recipients,
    "/message": message,
}
