"""The preview under attack: the real server on 127.0.0.1, spoken to over real HTTP and raw
sockets, and a real `notify preview` process stopped with SIGTERM."""

from __future__ import annotations

import datetime as dt
import html
import http.client
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from notifier.compliance import approvals
from notifier.ledger import open_ledger
from notifier.pipeline.campaign import notice_context
from notifier.render.notice import RenderFailure, load_notice
from notifier.settings import load
from notifier.web.preview import PreviewApp, start_preview
from notifier.web.preview.server import MAX_FORM

from .conftest import Campaign


@pytest.fixture
def preview(campaign: Campaign) -> Iterator[tuple[int, PreviewApp]]:
    app = PreviewApp(campaign.config)
    running = start_preview(app)
    try:
        yield running.port, app
    finally:
        running.stop()
        app.close()


def get(
    port: int, path: str, *, host: str | None = None, cookie: str | None = None, timeout: float = 20
) -> tuple[int, http.client.HTTPMessage, str]:
    """One GET over a fresh connection: status, headers, body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Host": f"127.0.0.1:{port}" if host is None else host}
        if cookie is not None:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_a_refused_request_is_never_given_the_token_cookie(preview: tuple[int, PreviewApp]) -> None:
    """Without the right token the reply is 403 and sets no cookie; only a URL carrying the token earns it."""
    port, app = preview
    for path, cookie in (("/", None), ("/?token=wrong", None), ("/recipients", "notify_preview=wrong")):
        status, headers, body = get(port, path, cookie=cookie)
        assert status == 403
        assert headers.get_all("Set-Cookie") is None
        assert app.token not in body
    status, headers, _ = get(port, f"/changes?token={app.token}")
    assert status == 200 and f"notify_preview={app.token}" in (headers["Set-Cookie"] or "")


def test_a_request_naming_another_host_is_refused_even_with_the_token(
    preview: tuple[int, PreviewApp],
) -> None:
    """DNS rebinding: `Host: evil.example:PORT` (or another port) gets 421, no page, no cookie."""
    port, app = preview
    for host in (f"evil.example:{port}", f"evil.example.:{port}", "127.0.0.1:1", "127.0.0.1", ""):
        status, headers, body = get(port, f"/recipients?token={app.token}", host=host)
        assert status == 421, host
        assert headers.get_all("Set-Cookie") is None
        assert "@example" not in body
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        status, _, body = get(port, f"/recipients?token={app.token}", host=host)
        assert status == 200 and "chloe@example.net" in body


def test_no_reply_may_be_framed_by_another_page(preview: tuple[int, PreviewApp]) -> None:
    """Pages, refusals and not-found replies all carry frame-ancestors 'none' and the other guards."""
    port, app = preview
    for path in (f"/?token={app.token}", f"/message?id=1&token={app.token}", "/", f"/nope?token={app.token}"):
        _, headers, _ = get(port, path)
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["Cache-Control"] == "no-store"


def test_a_notice_parameter_that_is_a_path_finds_nothing(
    preview: tuple[int, PreviewApp], campaign: Campaign, tmp_path: Path
) -> None:
    """notice=/abs/path, ../folder or /etc is a 404 naming the campaign's notices; nothing there is read."""
    port, app = preview
    planted = tmp_path / "planted"
    (planted / "variants").mkdir(parents=True)
    for part in ("subject.txt", "body.txt", "body.html"):
        (planted / part).write_text("PLANTED-TEMPLATE\n", encoding="utf-8")
    relative = os.path.relpath(planted, campaign.root / "templates")
    for name in (str(planted), relative, "/etc", "..", "breach-notice/../../planted"):
        for path in ("/message", "/message.eml", "/"):
            status, _, body = get(port, f"{path}?id=1&notice={name}&token={app.token}")
            assert status == 404, (path, name)
            assert "PLANTED" not in body
            assert "has no notice called" in body and "breach-notice" in body, body


def test_names_that_are_not_the_campaigns_own_are_not_found(preview: tuple[int, PreviewApp]) -> None:
    """An unknown segment, a recipient id that is not in the list or not a number: a clear 404 page."""
    port, app = preview
    cases = {
        "/recipients?segment=nope": "This campaign has no segment called 'nope'",
        "/message?id=999": "There is no recipient with id 999",
        "/message?id=-1": "There is no recipient with id '-1'",
        "/message.eml?id=abc": "There is no recipient with id 'abc'",
    }
    for path, words in cases.items():
        status, _, body = get(port, f"{path}&token={app.token}")
        assert status == 404, path
        assert words in html.unescape(body), body


def test_a_template_cannot_run_python(
    preview: tuple[int, PreviewApp], campaign: Campaign, tmp_path: Path
) -> None:
    """A template reaching for os.popen is refused by the sandbox: a clear render error, nothing runs."""
    port, app = preview
    marker = tmp_path / "ran"
    subject = campaign.root / "templates" / "breach-notice" / "subject.txt"
    subject.write_text(f"{{{{ lipsum.__globals__.os.popen('touch {marker}').read() }}}}\n", encoding="utf-8")
    status, _, body = get(port, f"/message?id=1&token={app.token}")
    assert status == 500
    assert "This notice does not render" in body
    assert "breach-notice/subject.txt:1" in body and "unsafe" in body
    assert not marker.exists()


def test_a_template_cannot_climb_to_python_internals(campaign: Campaign) -> None:
    """`''.__class__.__mro__` in a notice is a RenderFailure naming the file and line (send and lint too)."""
    subject = campaign.root / "templates" / "breach-notice" / "subject.txt"
    subject.write_text("Notice {{ ''.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8")
    settings = load(campaign.config)
    notice = load_notice(
        settings.templates_dir,
        "breach-notice",
        notice_context(settings, "breach-notice", today=dt.date(2026, 11, 21)),
    )
    with pytest.raises(RenderFailure) as failure:
        notice.render({"email": "ben@example.org", "first_name": "Ben", "country": "US", "exposed": []})
    assert failure.value.where == "breach-notice/subject.txt:1"
    assert "access to attribute '__class__' of 'str' object is unsafe" in failure.value.what


def test_a_slow_client_stalls_nobody_else(preview: tuple[int, PreviewApp]) -> None:
    """With one client idle and another sending its form a byte at a time, a third gets its page at once."""
    port, app = preview
    assert get(port, f"/message?id=1&token={app.token}")[0] == 200  # lists read, notice compiled
    idle = socket.create_connection(("127.0.0.1", port))
    slow = socket.create_connection(("127.0.0.1", port))
    done = threading.Event()

    def drip() -> None:
        slow.sendall(
            f"POST /send-test?token={app.token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n".encode()
        )
        while not done.wait(0.3):
            slow.sendall(b"x")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        time.sleep(1.0)  # both are now inside the server
        started = time.monotonic()
        status, _, body = get(port, f"/message?id=1&token={app.token}", timeout=4)
        assert status == 200 and "Notice of Data Breach" in body
        assert time.monotonic() - started < 2
    finally:
        done.set()
        dripper.join()
        idle.close()
        slow.close()


def test_the_lists_never_reach_the_disk_and_the_work_folder_is_removed_on_close(campaign: Campaign) -> None:
    """The preview reads the lists into memory (the audience): its 0700 work folder stays empty,
    after a reload too, and close() removes it."""
    app = PreviewApp(campaign.config)
    try:
        app.state()
        campaign.edit_config('name = "test"', 'name = "test2"')  # a reload: the lists read again
        app.state()
        folder = app.workdir
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert list(folder.iterdir()) == []
        assert not (campaign.root / "ledger.sqlite").exists()  # a preview creates no ledger either
    finally:
        app.close()
    assert not folder.exists()


def test_sigterm_stops_the_preview_and_removes_its_copy_of_the_lists(
    campaign: Campaign, tmp_path: Path
) -> None:
    """`notify preview` killed with SIGTERM exits 0 and leaves no notify-preview-* folder behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with subprocess.Popen(
        [sys.executable, "-m", "notifier", "--config", str(campaign.config), "preview", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TMPDIR=str(tmp)),
        cwd=campaign.root,
    ) as process:
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, "the preview did not start"
            line = process.stdout.readline()
            assert line.startswith("Preview at http://127.0.0.1:"), line
            port = int(line.split(":")[2].split("/")[0])
            (folder,) = tmp.glob("notify-preview-*")
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
            assert get(port, "/recipients" + line.strip().split("/", 3)[3])[0] == 200
            idle = socket.create_connection(("127.0.0.1", port))  # must not delay the stop
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=5)
            idle.close()
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, err
    assert "preview stopped" in err
    assert list(tmp.glob("notify-preview-*")) == []


def post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        sent = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", path, body=body, headers={**sent, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def approvals_in(campaign: Campaign) -> int:
    if not (campaign.root / "ledger.sqlite").exists():
        return 0
    ledger = open_ledger(load(campaign.config))
    try:
        return sum(e.action == "notice.approve" for e in ledger.audit_entries())
    finally:
        ledger.close()


def test_an_approval_must_carry_the_token_itself_and_come_from_the_console(
    preview: tuple[int, PreviewApp], campaign: Campaign
) -> None:
    """CSRF: the cookie alone, or a post another site's page makes (Sec-Fetch-Site, Origin),
    records nothing; the same form with the token from the console does."""
    port, app = preview
    version = approvals.version_of(load(campaign.config), "breach-notice").hash
    form = f"notice=breach-notice&version={version}&name=Ana&role=legal".encode()
    cookie = {"Cookie": f"notify_preview={app.token}"}
    assert post(port, "/approve", form, cookie)[0] == 403
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}):
        assert post(port, f"/approve?token={app.token}", form, headers)[0] == 403
    assert approvals_in(campaign) == 0
    with_token = form + f"&token={app.token}".encode()
    status, _, body = post(port, "/approve", with_token, {"Sec-Fetch-Site": "same-origin"})
    assert status == 200 and "Approved: notice breach-notice" in html.unescape(body)
    assert approvals_in(campaign) == 1


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(preview: tuple[int, PreviewApp]) -> None:
    """A form larger than the console's forms can be is answered 413, with the security headers."""
    port, app = preview
    status, headers, _ = post(port, f"/send-test?token={app.token}", b"x" * (MAX_FORM + 1))
    assert status == 413
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
