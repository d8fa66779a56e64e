"""The preview's pages: overview, check, recipients and message, each rendered from preview_pages/."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from notifier.compliance.deadlines_view import deadline_report
from notifier.compliance.lint import lint_message, lint_recipients, load_content_rules
from notifier.lists.segments import BUILTIN
from notifier.render.notice import DEFAULT_CATEGORIES
from notifier.web.preview import dashboard, people, signoff
from notifier.web.preview.app import BadRequest, NotFound, PreviewApp, template

__all__ = ["GMAIL_CLIP", "ROUTES", "WIDTHS", "check", "lint", "message", "overview", "recipient_id"]

GMAIL_CLIP = 102 * 1024
WIDTHS = {"phone": 375, "tablet": 600, "desktop": 800}  # the email frame's width, chosen on the page


def lint(app: PreviewApp, query: dict[str, str]) -> str:
    """The content rules for every recipient of the list (kept until a reload)."""
    st = app.state()
    notice = app.notice(query.get("notice"))
    key = ("lint", st.version, notice.name)
    if key not in app.overview_cache:
        rules = load_content_rules(notice.kind)
        categories = {**DEFAULT_CATEGORIES, **notice.context.get("categories", {})}
        people = ((m.view, m.where) for m in app.members("all"))
        app.overview_cache[key] = lint_recipients(
            rules, notice.render, notice.context, people, categories=categories
        )
    return template("lint.html").render(linted=app.overview_cache[key], notice=notice.name, link=app.link)


def _when(zone: str) -> Callable[[float], str]:
    tz = ZoneInfo(zone)
    return lambda ts: dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


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
    """The campaign at a glance. For a large list, the figures that need a pass over everyone
    (segment sizes, who gets each version, deadlines) are computed when asked (``count=all``)
    and then kept until a reload, so the page opens in seconds at any size."""
    st = app.state()
    notice = app.notice(query.get("notice"))
    segments = sorted({**BUILTIN, **st.settings.segments})
    size = len(st.lists.recipients)
    if size < people.LARGE or query.get("count") == "all":
        app.overview_cache[("counted", st.version)] = True
    counted = ("counted", st.version) in app.overview_cache
    counts = {name: app.segment_count(name) if counted else None for name in segments}
    key = ("overview-deadlines", st.version, notice.name)
    if counted and key not in app.overview_cache:  # computed once per reload
        app.overview_cache[key] = deadline_report(st.settings, notice.name, lists=st.lists)
    deadlines = app.overview_cache.get(key)
    # Linting renders every recipient's notice (a minute for 100,000 people): on its own page,
    # summed up here once it has run, so the overview of a large list opens in seconds.
    linted = app.overview_cache.get(("lint", st.version, notice.name))
    now = dt.datetime.now(dt.UTC)
    return template("overview.html").render(
        notices=signoff.notices(app, count=counted),
        people=size,
        counted=counted,
        require=st.settings.require_approval,
        approvers=st.settings.approvers,
        campaign=st.settings.campaign,
        sender=st.settings.sender.from_header,
        transport=st.settings.transport_url,
        notice=notice,
        segments=segments,
        counts=counts,
        linted=linted,
        link=app.link,
        obligations=deadlines.obligations if deadlines else [],
        now=now,
        tz=deadlines.tz if deadlines else dt.UTC,
        check=app.check_summary[1] if app.check_summary and app.check_summary[0] == st.version else None,
    )


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
    width = query.get("width", "desktop")
    if width not in WIDTHS:
        raise BadRequest(f"width must be one of {', '.join(WIDTHS)}, not {width!r}")
    images = query.get("images") == "1"
    st = app.state()
    row = people.person_row(app, rid)  # from the ledger: no pass over the list
    return template("message.html").render(
        widths=WIDTHS,
        width=width,
        person=row,
        events=people.events_of(app, recipient.key),
        when=_when(st.settings.timezone),
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
    "/recipients": people.recipients,
    "/message": message,
    "/compare": signoff.compare,
    "/lint": lint,
    "/dashboard": dashboard.dashboard,
}
