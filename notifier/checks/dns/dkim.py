"""DKIM checks DKIM-1..DKIM-7 (reference: sender-authentication.md §B)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

import dkim as dkimpy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from notifier.checks.dns.lookup import DnsUnavailable, Lookup
from notifier.checks.report import Finding, Status
from notifier.render.signing import DkimKey, Signer, public_txt, split_message

__all__ = ["check_key", "check_signed", "parse_tags"]

AREA = "Sender authentication"


def parse_tags(record: str) -> dict[str, str]:
    """tag=value; pairs of a DKIM key record (RFC 6376 §3.2). Raises ValueError on duplicates."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"{part.strip()!r} is not tag=value")
        name = name.strip()
        if name in tags:
            raise ValueError(f"tag {name} appears twice")
        tags[name] = "".join(value.split())
    return tags


def _published_key(p: str, k: str) -> rsa.RSAPublicKey | ed25519.Ed25519PublicKey:
    raw = base64.b64decode(p, validate=True)
    if k == "ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    key = serialization.load_der_public_key(raw)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("p= is not an RSA public key")
    return key


def check_key(lookup: Lookup, key: DkimKey) -> Iterator[Finding]:
    """DKIM-1..DKIM-4 for one selector: the record exists once, parses, is big enough and
    matches our private key."""
    name = f"{key.selector}._domainkey.{key.domain}"
    publish = f'{name}. IN TXT "{public_txt(key.key)}"'
    try:
        records = [r for r in lookup.txt(name).records]
    except DnsUnavailable as exc:
        yield Finding(
            "DKIM-1",
            AREA,
            Status.WARN,
            f"could not verify {name}: {exc.reason}",
            "check the DNS servers, then run `notify check` again",
        )
        return
    keys = [r for r in records if "p=" in r]
    if not keys:
        yield Finding("DKIM-1", AREA, Status.FAIL, f"no DKIM key published at {name}", f"publish: {publish}")
        return
    if len(keys) > 1:
        yield Finding(
            "DKIM-1",
            AREA,
            Status.FAIL,
            f"{len(keys)} TXT records at {name}; verifiers pick one at random",
            f"keep exactly one: {publish}",
        )
        return
    yield Finding("DKIM-1", AREA, Status.PASS, f"one key record at {name}")
    try:
        tags = parse_tags(keys[0])
    except ValueError as exc:
        yield Finding("DKIM-2", AREA, Status.FAIL, f"{name}: {exc}", f"publish: {publish}")
        return
    problems = []
    if "v" in tags and tags["v"] != "DKIM1":
        problems.append(f"v={tags['v']} (must be DKIM1)")
    k = tags.get("k", "rsa")
    if k not in ("rsa", "ed25519"):
        problems.append(f"unknown key type k={k}")
    if not tags.get("p"):
        problems.append("p= is empty: the key is revoked")
    if tags.get("s", "*") not in ("*", "email") and "email" not in tags.get("s", "").split(":"):
        problems.append(f"s={tags['s']} does not allow email")
    if "h" in tags and "sha256" not in tags["h"].split(":"):
        problems.append(f"h={tags['h']} does not allow sha256")
    published = None
    if not problems:
        try:
            published = _published_key(tags["p"], k)
        except (ValueError, binascii.Error) as exc:
            problems.append(f"p= is not a valid {k} key ({exc})")
    if problems or published is None:
        yield Finding("DKIM-2", AREA, Status.FAIL, f"{name}: " + "; ".join(problems), f"publish: {publish}")
        return
    flags = tags.get("t", "").split(":")
    if "y" in flags:
        yield Finding(
            "DKIM-2",
            AREA,
            Status.WARN,
            f"{name} has t=y (testing): receivers may ignore it",
            "remove t=y once signatures verify",
        )
    else:
        yield Finding("DKIM-2", AREA, Status.PASS, f"{name}: k={k}, tags valid")
    if isinstance(published, rsa.RSAPublicKey):
        bits = published.key_size
        if bits < 1024:
            yield Finding(
                "DKIM-3",
                AREA,
                Status.FAIL,
                f"{bits}-bit RSA key: Gmail and Yahoo require 1024+",
                "make a 2048-bit key: notify dkim keygen --domain D --selector NEW",
            )
        elif bits < 2048:
            yield Finding(
                "DKIM-3",
                AREA,
                Status.WARN,
                f"{bits}-bit RSA key: 2048 is recommended (Google)",
                "rotate to a 2048-bit key: notify dkim keygen --domain D --selector NEW",
            )
        else:
            yield Finding("DKIM-3", AREA, Status.PASS, f"{bits}-bit RSA key")
    mine = key.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = published.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if mine != theirs:
        yield Finding(
            "DKIM-4",
            AREA,
            Status.FAIL,
            f"the key published at {name} is not the public half of our private key",
            f"publish the matching key: {publish}",
        )
    else:
        yield Finding("DKIM-4", AREA, Status.PASS, "the published key matches the private key")


def check_signed(lookup: Lookup, signer: Signer, message: bytes) -> Iterator[Finding]:
    """DKIM-5 (canary: sign a real message, verify each signature against live DNS with
    dkimpy) and DKIM-6 (what the signature covers)."""
    signed = signer.sign(message)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            records = lookup.txt(name.decode().rstrip(".")).records
        except DnsUnavailable:
            return None
        return records[0].encode() if records else None

    for index, key in enumerate(reversed(signer.keys)):
        check_id = "DKIM-7" if key.algorithm == b"ed25519-sha256" else "DKIM-5"
        verifier = dkimpy.DKIM(signed, minkey=1024)
        try:
            ok = verifier.verify(idx=index, dnsfunc=dnsfunc)
        except dkimpy.DKIMException as exc:
            ok, why = False, str(exc)
        else:
            why = "signature does not verify"
        label = f"{key.algorithm.decode()} signature (d={key.domain}, s={key.selector})"
        if ok:
            yield Finding(
                check_id, AREA, Status.PASS, f"a real notice signed and verified against DNS: {label}"
            )
        else:
            yield Finding(
                check_id,
                AREA,
                Status.FAIL,
                f"canary {label} failed: {why}",
                "publish the key shown by DKIM-1/DKIM-4, wait for DNS, run `notify check` again",
            )
    headers, _ = split_message(message)
    covered = signer.headers_to_sign(headers)
    missing = []
    if covered.count(b"from") < 2:
        missing.append("From is not oversigned")
    present = {n.strip().lower() for n, _ in headers}
    for name in (b"list-unsubscribe", b"list-unsubscribe-post"):
        if name in present and name not in covered:
            missing.append(f"{name.decode()} is present but not signed")
    if missing:
        yield Finding("DKIM-6", AREA, Status.FAIL, "; ".join(missing))
    else:
        yield Finding(
            "DKIM-6",
            AREA,
            Status.PASS,
            "signed: " + ":".join(h.decode() for h in covered) + " (From oversigned, no l=)",
        )
