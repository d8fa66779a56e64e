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
  writing a reply happen outside it, on uvicorn's event loop with a time limit per request
  (notifier.web.base), so a slow client stalls nobody;
- a POST (send a test, approve a version) carries the token itself and comes from this
  console (Origin / Sec-Fetch-Site), so no other site can make a browser post here;
- the lists are merged into a private scratch ledger (notifier.lists.audience: a 0600 file in
  its own 0700 folder, removed with the loaded lists) and read a page at a time; the app's
  0700 work folder is removed on every exit (`end_preview_on_signals` turns SIGTERM/SIGHUP into a
  clean stop).
"""

from __future__ import annotations

from notifier.web.preview.app import NotFound, PreviewApp
from notifier.web.preview.server import end_preview_on_signals, make_server, start_preview

__all__ = ["NotFound", "PreviewApp", "end_preview_on_signals", "make_server", "start_preview"]
