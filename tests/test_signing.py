"""DKIM signing: every delivered message verifies with dkimpy and OpenDKIM against the
DNS server, fast canonicalisation equals dkimpy's, keys are made safely."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import dkim
import pytest
from dkim.canonicalization import Relaxed
from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.checks.dns.lookup import Lookup
from notifier.checks.dns.resolver import make_resolver
from notifier.render.signing import Signer, canonicalize_body, canonicalize_headers, load_key, public_txt

from .authzone import Keys, zone
from .conftest import Campaign
from .dnsserver import DnsServer
from .smtpsink import Sink


def dnsfunc_for(server: DnsServer):  # type: ignore[no-untyped-def]
    lookup = Lookup(make_resolver([server.nameserver], timeout=1))

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        records = lookup.txt(name.decode().rstrip(".")).records
        return records[0].encode() if records else None

    return dnsfunc


def test_every_delivered_message_verifies_with_dkimpy(
    campaign: Campaign, sink: Sink, auth_dns: DnsServer
) -> None:
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    assert len(sink.received) == 3
    for received in sink.received:
        assert received.data.startswith(
            b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com"
        )
        assert dkim.verify(received.data, dnsfunc=dnsfunc_for(auth_dns))


def test_a_changed_message_no_longer_verifies(campaign: Campaign, sink: Sink, auth_dns: DnsServer) -> None:
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    data = sink.received[0].data
    assert not dkim.verify(data.replace(b"Dear ", b"Dear  Mr "), dnsfunc=dnsfunc_for(auth_dns))
    assert not dkim.verify(b"From: evil@example.org\r\n" + data, dnsfunc=dnsfunc_for(auth_dns))  # oversigned


def _port_53_free() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", 53))
        except OSError:
            return False
    return True


OPENDKIM = shutil.which("opendkim-testmsg") or "/usr/sbin/opendkim-testmsg"


@pytest.mark.skipif(
    not Path(OPENDKIM).exists(), reason="opendkim-tools is not installed (.ci/run installs it)"
)
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs root and unshare to point OpenDKIM's resolver at the test DNS server",
)
def test_delivered_messages_verify_with_opendkim(
    campaign: Campaign, sink: Sink, keys: Keys, tmp_path: Path
) -> None:
    """An independent implementation (libopendkim) verifies our signatures. It only asks the
    system resolver on port 53, so the test runs it in a private mount namespace whose
    /etc/resolv.conf points at a DNS server on 127.0.0.1:53."""
    if not _port_53_free():
        pytest.skip("127.0.0.1:53 is in use")
    campaign.notify("send", "--segment", "affected", "--transport", sink.url, "--yes")
    dns53 = DnsServer(zone(keys), port=53).start()
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    script = f"mount --bind {resolv} /etc/resolv.conf && {OPENDKIM}"
    try:
        for received in sink.received:
            ok = subprocess.run(
                ["unshare", "-m", "sh", "-c", script],
                input=received.data,
                capture_output=True,
                timeout=30,
                check=False,
            )
            assert ok.returncode == 0, ok.stderr
            tampered = received.data.replace(b"Dear ", b"Dear  X")
            bad = subprocess.run(
                ["unshare", "-m", "sh", "-c", script],
                input=tampered,
                capture_output=True,
                timeout=30,
                check=False,
            )
            assert bad.returncode != 0
    finally:
        dns53.stop()


def test_a_second_ed25519_signature_verifies_too(keys: Keys, auth_dns: DnsServer) -> None:
    rsa_key = load_key(keys.main, domain="example.com", selector="s1")
    ed_key = load_key(keys.ed25519, domain="example.com", selector="e1")
    message = (
        b"From: Sec <security@example.com>\r\nTo: a@example.org\r\nSubject: hi\r\n"
        b"Date: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <x@example.com>\r\n\r\nHello\r\n"
    )
    signed = Signer([rsa_key, ed_key]).sign(message)
    assert signed.count(b"DKIM-Signature:") == 2
    for idx in (0, 1):
        verifier = dkim.DKIM(signed)
        assert verifier.verify(idx=idx, dnsfunc=dnsfunc_for(auth_dns))
    assert b"a=ed25519-sha256" in signed.split(b"DKIM-Signature:")[1]


def test_signature_covers_list_unsubscribe_when_present(keys: Keys) -> None:
    """RFC 8058: both unsubscribe headers must be in h=."""
    key = load_key(keys.main, domain="example.com", selector="s1")
    message = (
        b"From: a@example.com\r\nList-Unsubscribe: <https://example.com/u/x>\r\n"
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nbody\r\n"
    )
    head = Signer([key]).sign(message).split(b"\r\n\r\n")[0]
    h = head.split(b"h=")[1].split(b";")[0]
    assert h == b"from:from:list-unsubscribe:list-unsubscribe-post"
    assert b"l=" not in head.split(b"bh=")[0] and b"rsa-sha1" not in head


@settings(max_examples=500)
@given(st.binary(max_size=60).map(lambda b: bytes(b"a \t\r\n\x0bb"[x % 7] for x in b)))
def test_fast_body_canonicalisation_equals_dkimpys(body: bytes) -> None:
    assert canonicalize_body(body) == Relaxed.canonicalize_body(body)
    crlf = body.replace(b"\r", b"").replace(b"\n", b"\r\n")
    assert canonicalize_body(crlf) == Relaxed.canonicalize_body(crlf)


@settings(max_examples=500)
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=1, max_size=12).map(lambda b: bytes(b"Ab- \t"[x % 5] for x in b)),
            st.binary(max_size=40).map(lambda b: bytes(b"a \t\r\n\x0bb"[x % 7] for x in b)),
        ),
        max_size=4,
    )
)
def test_fast_header_canonicalisation_equals_dkimpys(headers: list[tuple[bytes, bytes]]) -> None:
    """Our relaxed header canonicalisation gives dkimpy's bytes for any header names and values."""
    assert canonicalize_headers(headers) == Relaxed.canonicalize_headers(headers)


def test_keygen_writes_a_private_key_and_prints_the_record(campaign: Campaign) -> None:
    target = campaign.root / "new.pem"
    result = campaign.notify(
        "dkim", "keygen", "--domain", "Example.com", "--selector", "s2027", "--out", str(target)
    )
    assert result.code == 0
    assert target.stat().st_mode & 0o777 == 0o600
    key = load_key(target, domain="example.com", selector="s2027")
    record = result.out.split("s2027._domainkey.example.com. IN TXT ")[1].splitlines()[0]
    joined = "".join(part.strip('"') for part in record.split('" "'))
    assert joined == public_txt(key.key)
    assert 'selector = "s2027"' in result.out
    again = campaign.notify(
        "dkim", "keygen", "--domain", "example.com", "--selector", "s2027", "--out", str(target)
    )
    assert again.code == 2 and "refusing to overwrite" in again.err


def test_a_key_readable_by_others_is_refused(keys: Keys, tmp_path: Path) -> None:
    loose = tmp_path / "loose.pem"
    shutil.copy(keys.main, loose)
    loose.chmod(0o644)
    from notifier.errors import ConfigError

    with pytest.raises(ConfigError, match="can be read by other users"):
        load_key(loose, domain="example.com", selector="s1")


def test_signer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        Signer([])
