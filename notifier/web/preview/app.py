"""The preview's state: settings, the lists held in memory, compiled notices and campaigns.

Every name a request gives (notice, recipient, segment) is looked up here among the
campaign's own, never used as a path; what is not found raises :class:`NotFound`.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2

from notifier.ledger import Claimed, Ledger, ledger_exists, open_ledger
from notifier.lists import audience
from notifier.lists.segments import BUILTIN, resolve
from notifier.models import Recipient
from notifier.pipeline.campaign import Campaign, notice_context
from notifier.pipeline.testsend import send_test
from notifier.render.notice import Notice, load_notice
from notifier.settings import Settings, load

__all__ = ["BadRequest", "ENV", "NotFound", "PreviewApp", "template"]


class NotFound(LookupError):
    """A parameter names something this campaign does not have (a 404 page says which)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ValueError):
    """A parameter that is not even of the right form (a 400 page says which)."""


ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("notifier.web", "preview_pages"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def template(name: str) -> jinja2.Template:
    return ENV.get_template(name)


# Follow-ups previewed before [serve] public_url is set show where the link would go.
_PREVIEW_BASE = "https://unsubscribe.invalid"


@dataclass
class _Loaded:
    settings: Settings
    version: str
    lists: audience.Lists  # as `send` would import them, in a private scratch ledger (audience)
    members: dict[str, audience.Selection]  # per segment, computed on first use


class PreviewApp:
    """The preview's state: settings, the lists read into memory with their ledger state, compiled
    notices."""

    def __init__(
        self,
        config: Path,
        *,
        token: str | None = None,
        status: Callable[[Ledger], dict[str, Any]] | None = None,
    ) -> None:
        self.config = config
        # What `notify status --json` prints, from the CLI that starts the console: the
        # dashboard draws exactly those numbers (web may not import cli).
        self.status_view: Callable[[Ledger], dict[str, Any]] = status or _no_status
        self.token = token or secrets.token_urlsafe(24)
        self._preview_key = secrets.token_bytes(32)
        # A private (0700) scratch folder: the lists are held in memory and nothing is written
        # here today; close() (and the finaliser, at exit) remove it on every way out.
        self._tmp = tempfile.TemporaryDirectory(prefix="notify-preview-")
        self.closed = False
        self._loaded: _Loaded | None = None
        self._notices: dict[str, Notice] = {}
        self._campaigns: dict[str, Campaign] = {}
        self.lock = threading.RLock()  # one request at a time touches the state (not the sockets)
        self.check_summary: tuple[str, dict[str, int]] | None = None  # (version, counts) of the last check
        self.overview_cache: dict[tuple[str, ...], Any] = {}  # per reload: lint, deadlines, versions

    # ---- state ---------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        """The preview's private scratch folder (0700; kept empty: the lists stay in memory)."""
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

    def members(self, segment_name: str) -> audience.Selection:
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
                # A Selection: two small numbers a person, each Member built when looked at.
                st.members[segment_name] = audience.select(
                    st.lists, segment, reader, notice=notice, first_notice=first
                )
        return st.members[segment_name]

    def open_ledger(self) -> Ledger | None:
        """The campaign ledger for reading (the caller closes it), or None: there is none yet,
        and the console never creates one just by being looked at."""
        settings = self.state().settings
        return open_ledger(settings) if ledger_exists(settings) else None

    def signoff_changed(self) -> None:
        """An approval was recorded: pages computed from the old sign-off are dropped."""
        self.overview_cache = {k: v for k, v in self.overview_cache.items() if k[0] != "signoff"}

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

    def page(self, title: str, body: str, nonce: str = "", *, current: str = "") -> str:
        st = self.state()
        return template("layout.html").render(
            title=title,
            current=current,
            campaign=st.settings.campaign,
            body=_markup(body),
            link=self.link,
            version=st.version,
            nonce=nonce,
        )

    def close(self) -> None:
        """Drop the loaded lists and remove the scratch folder; requests still arriving get a 503."""
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


def _no_status(ledger: Ledger) -> dict[str, Any]:
    return {"notices": []}


def _unsubscribe_base(st: _Loaded) -> str:
    return st.settings.public_url or _PREVIEW_BASE


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # noqa: S704 - built from autoescaped templates below
