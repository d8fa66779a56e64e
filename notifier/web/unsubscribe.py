"""One-click unsubscribe from follow-ups (RFC 8058), served by `notify serve`.

Follow-up notices carry ``List-Unsubscribe: <https://PUBLIC_URL/u/TOKEN>, <mailto:...>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (both DKIM-signed). TOKEN is an HMAC over
the message row under the campaign key, for this purpose only: it cannot be guessed, and a
VERP token cannot be replayed as one.

- ``POST /u/TOKEN`` (a mailbox provider's one-click, body ``List-Unsubscribe=One-Click``, or
  the confirmation page's button): records the opt-out at once, no second click; repeating it
  changes nothing.
- ``GET /u/TOKEN`` (a person following the link): a page that explains and asks to confirm;
  a GET never unsubscribes, because mail scanners follow links.

Unsubscribing stops follow-up updates only. A notice the law requires is still sent, and the
page says so.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from notifier.settings import Settings
from notifier.web.serve import ServeApp

__all__ = ["add_unsubscribe_routes", "page"]

_LEGAL = (
    "This stops our follow-up updates about the incident. If the law requires us to tell you "
    "something more (for example, that more of your information was involved), we will still "
    "write to you."
)


def page(title: str, body: str, *, org: str = "") -> bytes:
    """A small self-contained HTML page (no scripts, no remote content)."""
    who = f"<p style='color:#555'>{html.escape(org)}</p>" if org else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:Arial,sans-serif;max-width:560px;margin:40px auto;padding:0 16px;"
        f"line-height:1.5;font-size:17px'>{who}<h1 style='font-size:24px'>{html.escape(title)}</h1>{body}"
        "</body></html>"
    ).encode()


def add_unsubscribe_routes(app: ServeApp, settings: Settings) -> None:
    org = str(settings.facts.get("org", {}).get("name", ""))

    def row_of(token: str) -> int | None:
        if "/" in token or not token:
            return None
        return app.tokens.parse_unsubscribe_token(token)

    def invalid() -> tuple[int, str, bytes]:
        return (
            404,
            "text/html; charset=utf-8",
            page(
                "This link does not work",
                "<p>Please use the link from the most recent email we sent you.</p>",
                org=org,
            ),
        )

    def show(app_: ServeApp, token: str, body: bytes) -> tuple[int, str, bytes]:
        row = row_of(token)
        if row is None:
            return invalid()
        with app.lock:
            done = app.ledger.is_unsubscribed(row)
        if done:
            return (
                200,
                "text/html; charset=utf-8",
                page("You have already unsubscribed", f"<p>{_LEGAL}</p>", org=org),
            )
        form = (
            f"<p>{_LEGAL}</p><form method='post' action='/u/{html.escape(token)}'>"
            "<input type='hidden' name='confirm' value='1'>"
            "<button type='submit' style='font-size:17px;padding:10px 18px'>Stop follow-up updates</button>"
            "</form>"
        )
        return 200, "text/html; charset=utf-8", page("Stop follow-up updates?", form, org=org)

    def post(app_: ServeApp, token: str, body: bytes) -> tuple[int, str, bytes]:
        row = row_of(token)
        if row is None:
            return invalid()
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        one_click = fields.get("List-Unsubscribe") == ["One-Click"]
        if not one_click and fields.get("confirm") != ["1"]:
            return 400, "text/plain; charset=utf-8", b"expected List-Unsubscribe=One-Click\n"
        with app.lock:
            result = app.ledger.unsubscribe(row, via="one-click" if one_click else "page")
        if result is None:
            return invalid()
        app.count("unsubscribed" if result else "unsubscribe-repeated")
        return (
            200,
            "text/html; charset=utf-8",
            page("You will get no more follow-up updates", f"<p>{_LEGAL}</p>", org=org),
        )

    app.extra_routes[("GET", "/u/")] = show
    app.extra_routes[("POST", "/u/")] = post
