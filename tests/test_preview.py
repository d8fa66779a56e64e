"""The preview in real headless Chromium (Playwright, Debian's chromium), against the
preview server on 127.0.0.1 and a real SMTP sink for test sends."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.tokens import Tokens
from notifier.web.preview import PreviewApp, start_preview

from .conftest import Campaign
from .smtpsink import Sink

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HEADINGS = [
    "What Happened",
    "What Information Was Involved",
    "What We Are Doing",
    "What You Can Do",
    "For More Information",
]


@pytest.fixture
def preview(campaign: Campaign, sink: Sink) -> Iterator[tuple[str, PreviewApp]]:
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    campaign.edit_config("[ledger]", '[preview]\nseeds = ["qa@example.com"]\n\n[ledger]')
    app = PreviewApp(campaign.config)
    running = start_preview(app)
    try:
        yield running.base, app
    finally:
        running.stop()
        app.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def test_a_reviewer_finds_a_recipient_reads_the_notice_and_sends_a_test(
    preview: tuple[str, PreviewApp], browser: Any, sink: Sink, campaign: Campaign
) -> None:
    base, app = preview
    page = browser.new_page()
    page.goto(f"{base}/?token={app.token}")
    assert "Segments" in page.content() and "affected" in page.inner_text("main")
    page.click("text=Recipients")
    page.fill("#search", "chloe")
    page.click("#go")
    page.click("a.person")
    frame = page.locator("iframe#html")
    assert frame.get_attribute("sandbox") == ""  # no scripts, no same-origin, no forms
    page.click("#mobile")
    assert "375px" in (page.locator("iframe#html").get_attribute("style") or "")
    body = page.frame_locator("iframe#html").locator("body").inner_text()
    assert "Dear Chloé," in body
    positions = [body.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert "Every content rule for this recipient's jurisdiction is met." in page.inner_text("#findings")
    page.wait_for_load_state("load")
    page.locator("#send-test").scroll_into_view_if_needed()
    page.locator("#send-test").click()
    assert "sent to qa@example.com" in page.inner_text("#result")
    (received,) = sink.received
    assert received.rcpt_to == "qa@example.com" and b"Dear Chlo" in received.data
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    assert db.execute("SELECT seed, accepted FROM test_sends").fetchall() == [("qa@example.com", 1)]
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0  # a test is not a notice sent


def test_requests_without_the_token_are_refused(preview: tuple[str, PreviewApp]) -> None:
    base, _app = preview
    for path in ("/", "/recipients", "/message?id=1", "/message.eml?id=1"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(base + path, timeout=10)
        assert info.value.code == 403
        info.value.close()
    with pytest.raises(urllib.error.HTTPError) as posted:
        urllib.request.urlopen(
            urllib.request.Request(f"{base}/send-test", data=b"id=1&seed=qa@example.com", method="POST"),
            timeout=10,
        )
    assert posted.value.code == 403
    posted.value.close()


def test_tests_go_only_to_seed_addresses(preview: tuple[str, PreviewApp], sink: Sink) -> None:
    base, app = preview
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(
            urllib.request.Request(
                f"{base}/send-test?token={app.token}", data=b"id=1&seed=victim@example.org", method="POST"
            ),
            timeout=10,
        )
    assert info.value.code == 403 and sink.received == []
    info.value.close()


def test_a_follow_up_that_send_would_refuse_is_not_sent_as_a_test(
    preview: tuple[str, PreviewApp], sink: Sink, campaign: Campaign
) -> None:
    """A follow-up with no [serve] public_url is refused for a test as `send` refuses it, with
    the fix, instead of going out with the preview's placeholder unsubscribe link."""
    base, app = preview
    campaign.fill_follow_up_facts(public_url=False)
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{base}/send-test?token={app.token}",
            data=b"id=1&notice=what-we-changed&seed=qa@example.com",
            method="POST",
        ),
        timeout=30,
    ) as r:
        page = r.read().decode()
    assert "NOT sent" in page and "public_url" in page
    assert sink.received == []


def test_a_seeds_test_copy_cannot_unsubscribe_a_real_person(
    preview: tuple[str, PreviewApp], sink: Sink, campaign: Campaign
) -> None:
    """The unsubscribe link in a test copy acts on nobody: it is not made under the campaign's
    key, so a seed clicking it cannot opt out the real person whose notice was previewed."""
    base, app = preview
    campaign.fill_follow_up_facts()
    assert campaign.notify("send", "--segment", "affected", "--yes").code == 0
    before = len(sink.received)
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{base}/send-test?token={app.token}",
            data=b"id=1&notice=what-we-changed&seed=qa@example.com",
            method="POST",
        ),
        timeout=30,
    ) as r:
        assert "NOT sent" not in r.read().decode()
    sink.wait_for(before + 1)
    copy = email.message_from_bytes(sink.received[-1].data, policy=email.policy.default)
    token = re.search(r"/u/([^>]+)>", str(copy["List-Unsubscribe"]))
    assert token is not None
    db = sqlite3.connect(campaign.root / "ledger.sqlite")
    try:
        key = bytes.fromhex(db.execute("SELECT value FROM meta WHERE key='token_key'").fetchone()[0])
    finally:
        db.close()
    assert Tokens(key).parse_unsubscribe_token(token.group(1)) is None


def test_the_eml_download_is_exactly_what_send_builds(preview: tuple[str, PreviewApp]) -> None:
    base, app = preview
    with urllib.request.urlopen(f"{base}/message.eml?id=1&token={app.token}", timeout=10) as r:
        data = r.read()
        assert r.headers["Content-Type"] == "message/rfc822"
    _, _, built = app.build(1, None)
    assert data.split(b"\r\nDate:")[0] == built.split(b"\r\nDate:")[0]
    assert b"DKIM-Signature" not in data  # the preview never signs with the real key


def test_pages_notice_when_templates_change(preview: tuple[str, PreviewApp], campaign: Campaign) -> None:
    base, app = preview

    def version() -> str:
        with urllib.request.urlopen(f"{base}/changes?token={app.token}", timeout=10) as r:
            return str(r.read().decode())

    before = version()
    subject = campaign.root / "templates" / "breach-notice" / "subject.txt"
    subject.write_text("Notice of Data Breach: updated\n", encoding="utf-8")
    assert version() != before
    with urllib.request.urlopen(f"{base}/message?id=1&token={app.token}", timeout=10) as r:
        assert b"Notice of Data Breach: updated" in r.read()


def test_remote_images_are_blocked_unless_asked(preview: tuple[str, PreviewApp]) -> None:
    base, app = preview
    with urllib.request.urlopen(f"{base}/message?id=1&token={app.token}", timeout=10) as r:
        assert "img-src 'self' data: cid:" in r.headers["Content-Security-Policy"]
    with urllib.request.urlopen(f"{base}/message?id=1&images=1&token={app.token}", timeout=10) as r:
        assert "img-src * data:" in r.headers["Content-Security-Policy"]


def test_the_overview_offers_the_check_report_and_then_sums_it_up(preview: tuple[str, PreviewApp]) -> None:
    base, app = preview
    with urllib.request.urlopen(f"{base}/?token={app.token}", timeout=30) as r:
        assert b"Run the checks" in r.read()
    with urllib.request.urlopen(f"{base}/check?token={app.token}", timeout=60) as r:
        page = r.read().decode()
    assert "DKIM-5" in page and "SPF-11" in page and "LIST-1" in page
    with urllib.request.urlopen(f"{base}/?token={app.token}", timeout=30) as r:
        overview = r.read().decode()
    assert 'id="check-summary"' in overview and "see the report" in overview
