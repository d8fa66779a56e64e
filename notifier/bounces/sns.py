"""Amazon SNS message verification (reference: bounces-and-tracking.md, "Amazon SES").

A valid Amazon signature is not enough: any SNS topic in any AWS account carries one. A
message is accepted only when
- its ``Type`` is Notification, SubscriptionConfirmation or UnsubscribeConfirmation;
- its ``SigningCertURL`` is https on an SNS host of amazonaws.com (``sns.<region>.amazonaws.com``)
  and the certificate fetched from it (over verified TLS) is currently valid;
- its ``Signature`` verifies with that certificate: SignatureVersion 1 is SHA1withRSA,
  2 is SHA256withRSA, over the named fields in their fixed order;
- its ``Timestamp`` is recent (a replayed old message is refused; a redelivered recent one is
  recognised by its MessageId further on);
- its ``TopicArn`` is on the allowlist (``[serve] sns_topics``).

:class:`SnsTrust` decides which hosts may serve certificates and which CAs vouch for them.
The production value is the default; ``SnsTrust.for_tests`` is a Python-level hook for the
test suite, reachable from no configuration key, option or environment variable.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import ssl
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from notifier.errors import NotifierError

__all__ = ["SnsError", "SnsTrust", "SnsVerifier", "string_to_sign"]

_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
_CONFIRMATION = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION,
    "UnsubscribeConfirmation": _CONFIRMATION,
}
_AMAZON_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


class SnsError(NotifierError):
    """A message `notify serve` refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SnsTrust:
    host: re.Pattern[str] = _AMAZON_SNS_HOST
    context: ssl.SSLContext | None = None  # None: the system's CAs
    max_age: float = 3600.0  # seconds a message stays acceptable after its Timestamp

    @classmethod
    def for_tests(cls, ca_file: str, netloc: str) -> SnsTrust:
        """Trust certificates from one local HTTPS server whose CA is ``ca_file``. Tests only."""
        return cls(re.compile("^" + re.escape(netloc) + "$"), ssl.create_default_context(cafile=ca_file))

    def check_url(self, url: str, what: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not self.host.match(parts.netloc.lower()):
            raise SnsError(f"{what} is not an https URL on an Amazon SNS host: {parts.netloc or url[:60]}")

    def fetch(self, url: str, limit: int = 65536) -> bytes:
        context = self.context or ssl.create_default_context()
        with urllib.request.urlopen(url, context=context, timeout=10) as response:  # noqa: S310 (https checked)
            data: bytes = response.read(limit + 1)
        if len(data) > limit:
            raise SnsError(f"{url[:60]} sent more than {limit} bytes")
        return data


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The canonical text SNS signs: "Name\\nvalue\\n" for each present field, in order."""
    kind = str(message.get("Type", ""))
    out = []
    for name in _FIELDS[kind]:
        if name in message and message[name] is not None:
            out.append(f"{name}\n{message[name]}\n")
    return "".join(out).encode()


@dataclass
class SnsVerifier:
    topics: frozenset[str]
    trust: SnsTrust = field(default_factory=SnsTrust)
    clock: Callable[[], float] = field(default=lambda: dt.datetime.now(dt.UTC).timestamp())
    _certs: dict[str, x509.Certificate] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _certificate(self, url: str) -> x509.Certificate:
        with self._lock:
            cert = self._certs.get(url)
        if cert is None:
            try:
                cert = x509.load_pem_x509_certificate(self.trust.fetch(url))
            except (OSError, ValueError, ssl.SSLError) as exc:
                raise SnsError(f"cannot fetch the signing certificate: {exc}") from None
            with self._lock:
                self._certs[url] = cert
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise SnsError("the signing certificate is not valid now")
        return cert

    def verify(self, message: dict[str, Any]) -> None:
        """Raise :class:`SnsError` unless ``message`` is authentic, recent and for an allowed topic."""
        kind = message.get("Type")
        if kind not in _TYPES:
            raise SnsError(f"not an SNS message (Type {str(kind)[:40]!r})", 400)
        missing = [f for f in _FIELDS[str(kind)] if f != "Subject" and not message.get(f)]
        missing += [f for f in ("Signature", "SignatureVersion", "SigningCertURL") if not message.get(f)]
        if missing:
            raise SnsError(f"the SNS message lacks {', '.join(missing)}", 400)
        topic = str(message["TopicArn"])
        if topic not in self.topics:
            raise SnsError(f"topic {topic[:200]} is not in [serve] sns_topics")
        version = str(message["SignatureVersion"])
        if version not in ("1", "2"):
            raise SnsError(f"unknown SignatureVersion {version[:8]}")
        self.trust.check_url(str(message["SigningCertURL"]), "SigningCertURL")
        cert = self._certificate(str(message["SigningCertURL"]))
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SnsError("the signing certificate does not hold an RSA key")
        try:
            signature = base64.b64decode(str(message["Signature"]), validate=True)
            algorithm: hashes.HashAlgorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
        except (InvalidSignature, ValueError):
            raise SnsError("the SNS signature does not verify") from None
        try:
            sent = dt.datetime.fromisoformat(str(message["Timestamp"]).replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise SnsError("the SNS Timestamp is not a date", 400) from None
        age = self.clock() - sent
        if age > self.trust.max_age or age < -300:
            raise SnsError(f"the message is {int(age)} s old: refused as a replay")

    def confirm(self, message: dict[str, Any]) -> None:
        """Confirm a subscription (already verified) by visiting its SubscribeURL."""
        url = str(message["SubscribeURL"])
        self.trust.check_url(url, "SubscribeURL")
        try:
            self.trust.fetch(url)
        except (OSError, ssl.SSLError) as exc:
            raise SnsError(f"confirming the subscription failed: {exc}", 502) from None
