"""The campaign console in real headless Chromium (Playwright, Debian's chromium) against the
console on 127.0.0.1: sign-off, the live dashboard during a real send to the SMTP test server,
each person's state, screenshots at 1366 and 375 px, and axe-core's A/AA rules."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.cli.views import status_data
from notifier.compliance import approvals
from notifier.settings import load
from notifier.web.preview import PreviewApp, start_preview

from .conftest import Campaign
from .smtpsink import Sink
from .test_preview import CHROMIUM, FLAGS

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"  # screenshots (ignored by git)
AXE = Path(__file__).resolve().parent / "web" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def console(campaign: Campaign, sink: Sink) -> Iterator[tuple[str, PreviewApp]]:
    campaign.edit_config('url = "outbox:outbox"', f'url = "{sink.url}"')
    campaign.edit_config("require_approval = false", "require_approval = true")
    campaign.edit_config('approvers = ["legal", "security"]', 'approvers = ["legal"]')
    app = PreviewApp(campaign.config, status=status_data)
    running = start_preview(app)
    try:
        yield running.base, app
    finally:
        running.stop()
        app.close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_reviewer_compares_approves_and_an_edit_afterwards_stops_the_send(
    console: tuple[str, PreviewApp], chromium: Any, campaign: Campaign, sink: Sink
) -> None:
    """Two variants compared with the differences marked, the version approved by name and role;
    an edit to a template then shows "changed since approved by ..." in the console and in
    `notify check`, and `notify send` to the SMTP server refuses, saying who must approve."""
    base, app = console
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/?token={app.token}")
    versions = page.locator("#notice-breach-notice table.versions")
    assert "US-MA" in versions.inner_text() and "default" in versions.inner_text()
    assert "US-CA" in versions.inner_text() and "FR" in versions.inner_text()  # who gets each
    assert "not approved" in page.inner_text("#signoff-breach-notice")
    shot(page, "console-overview-1366")
    page.click("#notice-breach-notice a.compare")
    values = page.eval_on_selector_all("#pick-a option", "os => os.map(o => o.value)")
    page.select_option("#pick-a", next(v for v in values if v.startswith("default")))
    page.select_option("#pick-b", next(v for v in values if v.startswith("US-MA")))
    page.click("#compare-go")
    assert page.locator("#text-b ins").count() > 0  # what US-MA adds is marked
    shot(page, "console-compare-1366")
    page.fill("#approver-name", "Ana Legal")
    page.select_option("#approver-role", "legal")
    page.click("#approve-go")
    assert "Approved: notice breach-notice" in page.inner_text("#result")
    page.goto(f"{base}/")
    assert "approved by Ana Legal (legal)" in page.inner_text("#signoff-breach-notice")

    body = campaign.root / "templates" / "breach-notice" / "body.txt"
    edited = body.read_text(encoding="utf-8") + "\nOne more line after the sign-off.\n"
    body.write_text(edited, encoding="utf-8")
    page.wait_for_selector("#signoff-breach-notice.changed", timeout=15000)  # the page reloads itself
    signoff = page.inner_text("#signoff-breach-notice")
    assert "changed since approved by Ana Legal (legal)" in signoff and "body.txt changed" in signoff

    # (separate processes: Playwright's event loop runs in this thread)
    checked, _ = campaign.spawn("check").communicate(timeout=120)
    assert "changed since approved by Ana Legal (legal)" in checked
    sender = campaign.spawn("send", "--segment", "affected", "--yes")
    _, refused = sender.communicate(timeout=120)
    assert sender.returncode == 1
    assert "changed since approved by Ana Legal (legal)" in refused
    assert "legal must approve notice breach-notice" in refused
    assert sink.received == []


def test_the_dashboard_during_a_real_send_shows_what_notify_status_says(
    console: tuple[str, PreviewApp], chromium: Any, campaign: Campaign, sink: Sink
) -> None:
    """While `notify send` runs against the SMTP server the dashboard refreshes by itself, and
    once it ends its counts by state and by email equal `notify status --json`."""
    base, app = console
    settings = load(campaign.config)
    version = approvals.version_of(settings, "breach-notice").hash
    approvals.approve(settings, "breach-notice", name="Ana Legal", role="legal", version=version)
    sink.handler.data_delay = 0.05  # a relay that takes its time, so the page sees the send running
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/dashboard?token={app.token}")
    assert "Nothing planned or sent" in page.inner_text("#live")
    sender = campaign.spawn("send", "--segment", "affected", "--yes")
    try:
        page.wait_for_selector("#total[data-total]:not([data-total='0'])", timeout=60000)  # mid-send
        _, err = sender.communicate(timeout=120)
    finally:
        if sender.poll() is None:
            sender.kill()
    assert sender.returncode == 0, err
    status = json.loads(campaign.spawn("status", "--json").communicate(timeout=60)[0])
    (notice,) = [n for n in status["notices"] if n["notice"] == "breach-notice"]

    def shown(attribute: str) -> dict[str | None, int]:
        cards = page.query_selector_all(f"[{attribute}]")
        return {e.get_attribute(attribute): int(e.inner_text()) for e in cards}

    deadline = time.monotonic() + 20  # the page refreshes itself every 3 s: no reload here
    while shown("data-state") != notice["counts"] and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert shown("data-state") == notice["counts"]
    assert shown("data-outcome") == notice["outcomes"]
    assert page.get_attribute("#total", "data-total") == str(notice["total"])
    assert page.locator("#live svg.chart").count() >= 4  # drawn on the server, no script library
    shot(page, "console-dashboard-1366")
    phone = chromium.new_page(viewport={"width": 375, "height": 800})
    phone.goto(f"{base}/dashboard?token={app.token}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    shot(phone, "console-dashboard-375")


def test_the_recipient_browser_shows_each_persons_state_and_filters_by_it(
    console: tuple[str, PreviewApp], chromium: Any, campaign: Campaign, sink: Sink
) -> None:
    """After a send with one refused address, filtering by "failed" lists just that person, with
    the reason and attempts, and their page lists the attempt."""
    from .smtpsink import Fault

    base, app = console
    settings = load(campaign.config)
    version = approvals.version_of(settings, "breach-notice").hash
    approvals.approve(settings, "breach-notice", name="Ana Legal", role="legal", version=version)
    sink.fault("chloe@example.net", Fault("rcpt", "550 5.1.1 no such user"))
    sender = campaign.spawn("send", "--segment", "affected", "--yes")
    sender.communicate(timeout=120)
    page = chromium.new_page(viewport={"width": 375, "height": 800})
    page.goto(f"{base}/recipients?token={app.token}")
    page.click("#states >> text=failed")
    rows = page.locator("#people tr:has(a.person)")
    assert rows.count() == 1
    assert "chloe@example.net" in rows.inner_text() and "user_unknown" in rows.inner_text()
    assert rows.locator("td.channel").inner_text() == "email"
    assert page.locator("#states a[aria-current=true]").inner_text() == "failed"  # visible selected state
    rows.locator("a.person").click()
    assert "attempt permanent" in page.inner_text("#events") and "550" in page.inner_text("#events")
    page.click("#mobile")
    assert "width:375px" in (page.locator("iframe#html").get_attribute("style") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "console-person-375")


def test_the_console_is_usable_by_keyboard(console: tuple[str, PreviewApp], chromium: Any) -> None:
    """Tab reaches a skip link first, then the navigation; Enter on it follows the link."""
    base, app = console
    page = chromium.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{base}/?token={app.token}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(2):  # Overview, then Recipients
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Recipients"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/recipients"))
    assert page.locator("nav a[aria-current=page]").inner_text() == "Recipients"


@pytest.mark.parametrize("width", [1366, 375])
def test_axe_core_finds_no_a_or_aa_violations(
    console: tuple[str, PreviewApp], chromium: Any, width: int
) -> None:
    """axe-core (npm, tests/web) reports no WCAG 2.1 A/AA violation on any console page."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm install --prefix tests/web axe-core (.ci/run does)")
    base, app = console
    context = chromium.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    source = AXE.read_text(encoding="utf-8")
    found = {}
    pages = ["/", "/compare?notice=breach-notice", "/recipients", "/message?id=1", "/dashboard", "/check"]
    pages.append("/lint")
    for path in pages:
        page.goto(f"{base}{path}{'&' if '?' in path else '?'}token={app.token}")
        page.evaluate(source)
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_A_AA)
        found[path] = [(v["id"], v["help"], len(v["nodes"])) for v in result["violations"]]
        if width == 375 and path == "/":
            shot(page, "console-overview-375")
    context.close()
    assert found == {path: [] for path in found}


def test_docs_screenshots_exist() -> None:
    """The README's console section shows two screenshots kept in docs/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shots = re.findall(r"\(docs/(console-[\w-]+\.png)\)", readme)
    assert len(shots) >= 2
    for name in shots:
        assert (ROOT / "docs" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def fetch(base: str, path: str, app: PreviewApp) -> str:
    url = f"{base}{path}{'&' if '?' in path else '?'}token={app.token}"
    with urllib.request.urlopen(url, timeout=120) as r:
        return str(r.read().decode())


def test_the_dashboard_before_any_send_says_so_and_creates_no_ledger(
    console: tuple[str, PreviewApp], campaign: Campaign
) -> None:
    """Looking at the dashboard of a campaign that sent nothing says so; no ledger appears."""
    base, app = console
    page = fetch(base, "/dashboard", app)
    assert "Nothing planned or sent for breach-notice yet" in page
    assert "No letters in this campaign" in page
    assert not (campaign.root / "ledger.sqlite").exists()


def test_the_content_rules_for_everyone_are_checked_on_their_own_page_then_summed_up(
    console: tuple[str, PreviewApp],
) -> None:
    """The overview offers the check over every recipient; once run, it sums it up."""
    base, app = console
    assert "Check the notice content for every recipient" in fetch(base, "/", app)
    assert "Every applicable rule is met for 4" in fetch(base, "/lint", app)
    assert 'id="lint-ok"' in fetch(base, "/", app)


def test_a_large_list_opens_at_once_and_is_counted_when_asked(
    console: tuple[str, PreviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the size where counting takes minutes, the overview offers to count instead of
    counting, a segment filter still finds its first page, and "Count them now" fills it in."""
    from notifier.web.preview import people

    monkeypatch.setattr(people, "LARGE", 2)  # the 4-person test list counts as large
    base, app = console
    first = fetch(base, "/", app)
    assert "Count them now" in first and "not counted yet" in first
    assert "chloe@example.net" in fetch(base, "/recipients?segment=eu&country=FR", app)
    assert "Count on the overview" in fetch(base, "/dashboard", app)  # deadlines: a pass over everyone
    counted = fetch(base, "/?count=all", app)
    assert "Count them now" not in counted and "3 recipients" in counted  # affected
