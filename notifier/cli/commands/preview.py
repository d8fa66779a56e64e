"""`notify preview`: the local web app that shows every notice before it goes out."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from notifier.cli.options import Subparsers, whole
from notifier.cli.views import status_data
from notifier.settings import config_path, load
from notifier.web.base import serve_forever
from notifier.web.preview import PreviewApp, end_preview_on_signals, make_server

__all__ = ["LOOPBACK", "preview", "register"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "preview",
        help="see every notice in the browser before it goes out",
        description="The campaign console, a local web app (127.0.0.1, token-protected): every "
        "notice, variant and language with who gets it; two versions side by side; 'Approve "
        "this version' (kept in the audit trail); a live dashboard of the send; each person's "
        "state and history; each message exactly as send builds it, lint findings, deadlines, "
        "and test sends to [preview] seeds. Reloads when templates or notify.toml change.",
    )
    p.add_argument("--port", type=whole(0, 65535), default=8025, help="port (default 8025; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; others warn)")
    p.add_argument("--open", action="store_true", help="open the browser")


def preview(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    path = config_path(args.config)
    load(path)  # a broken notify.toml is reported now, not in the browser
    if args.host not in LOOPBACK:
        sys.stderr.write(
            f"notify: WARNING: the preview listens on {args.host}: anyone who can reach it and has the URL "
            "sees breach victims' personal data. Prefer the default 127.0.0.1 (use an SSH tunnel to share).\n"
        )
    # SIGTERM/SIGHUP stop like Ctrl-C, and every path out removes the private scratch folder.
    with end_preview_on_signals():
        app = PreviewApp(path, status=status_data)  # the dashboard draws `notify status --json`
        try:
            sock, asgi = make_server(app, args.host, args.port)
            try:
                sys.stderr.write("notify: reading the lists for the preview...\n")
                app.state()  # read the lists now, not on the first page view
                url = f"http://{args.host}:{sock.getsockname()[1]}{app.link('/')}"
                out.write(f"Preview at {url}\n")
                out.write("(keep this URL private: the token in it is the only key; Ctrl-C stops)\n")
                out.flush()
                if args.open:
                    import webbrowser

                    webbrowser.open(url)
                # uvicorn ends on SIGINT/SIGTERM once the requests in flight are answered, then
                # hands the signal on (KeyboardInterrupt here, via end_preview_on_signals).
                with contextlib.suppress(KeyboardInterrupt):
                    serve_forever(asgi, sock)
                sys.stderr.write("notify: preview stopped\n")
            except KeyboardInterrupt:
                sys.stderr.write("notify: preview stopped\n")
            finally:
                sock.close()
        finally:
            app.close()
    return 0
