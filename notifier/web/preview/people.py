"""Per-person state: the recipient browser (state, channel, reason, attempts; filters by state)
and each person's history, read from the ledger for the people on the page only.

Pages are of PAGE people: a million-row list is filtered as it is walked and never rendered
whole; the ledger is asked about the people shown, not the list.
"""

from __future__ import annotations

import bisect
import contextlib
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from notifier.channels.policy import ChannelPolicy, policy_for
from notifier.errors import NotifierError
from notifier.ledger import Ledger
from notifier.ledger.base import PersonEvent, PersonState
from notifier.lists import audience
from notifier.lists.segments import BUILTIN, resolve
from notifier.web.preview.app import BadRequest, PreviewApp, template

__all__ = ["NOT_YET", "PAGE", "Row", "events_of", "recipients", "state_of"]

PAGE = 50
NOT_YET = "not sent yet"
STATES = (NOT_YET, "pending", "sending", "sent", "deferred", "failed", "bounced", "invalid", "suppressed")
_CHANNELS_TTL = 10.0
LARGE = 100_000  # people: from here on a segment not yet counted is walked, not counted first


def state_of(m: audience.Member) -> str:
    """The person's state for the campaign's notice as the ledger has it (or not sent yet)."""
    return m.state.state or ("suppressed" if m.state.suppressed else NOT_YET)


def _shown(m: audience.Member, query: dict[str, str]) -> bool:
    """The recipients page's filters (state, search, country, region, exposed category)."""
    if query.get("state") and state_of(m) != query["state"]:
        return False
    f = m.recipient.fields
    if query.get("q"):
        q = query["q"].lower()
        if q not in m.recipient.email.lower() and not any(q in str(v).lower() for v in f.values()):
            return False
    for col in ("country", "region"):
        if query.get(col) and f.get(col) != query[col].upper():
            return False
    return not query.get("exposed") or query["exposed"].lower() in f.get("exposed", [])


@dataclass(frozen=True)
class Row:
    id: int
    email: str
    fields: dict[str, Any]
    state: str
    channel: str
    reason: str
    attempts: int


def _channels(app: PreviewApp, ledger: Ledger, notice: str) -> dict[int, str]:
    """Channel decisions by ledger row (issue 16's table, where this ledger has it), briefly kept."""
    read = getattr(ledger, "channels_of", None)
    if read is None:
        return {}
    key = ("channels", notice)
    cached = app.overview_cache.get(key)
    if cached is None or time.monotonic() - cached[0] > _CHANNELS_TTL:
        cached = (time.monotonic(), {row: c.channel for row, c in read(notice).items()})
        app.overview_cache[key] = cached
    found: dict[int, str] = cached[1]
    return found


def _policy(app: PreviewApp) -> ChannelPolicy | None:
    """The campaign's channel rules (notifier.channels), None when they cannot be read (the
    channel then shows as email, what `send` does without them; `notify channels` says why)."""
    key = ("channel-policy", app.state().version)
    if key not in app.overview_cache:
        try:
            app.overview_cache[key] = policy_for(app.state().settings)
        except NotifierError:
            app.overview_cache[key] = None
    policy: ChannelPolicy | None = app.overview_cache[key]
    return policy


def details(app: PreviewApp, notice: str, members: list[audience.Member]) -> list[Row]:
    """The rows of a page: each person's ledger state, channel (recorded by `send`, else what
    the channel rules decide for them), reason and attempts."""
    states: dict[str, PersonState] = {}
    channels: dict[int, str] = {}
    ledger = app.open_ledger()
    if ledger is not None:
        try:
            states = ledger.people_states(notice, [m.recipient.key for m in members])
            channels = _channels(app, ledger, notice)
        finally:
            ledger.close()
    policy = _policy(app)
    rows = []
    for m in members:
        s = states.get(m.recipient.key)
        channel = channels.get(s.recipient_row, "") if s else ""
        if not channel and policy is not None:
            channel = policy.decide(m.view).channel.value
        rows.append(
            Row(
                m.id,
                m.recipient.email,
                m.recipient.fields,
                state_of(m),
                channel or "email",
                (s.reason if s else "") or m.state.suppressed,
                s.attempts if s else 0,
            )
        )
    return rows


def recipients(app: PreviewApp, query: dict[str, str]) -> str:
    st = app.state()
    after = _int(query, "after", default=0)
    segment = query.get("segment") or "all"
    if query.get("state") and query["state"] not in STATES:
        raise BadRequest(f"state must be one of {', '.join(STATES)}, not {query['state']!r}")
    shown: list[audience.Member] = []
    with contextlib.closing(_after(app, segment, after)) as candidates:
        for m in candidates:
            if _shown(m, query):
                shown.append(m)
                if len(shown) == PAGE:
                    break
    next_after = shown[-1].id if len(shown) == PAGE else None
    keep = ("q", "segment", "country", "region", "exposed", "state")
    return template("recipients.html").render(
        token=app.token,
        q={k: v for k, v in query.items() if k in keep},
        people=details(app, st.settings.notice, shown),
        notice=st.settings.notice,
        segments=sorted({**BUILTIN, **st.settings.segments}),
        segment=segment,
        states=STATES,
        state=query.get("state", ""),
        link=app.link,
        next_after=next_after,
    )


def _after(app: PreviewApp, segment: str, after: int) -> Generator[audience.Member, None, None]:
    """The segment's members after id ``after``, in list order. A segment already counted is
    bisected; otherwise, for a large list, the audience is walked only as far as the page
    needs (the first page of a filter over a million people comes at once)."""
    st = app.state()
    if segment in st.members or len(st.lists.recipients) < LARGE:
        members = app.members(segment)
        # Ids are places in the merged lists, in order: a page starts after the last one shown.
        yield from members[bisect.bisect_right(members, after, key=lambda m: m.id) :]
        return
    defined = {**BUILTIN, **st.settings.segments}
    if segment not in defined:
        app.members(segment)  # raises NotFound naming the campaign's segments
    notice = st.settings.notice
    first = audience.first_notice_of(st.settings, notice)
    with audience.open_reader(st.settings) as reader:
        walk = audience.members(
            st.lists, resolve(segment, st.settings.segments), reader, notice=notice, first_notice=first
        )
        yield from (m for m in walk if m.id > after)


def person_row(app: PreviewApp, rid: int) -> Row | None:
    """One person's row for their page, from the ledger directly (no pass over the list)."""
    st = app.state()
    person = app.recipient(rid)
    if person is None:
        return None
    notice = st.settings.notice
    state: PersonState | None = None
    suppressed = ""
    channel = ""
    ledger = app.open_ledger()
    if ledger is not None:
        try:
            state = ledger.people_states(notice, [person.key]).get(person.key)
            suppressed = ledger.suppressed([person.key]).get(person.key, "")
            if state is not None:
                channel = _channels(app, ledger, notice).get(state.recipient_row, "")
        finally:
            ledger.close()
    policy = _policy(app)
    if not channel and policy is not None:
        channel = policy.decide(person.template_view()).channel.value
    shown = state.state if state else ("suppressed" if suppressed else NOT_YET)
    return Row(
        rid,
        person.email,
        person.fields,
        shown,
        channel or "email",
        (state.reason if state else "") or suppressed,
        state.attempts if state else 0,
    )


def events_of(app: PreviewApp, key: str) -> list[PersonEvent]:
    """Everything the ledger recorded about one person (none before the first send)."""
    ledger = app.open_ledger()
    if ledger is None:
        return []
    try:
        return ledger.person_events(key)
    finally:
        ledger.close()


def _int(query: dict[str, str], key: str, *, default: int | None = None) -> int:
    value = query.get(key, "")
    if value == "" and default is not None:
        return default
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"{key} must be a whole number, not {value!r}") from None
