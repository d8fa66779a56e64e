"""`notify preview`: a local web app to see every notice before it goes out.

Bound to 127.0.0.1 unless told otherwise, protected by a random token in the URL (kept
in a cookie after the first visit). Messages are built by the same code as `send`
(render, MIME; not signed: the preview never uses the real key), shown in a sandboxed
iframe with no scripts and remote images blocked unless asked. "Send a test" goes only
to the configured seed addresses and is recorded as a test, never as a notice sent.
Pages reload themselves when notify.toml or a template changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import hashlib
import http.cookies
import json
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jinja2

from . import pipeline
from .deadlines_view import deadline_report
from .ledger import Claimed, SqliteLedger, ledger_exists, open_ledger
from .lint import lint_message, lint_recipients, load_content_rules
from .models import Envelope, Recipient
from .render import DEFAULT_CATEGORIES, Notice, load_notice
from .segments import BUILTIN, resolve
from .send import notice_context
from .settings import Settings, load
from .signing import Signer
from .tokens import Tokens
from .transports import from_url

__all__ = ["PreviewApp", "make_server"]

GMAIL_CLIP = 102 * 1024
PAGE = 50

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("notifier", "preview_pages"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _page(name: str) -> jinja2.Template:
    return _ENV.get_template(name)


def _campaign_state(settings: Settings, notice: str) -> tuple[dict[str, str], set[str]]:
    """Each recipient's state for the first notice, read from the campaign ledger (if it
    exists), so the `notified` and `unreached` segments count what `notify send` will see."""
    if not ledger_exists(settings):
        return {}, set()
    ledger = open_ledger(settings)
    try:
        states = dict(
            ledger.query(
                "SELECT r.key, m.state FROM messages m JOIN recipients r ON r.id=m.recipient_id "
                "WHERE m.notice=?",
                (notice,),
            )
        )
        complained = {r[0] for r in ledger.query("SELECT address FROM bounce_events WHERE kind='complaint'")}
        return states, complained
    finally:
        ledger.close()


# Follow-ups previewed before [serve] public_url is set show where the link would go.
_PREVIEW_BASE = "https://unsubscribe.invalid"


@dataclass
class _Loaded:
    settings: Settings
    version: str
    ledger: SqliteLedger
    members: dict[str, set[int]]


class PreviewApp:
    """The preview's state: settings, a private copy of the lists, compiled notices."""

    def __init__(self, config: Path, *, token: str | None = None) -> None:
        self.config = config
        self.token = token or secrets.token_urlsafe(24)
        self._tmp = tempfile.TemporaryDirectory(prefix="notify-preview-")
        self._loaded: _Loaded | None = None
        self._notices: dict[str, Notice] = {}
        self.lock = threading.RLock()  # one request at a time touches the state
        self.check_summary: tuple[str, dict[str, int]] | None = None  # (version, counts) of the last check
        self.overview_cache: dict[tuple[str, str], tuple[Any, dict[tuple[str, str], int]]] = {}

    # ---- state ---------------------------------------------------------------------------

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
            if self._loaded is not None:
                self._loaded.ledger.close()
            settings = load(self.config)
            ledger = SqliteLedger(Path(self._tmp.name) / f"preview-{version}.sqlite", shared=True)
            pipeline.import_lists(ledger, settings.list_files)
            self._loaded = _Loaded(settings, version, ledger, {})
            self._notices = {}
        return self._loaded

    def notice(self, name: str | None) -> Notice:
        st = self.state()
        name = name or st.settings.notice
        if name not in self._notices:
            self._notices[name] = load_notice(
                st.settings.templates_dir, name, notice_context(st.settings, name)
            )
        return self._notices[name]

    def members(self, segment_name: str) -> set[int] | None:
        """Recipient ids in a segment, None for everyone. Every defined segment is computed in
        one pass over the list the first time any is asked for (then kept until a reload)."""
        st = self.state()
        if segment_name == "all":
            return None
        if not st.members:
            names = [n for n in {**BUILTIN, **st.settings.segments} if n != "all"]
            segments = [resolve(name, st.settings.segments) for name in names]
            found: dict[str, set[int]] = {s.name: set() for s in segments}
            states, complained = _campaign_state(st.settings, st.settings.notice)
            for rid, fields_json, email_addr, source, line, key in st.ledger.rows(
                "SELECT id, fields, email, source, line, key FROM recipients"
            ):
                view = {**json.loads(fields_json), "email": email_addr}
                view.setdefault("exposed", [])
                view["first_notice"] = states.get(key, "")
                view["complained"] = key in complained
                view["unsubscribed"] = False
                for segment in segments:
                    if segment.matches(view, where=f"{source}:{line}"):
                        found[segment.name].add(rid)
            st.members.update(found)
        if segment_name not in st.members:
            resolve(segment_name, st.settings.segments)  # raises UnknownSegmentError
        return st.members[segment_name]

    def segment_count(self, segment_name: str) -> int:
        members = self.members(segment_name)
        if members is None:
            return int(self.state().ledger.query("SELECT count(*) FROM recipients")[0][0])
        return len(members)

    def recipient(self, rid: int) -> Recipient | None:
        rows = self.state().ledger.query(
            "SELECT email, key, fields, source, line, smtputf8 FROM recipients WHERE id=?", (rid,)
        )
        if not rows:
            return None
        email_addr, key, fields, source, line, utf8 = rows[0]
        return Recipient(email_addr, key, source, line, json.loads(fields), bool(utf8))

    def build(self, rid: int, notice_name: str | None) -> tuple[Recipient, Notice, bytes]:
        """Exactly what `send` would build for this recipient (unsigned)."""
        with self.lock:
            return self._build(rid, notice_name)

    def _build(self, rid: int, notice_name: str | None) -> tuple[Recipient, Notice, bytes]:
        recipient = self.recipient(rid)
        if recipient is None:
            raise KeyError(rid)
        notice = self.notice(notice_name)
        st = self.state()
        key = st.settings.secret or self._campaign_key(st.settings) or b"preview-only-key-000000"
        factory = pipeline.MessageFactory(
            notice, st.settings.sender, Tokens(key), unsubscribe_base=st.settings.public_url or _PREVIEW_BASE
        )
        data = factory.prepare(Claimed(rid, recipient, 0, None, False)).data
        return recipient, notice, data

    def _campaign_key(self, settings: Settings) -> bytes | None:
        if not ledger_exists(settings):
            return None
        real = open_ledger(settings)
        try:
            return real.secret()
        finally:
            real.close()

    def link(self, path: str, **params: object) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query["token"] = self.token
        return f"{path}?{urlencode(query)}"

    def page(self, title: str, body: str) -> str:
        st = self.state()
        return _page("layout.html").render(
            title=title,
            campaign=st.settings.campaign,
            body=_markup(body),
            link=self.link,
            version=st.version,
        )

    def close(self) -> None:
        with self.lock:
            if self._loaded is not None:
                self._loaded.ledger.close()
                self._loaded = None
            self._tmp.cleanup()

    # ---- actions -------------------------------------------------------------------------

    def send_test(self, rid: int, notice_name: str | None, seed: str) -> str:
        """Send this recipient's notice to one seed address; the ledger records it as a test."""
        st = self.state()
        seeds = [s.lower() for s in st.settings.preview_seeds]
        if seed.lower() not in seeds:
            raise PermissionError(f"{seed} is not in [preview] seeds")
        _, notice, data = self.build(rid, notice_name)
        from .preflight import build_signer

        signer: Signer | None = build_signer(st.settings)
        if signer is not None:
            data = signer.sign(data)
        transport = from_url(
            st.settings.transport_url, root=st.settings.root, connections=1, helo=st.settings.sender.helo
        )
        envelope = Envelope(f"bounces@{st.settings.sender.bounce_domain}", seed)

        async def go() -> Any:
            await transport.open()
            try:
                return await transport.send(envelope, data)
            finally:
                await transport.close()

        outcome = asyncio.run(go())
        real = open_ledger(st.settings)
        try:
            real.record_test(
                notice=notice.name,
                seed=seed,
                accepted=outcome.accepted,
                reply=f"{outcome.code} {outcome.text}",
            )
        finally:
            real.close()
        return f"{'sent' if outcome.accepted else 'NOT sent'} to {seed}: {outcome.code} {outcome.text}"


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # noqa: S704 - built from autoescaped templates below


def _check(app: PreviewApp, query: dict[str, str]) -> str:
    """The full `notify check` report (DNS, transport, messages, content, list), kept until a reload."""
    st = app.state()
    notice = app.notice(query.get("notice"))
    transport = from_url(
        st.settings.transport_url, root=st.settings.root, connections=1, helo=st.settings.sender.helo
    )
    from .preflight import campaign_report

    report = campaign_report(st.settings, transport, notice, resolve("all", {}), st.settings.list_files)
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
        people = (
            ({**json.loads(f), "email": e, "exposed": json.loads(f).get("exposed", [])}, f"{s}:{ln}")
            for f, e, s, ln in st.ledger.rows("SELECT fields, email, source, line FROM recipients")
        )
        linted = lint_recipients(rules, notice.render, notice.context, people, categories=categories)
        by_place = {
            (c, r): n
            for c, r, n in st.ledger.query(
                "SELECT COALESCE(json_extract(fields, '$.country'), ''), "
                "COALESCE(json_extract(fields, '$.region'), ''), count(*) FROM recipients GROUP BY 1, 2"
            )
        }
        app.overview_cache[key] = (linted, by_place)
    linted, by_place = app.overview_cache[key]
    obligations, tz = deadline_report(st.settings, notice.name, resolve("all", {}), counts=by_place)
    now = dt.datetime.now(dt.UTC)
    notices = sorted(p.name for p in st.settings.templates_dir.iterdir() if p.is_dir())
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


def _recipients(app: PreviewApp, query: dict[str, str]) -> str:
    st = app.state()
    where: list[str] = ["id > ?"]
    params: list[object] = [int(query.get("after") or 0)]
    if query.get("q"):
        where.append("(email LIKE ? OR fields LIKE ?)")
        like = f"%{query['q']}%"
        params += [like, like]
    for col in ("country", "region"):
        if query.get(col):
            where.append(f"json_extract(fields, '$.{col}') = ?")
            params.append(query[col].upper())
    if query.get("exposed"):
        where.append("EXISTS (SELECT 1 FROM json_each(json_extract(fields, '$.exposed')) WHERE value = ?)")
        params.append(query["exposed"].lower())
    segment = query.get("segment") or "all"
    members = app.members(segment)
    rows: list[tuple[Any, ...]] = []
    after = int(query.get("after") or 0)
    # Keyset pagination: fast on the millionth row as on the first.
    while len(rows) < PAGE:
        batch = st.ledger.query(
            f"SELECT id, email, fields, source, line FROM recipients WHERE {' AND '.join(where)} "
            "ORDER BY id LIMIT ?",
            [after if i == 0 else p for i, p in enumerate(params)] + [PAGE * 4],
        )
        if not batch:
            break
        rows += [r for r in batch if members is None or r[0] in members]
        after = batch[-1][0]
    rows = rows[:PAGE]
    people = [(r[0], r[1], json.loads(r[2])) for r in rows]
    next_after = rows[-1][0] if len(rows) == PAGE else None
    return _page("recipients.html").render(
        token=app.token,
        q={k: v for k, v in query.items() if k not in ("after", "token")},
        people=people,
        segments=sorted({**BUILTIN, **st.settings.segments}),
        segment=segment,
        link=app.link,
        next_after=next_after,
    )


def _message(app: PreviewApp, query: dict[str, str]) -> str:
    rid = int(query["id"])
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


def _csp(images: bool) -> str:
    img = "img-src * data:" if images else "img-src 'self' data: cid:"
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; "
        f"{img}; frame-src 'self' about:; base-uri 'none'"
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # seconds an idle connection may hold a thread

    def log_message(self, format: str, *args: Any) -> None:
        return None  # request lines would carry recipient ids and searches: no personal data in logs

    def _authorised(self, query: dict[str, str]) -> bool:
        app = self.server.app
        cookie = http.cookies.SimpleCookie(self.headers.get("Cookie") or "")
        given = query.get("token") or (cookie["notify_preview"].value if "notify_preview" in cookie else "")
        return secrets.compare_digest(given, app.token)

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        extra: dict[str, str] | None = None,
        images: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", _csp(images))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header(
            "Set-Cookie", f"notify_preview={self.server.app.token}; HttpOnly; SameSite=Strict; Path=/"
        )
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _query(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        return parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def do_GET(self) -> None:
        with self.server.app.lock:
            self._get()

    def _get(self) -> None:
        path, query = self._query()
        if not self._authorised(query):
            self._reply(
                403,
                b"Forbidden: open the URL notify preview printed (it carries the token).\n",
                "text/plain; charset=utf-8",
            )
            return
        app = self.server.app
        routes: dict[str, Callable[[PreviewApp, dict[str, str]], str]] = {
            "/": _overview,
            "/check": _check,
            "/recipients": _recipients,
            "/message": _message,
        }
        try:
            if path == "/changes":
                self._reply(200, app.version().encode(), "text/plain; charset=utf-8")
            elif path == "/message.eml":
                _, _, data = app.build(int(query["id"]), query.get("notice"))
                self._reply(
                    200,
                    data,
                    "message/rfc822",
                    {"Content-Disposition": f'attachment; filename="notice-{int(query["id"])}.eml"'},
                )
            elif path in routes:
                body = app.page(path.strip("/") or "overview", routes[path](app, query))
                self._reply(200, body.encode(), images=query.get("images") == "1")
            else:
                self._reply(404, b"Not found\n", "text/plain; charset=utf-8")
        except Exception as exc:
            self._reply(
                500,
                app.page(
                    "error",
                    _ENV.from_string("<h1>Problem</h1><pre>{{ e }}</pre>").render(
                        e=f"{type(exc).__name__}: {exc}"
                    ),
                ).encode(),
            )

    def do_POST(self) -> None:
        with self.server.app.lock:
            self._post()

    def _post(self) -> None:
        path, query = self._query()
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        # The token must come with the request itself (not only the cookie): no cross-site posts.
        if not secrets.compare_digest(query.get("token", ""), self.server.app.token) or path != "/send-test":
            self._reply(403, b"Forbidden\n", "text/plain; charset=utf-8")
            return
        app = self.server.app
        try:
            result = app.send_test(int(form["id"]), form.get("notice"), form.get("seed", ""))
        except PermissionError as exc:
            self._reply(403, str(exc).encode(), "text/plain; charset=utf-8")
            return
        except Exception as exc:
            result = f"NOT sent: {type(exc).__name__}: {exc}"
        body = _ENV.from_string(
            '<h1>Test</h1><p id="result">{{ r }}</p><p><a href="{{ back }}">back</a></p>'
        ).render(r=result, back=app.link("/message", id=form.get("id"), notice=form.get("notice")))
        self._reply(200, app.page("test", body).encode())


class _Server(ThreadingHTTPServer):
    # Threads, not one loop: browsers open idle speculative connections that would block it.
    # Those time out (the handler's timeout) so closing the server can wait for every thread.
    daemon_threads = False
    app: PreviewApp


def make_server(app: PreviewApp, host: str = "127.0.0.1", port: int = 8025) -> _Server:
    server = _Server((host, port), _Handler)
    server.app = app
    return server
