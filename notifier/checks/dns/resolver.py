"""The one DNS resolver: system configuration by default, or the nameservers given in
``[dns] nameservers`` / ``NOTIFY_NAMESERVERS`` (``host`` or ``host:port``), with answers
cached for the run. Every DNS lookup notifier makes goes through :func:`make_resolver`.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.resolver

from notifier.errors import ConfigError

__all__ = ["make_resolver", "parse_nameserver"]


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5353"`` -> ("127.0.0.1", 5353); ``"[::1]:53"`` and bare hosts too."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, "53"
    try:
        return host, int(port)
    except ValueError:
        raise ConfigError(
            f"nameserver {text!r}: the port must be a number", hint='e.g. nameservers = ["127.0.0.1:5353"]'
        ) from None


def make_resolver(nameservers: Sequence[str] = (), *, timeout: float = 5.0) -> dns.resolver.Resolver:
    """A caching resolver. Raises ConfigError for a malformed nameserver entry."""
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        parsed = [parse_nameserver(n) for n in nameservers]
        ports = {p for _, p in parsed}
        resolver.nameservers = [h for h, _ in parsed]
        if len(ports) > 1:
            raise ConfigError("all nameservers must use the same port", hint="list one server per port")
        resolver.port = ports.pop()
    else:
        resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    resolver.timeout = timeout
    resolver.cache = dns.resolver.LRUCache(100_000)
    return resolver
