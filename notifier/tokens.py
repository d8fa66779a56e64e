"""Opaque, unforgeable identifiers: VERP return paths and stable Message-IDs.

A VERP address ``bounces+TOKEN@bounce-domain`` carries the ledger's message row id
and a keyed HMAC over it, base32-encoded in lower case (some MTAs fold local-part
case). Only a holder of the campaign key can make a token that parses; the row id
leads back to (notice, recipient) in the ledger, and nothing in the token is personal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

__all__ = ["Tokens"]

_MAC_BYTES = 10  # 80 bits: forging one by guessing is out of reach


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _unb32(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    return base64.b32decode(padded)


class Tokens:
    """Makes and checks tokens under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("token key must be at least 16 bytes")
        # The key's inner and outer pads hashed once (hmac.copy() reuses them): a message makes
        # three MACs, and keying HMAC afresh each time was a third of their cost (issue 15).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        self._pad = int.from_bytes(self._digest(b"verp-pad")[:8], "big")

    def _digest(self, data: bytes) -> bytes:
        h = self._keyed.copy()
        h.update(data)
        return h.digest()

    def _mac(self, purpose: bytes, payload: bytes) -> bytes:
        return self._digest(purpose + b"\x00" + payload)[:_MAC_BYTES]

    def _token(self, purpose: bytes, message_row: int) -> str:
        # The row id is masked with a keyed pad so tokens look random and reveal no counts.
        payload = struct.pack(">Q", message_row ^ self._pad)
        return _b32(payload + self._mac(purpose, payload))

    def _parse(self, purpose: bytes, token: str) -> int | None:
        try:
            raw = _unb32(token)
        except (ValueError, TypeError):
            return None
        if len(raw) != 8 + _MAC_BYTES or _b32(raw) != token.lower():
            return None  # only the canonical spelling: the last character has a spare bit
        payload, mac = raw[:8], raw[8:]
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        row: int = struct.unpack(">Q", payload)[0] ^ self._pad
        return row

    def verp_token(self, message_row: int) -> str:
        return self._token(b"verp", message_row)

    def parse_verp_token(self, token: str) -> int | None:
        """The message row id inside a token, or None when it is malformed or forged."""
        return self._parse(b"verp", token)

    def unsubscribe_token(self, message_row: int) -> str:
        """For one-click unsubscribe links: a different purpose, so a VERP token found in a
        bounce cannot be replayed as an unsubscribe, nor the other way round."""
        return self._token(b"unsubscribe", message_row)

    def parse_unsubscribe_token(self, token: str) -> int | None:
        return self._parse(b"unsubscribe", token)

    def return_path(self, message_row: int, bounce_domain: str) -> str:
        return f"bounces+{self.verp_token(message_row)}@{bounce_domain}"

    def parse_return_path(self, address: str) -> int | None:
        local, _, _domain = address.strip("<>").rpartition("@")
        prefix, plus, token = local.partition("+")
        if not plus or prefix.lower() != "bounces":
            return None
        return self.parse_verp_token(token)

    def message_id(self, notice: str, recipient_key: str, domain: str) -> str:
        """Stable per (notice, recipient): a retry carries the same Message-ID."""
        digest = self._mac(b"message-id", f"{notice}\x00{recipient_key}".encode())
        return f"<{_b32(digest)}.{notice}@{domain}>"
