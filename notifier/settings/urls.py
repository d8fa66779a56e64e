"""URL checks: ports, numeric options and control characters that would reach a header or command."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

from notifier.errors import ConfigError
from notifier.settings.bounds import CONTROL

__all__ = ["check_url", "redact_url"]


def check_url(url: str, *, what: str, path: str = "", line: int | None = None, key: str = "") -> str:
    """``url`` when its port and numeric options are in range and it holds no control
    characters (also percent-encoded ones in options that reach an SMTP command).

    ``what`` names it in the error: "[transport] url" or "--transport". Raises ConfigError.
    """

    def bad(problem: str, hint: str = "") -> ConfigError:
        return ConfigError(f"{what} {redact_url(url)!r}: {problem}", path=path, line=line, key=key, hint=hint)

    if CONTROL.search(url):
        raise bad("contains a line break or another control character", "write the URL on one plain line")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "postgresql", "postgres") or not parts.netloc:
        return url
    try:
        parts.port  # noqa: B018 -- urllib checks the range when asked
    except ValueError:
        raise bad(
            f"port {parts.netloc.rpartition(':')[2]!r} is not a port number from 1 to 65535",
            "use a port from 1 to 65535, e.g. :587 (STARTTLS) or :465 (TLS)",
        ) from None
    if parts.port == 0:
        raise bad("port 0 is not a port a server listens on", "use a port from 1 to 65535, e.g. :587")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if any(CONTROL.search(v) for v in query.values()):
        raise bad("an option holds an encoded line break or control character")
    if parts.scheme == "smtp" and "timeout" in query:
        try:
            timeout = float(query["timeout"])
        except ValueError:
            timeout = math.nan
        if not (math.isfinite(timeout) and 0 < timeout <= 3600):
            raise bad(f"timeout={query['timeout']} must be a number of seconds above 0 and at most 3600")
    return url


def redact_url(url: str) -> str:
    """The URL without any password (it should not be there; it must not be echoed either)."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)
