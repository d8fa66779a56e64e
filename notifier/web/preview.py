"""`notify preview`: a local web app to see every notice before it goes out.

Bound to 127.0.0.1 unless told otherwise, protected by a random token in the URL (kept
in a cookie after the first visit). Messages are built by the same code as `send`
(render, MIME; not signed: the preview never uses the real key), shown in a sandboxed
iframe with no scripts and remote images blocked unless asked. "Send a test" goes only
to the configured seed addresses and is recorded as a test, never as a notice sent.
Pages reload themselves when notify.toml or a template changes.

The pages show every victim's address, so the server trusts nothing it is sent:
- the token cookie is set only in answer to a request that carried the token in its URL;
- a request whose Host is not the address it was bound to (or localhost) is refused, so a
  web page cannot rebind its own name to 127.0.0.1 and read the pages (DNS rebinding);
- no page may be framed (CSP frame-ancestors), scripts run only with the page's nonce;
- every parameter naming a thing (notice, recipient, segment) is looked up among the
  campaign's own names, never used as a path;
- the application lock is held only while a page is computed: reading a request and
  writing a reply happen outside it, with socket timeouts, so a slow client stalls nobody;
- the lists are read into memory (notifier.lists.audience), never copied to disk; the app's
  0700 work folder is removed on every exit (`stop_on_signals` turns SIGTERM/SIGHUP into a
  clean stop).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import email
import email.policy
import hashlib
import http.cookies
import ipaddress
import secrets
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2

from notifier.compliance.deadlines_view import Deadlines, deadline_report
from notifier.compliance.lint import lint_message, lint_recipients, load_content_rules
from notifier.errors import NotifierError, TemplateError
from notifier.ledger import Claimed
from notifier.lists import audience
from notifier.lists.segments import BUILTIN, resolve
from notifier.models import Recipient
from notifier.pipeline.campaign import Campaign, notice_context
from notifier.pipeline.testsend import send_test
from notifier.render.notice import DEFAULT_CATEGORIES, Notice, RenderFailure, load_notice
from notifier.settings import Settings, load

__all__ = ["NotFound", "PreviewApp", "make_server", "stop_on_signals"]

GMAIL_CLIP = 102 * 1024
PAGE = 50
MAX_FORM = 64 * 1024  # the only form is "send a test": a few fields


class NotFound(LookupError):
    """A parameter names something this campaign does not have (a 404 page says which)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ValueError):
    """A parameter that is not even of the right form (a 400 page says which)."""


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("notifier.web", "preview_pages"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _page(name: str) -> jinja2.Template:
    return _ENV.get_template(name)


# Follow-ups previewed before [serve] public_url is set show where the link would go.
_PREVIEW_BASE = "https://unsubscribe.invalid"


@dataclass
class _Loaded:
    settings: Settings
    version: str
    lists: audience.Lists  # the lists as `send` would import them, held in memory, never on disk
    members: dict[str, list[audience.Member]]  # per segment, computed on first use


class PreviewApp:
    """The preview's state: settings, a private copy of the lists, compiled notices."""

    def __init__(self, config: Path, *, token: str | None = None) -> None:
        self.config = config
        self.token = token or secrets.token_urlsafe(24)
        self._preview_key = secrets.token_bytes(32)
        # mkdtemp makes the folder 0700 and the ledger creates its files 0600: the copy of the
        # lists is readable by this user only. close() (and the finaliser, at exit) remove it.
        self._tmp = tempfile.TemporaryDirectory(prefix="notify-preview-")
        self.closed = False
        self._loaded: _Loaded | None = None
        self._notices: dict[str, Notice] = {}
        self._campaigns: dict[str, Campaign] = {}
        self.lock = threading.RLock()  # one request at a time touches the state (not the sockets)
        self.check_summary: tuple[str, dict[str, int]] | None = None  # (version, counts) of the last check
        self.overview_cache: dict[tuple[str, str], tuple[Any, Deadlines]] = {}

    # ---- state ---------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        """The private folder holding the preview's copy of the lists."""
        return Path(self._tmp.name)

    def version(self) -> str:
        """A fingerprint of notify.toml and every template file (for live reload)."""
        digest = hashlib.sha256()
        paths = [self.config]
        try:
            templates = load(self.config).templates_dir
            paths += sorted(p for p in templates.rglob("*") if p.is_file())
        except Exception:
            pass
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            digest.update(f"{p}:{st.st_mtime_ns}:{st.st_size};".encode())
        return digest.hexdigest()[:16]

    def state(self) -> _Loaded:
        version = self.version()
        if self._loaded is None or self._loaded.version != version:
            self._loaded = None
            settings = load(self.config)
            self._loaded = _Loaded(settings, version, audience.read_lists(settings.list_files), {})
            self._notices = {}
            self._campaigns = {}
        return self._loaded

    def notice_names(self) -> list[str]:
        """The notices this campaign has: the folders of its templates folder (not ones that
        are links to elsewhere)."""
        templates = self.state().settings.templates_dir
        try:
            root = templates.resolve()
            return sorted(
                p.name
                for p in templates.iterdir()
                if p.is_dir() and not p.name.startswith(".") and p.resolve().parent == root
            )
        except OSError:
            return []

    def notice(self, name: str | None) -> Notice:
        """The compiled notice called ``name`` (default: the campaign's). Raises NotFound:
        the name is only ever compared with the campaign's own notices, never joined to a path."""
        st = self.state()
        name = name or st.settings.notice
        if name not in self._notices:
            names = self.notice_names()
            if name not in names:
                raise NotFound(
                    f"This campaign has no notice called {name!r}. "
                    f"Its notices: {', '.join(names) or 'none'} (folders of {st.settings.templates_dir})."
                )
            self._notices[name] = load_notice(
                st.settings.templates_dir, name, notice_context(st.settings, name)
            )
        return self._notices[name]

    def members(self, segment_name: str) -> list[audience.Member]:
        """The segment's members as the audience has them (the lists joined with the campaign
        ledger's real state: first notice, complaints, unsubscribes, suppressions), so the
        preview counts what `send` and `run-due` will see. Kept until a reload."""
        st = self.state()
        defined = {**BUILTIN, **st.settings.segments}
        if segment_name not in defined:
            raise NotFound(
                f"This campaign has no segment called {segment_name!r}. "
                f"Its segments: {', '.join(sorted(defined))}."
            )
        if segment_name not in st.members:
            segment = resolve(segment_name, st.settings.segments)
            notice = st.settings.notice
            first = audience.first_notice_of(st.settings, notice)
            with audience.open_reader(st.settings) as reader:
                st.members[segment_name] = list(
                    audience.members(st.lists, segment, reader, notice=notice, first_notice=first)
                )
        return st.members[segment_name]

    def segment_count(self, segment_name: str) -> int:
        return len(self.members(segment_name))

    def recipient(self, rid: int) -> Recipient | None:
        people = self.state().lists.recipients
        return people[rid - 1] if 0 < rid <= len(people) else None

    def build(self, rid: int, notice_name: str | None) -> tuple[Recipient, Notice, bytes]:
        """Exactly what `send` would build for this recipient (unsigned)."""
        with self.lock:
            return self._build(rid, notice_name)

    def _build(self, rid: int, notice_name: str | None) -> tuple[Recipient, Notice, bytes]:
        recipient = self.recipient(rid)
        if recipient is None:
            raise NotFound(f"There is no recipient with id {rid} in this campaign's lists.")
        notice = self.notice(notice_name)
        st = self.state()
        # Unsigned: the preview's pages never use the real DKIM key.
        campaign = self.campaign(notice)
        factory = campaign.factory(self._key(st.settings), unsubscribe_base=_unsubscribe_base(st))
        data = factory.prepare(Claimed(rid, recipient, 0, None, False)).data
        return recipient, notice, data

    def campaign(self, notice: Notice) -> Campaign:
        """The campaign around a compiled notice, as `send` has it (kept until a reload)."""
        st = self.state()
        if notice.name not in self._campaigns:
            self._campaigns[notice.name] = Campaign.of(st.settings, notice, connections=1)
        return self._campaigns[notice.name]

    def _key(self, settings: Settings) -> bytes:
        """The token key of every message the preview builds or sends as a test: this preview's
        own, never the campaign's. Under the campaign key the unsubscribe link and Message-ID of
        a page or a seed's copy would name a real ledger row, so a reviewer or a seed clicking
        "unsubscribe" could opt a real person out. The links keep their exact shape."""
        return self._preview_key

    def link(self, path: str, **params: object) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query["token"] = self.token
        return f"{path}?{urlencode(query)}"

    def page(self, title: str, body: str, nonce: str = "") -> str:
        st = self.state()
        return _page("layout.html").render(
            title=title,
            campaign=st.settings.campaign,
            body=_markup(body),
            link=self.link,
            version=st.version,
            nonce=nonce,
        )

    def close(self) -> None:
        """Close the copy of the lists and remove it; requests still arriving get a 503."""
        with self.lock:
            self.closed = True
            self._loaded = None
            self._tmp.cleanup()

    # ---- actions -------------------------------------------------------------------------

    def send_test(self, rid: int, notice_name: str | None, seed: str) -> str:
        """Send the message this page shows, signed and linked as `send` builds it, to one seed
        address through the campaign's transport; the ledger records it as a test. A follow-up
        with no [serve] public_url is refused here as `send` refuses it (the page shows a
        placeholder link; a test must not carry one)."""
        with self.lock:
            recipient = self.recipient(rid)
            if recipient is None:
                raise NotFound(f"There is no recipient with id {rid} in this campaign's lists.")
            notice = self.notice(notice_name)
            st = self.state()
            outcome = send_test(
                self.campaign(notice),
                recipient,
                seed,
                row=rid,
                key=self._key(st.settings),
            )
        return f"{'sent' if outcome.accepted else 'NOT sent'} to {seed}: {outcome.code} {outcome.text}"


def _unsubscribe_base(st: _Loaded) -> str:
    return st.settings.public_url or _PREVIEW_BASE


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # noqa: S704 - built from autoescaped templates below


def _check(app: PreviewApp, query: dict[str, str]) -> str:
    """The full `notify check` report (DNS, transport, messages, content, list), kept until a reload."""
    st = app.state()
    notice = app.notice(query.get("notice"))
    campaign = app.campaign(notice)
    from notifier.checks.preflight import AudienceFacts, campaign_report

    facts = AudienceFacts("all", app.members("all"), st.lists.summaries, campaign.sample)
    report = campaign_report(st.settings, campaign.transport, notice, facts)
    app.check_summary = (st.version, report.as_dict()["summary"])
    return _page("check.html").render(findings=report.findings, summary=report.as_dict()["summary"])


def _overview(app: PreviewApp, query: dict[str, str]) -> str:
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
    return _page("overview.html").render(
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


def _recipients(app: PreviewApp, query: dict[str, str]) -> str:
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
    return _page("recipients.html").render(
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


def _recipient_id(query: dict[str, str]) -> int:
    """The recipient a page is about: an id of the preview's own list, nothing else."""
    value = query.get("id", "")
    if not value.isascii() or not value.isdigit():
        raise NotFound(f"There is no recipient with id {value!r} in this campaign's lists.")
    return int(value)


def _message(app: PreviewApp, query: dict[str, str]) -> str:
    rid = _recipient_id(query)
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
    return _page("message.html").render(
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


def _csp(images: bool, nonce: str) -> str:
    img = "img-src * data:" if images else "img-src 'self' data: cid:"
    script = f"script-src 'nonce-{nonce}'" if nonce else "script-src 'none'"
    # frame-ancestors: no other page may frame the preview (clickjacking "Send a test").
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; {script}; connect-src 'self'; "
        f"{img}; frame-src 'self' about:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    extra: dict[str, str] = field(default_factory=dict)
    images: bool = False
    nonce: str = ""


def _text(status: int, text: str) -> _Response:
    return _Response(status, text.encode(), "text/plain; charset=utf-8")


_PROBLEM = _ENV.from_string(
    '<h1 id="problem">{{ title }}</h1><p id="detail">{{ detail }}</p>'
    "{% if hint %}<p>{{ hint }}</p>{% endif %}"
)


def _problem(app: PreviewApp, status: int, title: str, detail: str, nonce: str, hint: str = "") -> _Response:
    """An error page in the preview's layout (plain text if even the layout cannot be built)."""
    body = _PROBLEM.render(title=title, detail=detail, hint=hint)
    try:
        return _Response(status, app.page(title.lower(), body, nonce).encode(), nonce=nonce)
    except Exception:
        return _text(status, f"{title}: {detail}\n{hint}\n")


_ROUTES: dict[str, Callable[[PreviewApp, dict[str, str]], str]] = {
    "/": _overview,
    "/check": _check,
    "/recipients": _recipients,
    "/message": _message,
}


def _get(app: PreviewApp, path: str, query: dict[str, str], nonce: str) -> _Response:
    """The reply to an authorised GET; called with the application lock held."""
    try:
        if path == "/changes":
            return _text(200, app.version())
        if path == "/message.eml":
            rid = _recipient_id(query)
            _, _, data = app.build(rid, query.get("notice"))
            disposition = f'attachment; filename="notice-{rid}.eml"'
            return _Response(200, data, "message/rfc822", {"Content-Disposition": disposition})
        if path in _ROUTES:
            body = app.page(path.strip("/") or "overview", _ROUTES[path](app, query), nonce)
            return _Response(200, body.encode(), images=query.get("images") == "1", nonce=nonce)
        return _problem(app, 404, "Not found", f"There is no page {path!r} in the preview.", nonce)
    except NotFound as exc:
        return _problem(app, 404, "Not found", exc.message, nonce)
    except BadRequest as exc:
        return _problem(app, 400, "Bad request", str(exc), nonce)
    except RenderFailure as exc:
        return _problem(
            app,
            500,
            "This notice does not render",
            f"{exc.where}: {exc.what}",
            nonce,
            "Fix the template; `notify send` will not send it either.",
        )
    except TemplateError as exc:
        return _problem(app, 500, "This notice cannot be loaded", exc.message, nonce, exc.hint or "")
    except Exception as exc:
        return _problem(app, 500, "Problem", f"{type(exc).__name__}: {exc}", nonce)


def _post(app: PreviewApp, path: str, form: dict[str, str], nonce: str) -> _Response:
    """The reply to an authorised POST (its token was in the URL); the lock is held."""
    if path != "/send-test":
        return _text(404, "Not found\n")
    try:
        rid = _recipient_id(form)
        result = app.send_test(rid, form.get("notice"), form.get("seed", ""))
    except PermissionError as exc:
        return _text(403, f"{exc}\n")
    except NotFound as exc:
        return _problem(app, 404, "Not found", exc.message, nonce)
    except NotifierError as exc:  # e.g. a follow-up with no [serve] public_url: `send` refuses too
        result = f"NOT sent: {exc.message}" + (f" — {exc.hint}" if exc.hint else "")
    except Exception as exc:
        result = f"NOT sent: {type(exc).__name__}: {exc}"
    body = _ENV.from_string(
        '<h1>Test</h1><p id="result">{{ r }}</p><p><a href="{{ back }}">back</a></p>'
    ).render(r=result, back=app.link("/message", id=form.get("id"), notice=form.get("notice")))
    return _Response(200, app.page("test", body, nonce).encode(), nonce=nonce)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Seconds a connection may sit idle (or between two pieces of a slowly sent request)
    # before its thread gives up. Reading requests happens outside the application lock, so
    # this bounds only the thread, never other clients.
    timeout = 10
    server_version = "notify-preview"  # not the Python version
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return None  # request lines would carry recipient ids and searches: no personal data in logs

    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def _refusal(self, query: dict[str, str], *, token_in_url_only: bool) -> _Response | None:
        """Why this request gets nothing (wrong Host, no token), or None."""
        if not self.server.host_allowed(self.headers.get("Host") or ""):
            return _text(
                421,
                "Misdirected request: this preview answers only to the address it printed "
                "(http://127.0.0.1:PORT or http://localhost:PORT).\n",
            )
        app = self.server.app
        given = query.get("token", "")
        if not token_in_url_only and not given:
            cookie = http.cookies.SimpleCookie()
            with contextlib.suppress(http.cookies.CookieError):
                cookie.load(self.headers.get("Cookie") or "")
            given = cookie["notify_preview"].value if "notify_preview" in cookie else ""
        if not secrets.compare_digest(given.encode(), app.token.encode()):
            return _text(403, "Forbidden: open the URL notify preview printed (it carries the token).\n")
        return None

    def _send(self, response: _Response, *, set_cookie: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Content-Security-Policy", _csp(response.images, response.nonce))
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        if set_cookie:
            self.send_header(
                "Set-Cookie", f"notify_preview={self.server.app.token}; HttpOnly; SameSite=Strict; Path=/"
            )
        for k, v in response.extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed requests, unknown methods: the same security headers as every page.
        self.close_connection = True
        self._send(_text(code, f"{code} {message or self.responses.get(code, ('Error',))[0]}\n"))

    def _serve(self, path: str, query: dict[str, str], compute: Callable[[str], _Response]) -> None:
        app = self.server.app
        nonce = secrets.token_urlsafe(16)
        with app.lock:  # held only while the page is computed, never while talking to the client
            response = _text(503, "The preview is shutting down.\n") if app.closed else compute(nonce)
        # The cookie only ever goes to a client that showed the token in the URL itself.
        token_in_url = secrets.compare_digest(query.get("token", "").encode(), app.token.encode())
        self._send(response, set_cookie=token_in_url and response.status < 400)

    def do_GET(self) -> None:
        path, query = self._query()
        refused = self._refusal(query, token_in_url_only=False)
        if refused is not None:
            self._send(refused)
            return
        self._serve(path, query, lambda nonce: _get(self.server.app, path, query, nonce))

    def do_POST(self) -> None:
        path, query = self._query()
        # The token must come with the request itself (not only the cookie): no cross-site posts.
        refused = self._refusal(query, token_in_url_only=True)
        if refused is None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_FORM:
                refused = _text(400, f"Bad request: a form of at most {MAX_FORM} bytes, with its length\n")
        if refused is not None:
            self.close_connection = True  # the body, if any, is not read
            self._send(refused)
            return
        # Read before taking the lock: a client sending its body slowly holds only its own thread.
        raw = self.rfile.read(length)
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        self._serve(path, query, lambda nonce: _post(self.server.app, path, form, nonce))


def _host_names(host: str) -> tuple[frozenset[str], bool]:
    """The names a browser may use for a server bound to ``host``; True for a wildcard bind."""
    wildcard = host in ("", "0.0.0.0", "::")  # noqa: S104 - comparing, not binding
    names = {host.lower().strip("[]"), "localhost"}
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host.lower() == "localhost"
    if loopback:
        names |= {"127.0.0.1", "::1"}
    if wildcard:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names), wildcard


class _Server(ThreadingHTTPServer):
    # Threads, not one loop: browsers open idle speculative connections that would block it.
    # Daemon threads, not joined on close: an idle connection must not delay a stop (SIGTERM)
    # by its timeout; a request still computing holds the lock that close() waits for.
    daemon_threads = True
    block_on_close = False
    app: PreviewApp
    names: frozenset[str]
    any_address: bool

    def host_allowed(self, header: str) -> bool:
        """DNS rebinding defence: a page of evil.example whose name now points to 127.0.0.1
        still sends `Host: evil.example`. Only our own address (an IP literal, for a wildcard
        bind) or localhost, with our port, is served."""
        port = self.server_address[1]
        name, sep, given_port = header.strip().rpartition(":")
        if not sep or name.endswith(":"):  # no port, or a bare IPv6 literal
            name, given_port = header.strip(), "80"
        if given_port != str(port):
            return False
        name = name.lower().rstrip(".")
        bare = name.strip("[]")
        if bare in self.names:
            return True
        if self.any_address:
            try:
                ipaddress.ip_address(bare)
            except ValueError:
                return False
            return True
        return False


def make_server(app: PreviewApp, host: str = "127.0.0.1", port: int = 8025) -> _Server:
    server = _Server((host, port), _Handler)
    server.app = app
    server.names, server.any_address = _host_names(host)
    return server


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block SIGTERM and SIGHUP stop the preview as Ctrl-C does (KeyboardInterrupt
    in the main thread), so the `finally` that removes the copy of the lists runs. A second
    signal during the clean-up is ignored rather than cutting it short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
