"""DKIM signatures per second on one core: notifier's Signer vs dkimpy's sign(), same
message, same RSA-2048 key, same run (issue target: >= 2,000/s).

    python bench/signing.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import dkim

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.campaign import builtin_templates
from notifier.ledger import Claimed
from notifier.models import Recipient
from notifier.pipeline.build import MessageFactory
from notifier.pipeline.campaign import notice_context
from notifier.render.notice import load_notice
from notifier.render.signing import Signer, generate_key, load_key
from notifier.settings import load
from notifier.tokens import Tokens

ROOT = Path(__file__).resolve().parent.parent


def factory_and_claim(*, signed: bool = False) -> tuple[MessageFactory, Claimed]:
    """The example campaign's factory (with a fresh RSA-2048 key when ``signed``) and one row."""
    settings = load(ROOT / "examples" / "breach-2026" / "notify.toml")
    notice = load_notice(builtin_templates(), "breach-notice", notice_context(settings, "breach-notice"))
    signer = None
    if signed:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "k.pem"
            generate_key(path)
            signer = Signer([load_key(path, domain="example.com", selector="s1")])
    factory = MessageFactory(notice, settings.sender, Tokens(b"k" * 32), signer=signer)
    fields = {
        "first_name": "Ana",
        "last_name": "Lopez",
        "country": "US",
        "region": "US-CA",
        "exposed": ["email", "name", "password_hash"],
    }
    who = Recipient("ana.lopez@example.com", "ana.lopez@example.com", "bench", 2, fields)
    return factory, Claimed(1, who, 0, None, False)


def typical_notice(*, signed: bool = False) -> bytes:
    """One finished message of the example campaign (about 11 KB signed)."""
    factory, claimed = factory_and_claim(signed=signed)
    return factory.prepare(claimed).data


def rate(fn: object, seconds: float) -> tuple[float, int]:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()  # type: ignore[operator]
        n += 1
    return n / (time.perf_counter() - start), n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    message = typical_notice()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "k.pem"
        generate_key(path)
        key = load_key(path, domain="example.com", selector="s1")
        pem = path.read_bytes()
    signer = Signer([key])
    headers = [b"from", b"to", b"subject", b"date", b"message-id"]
    baseline, n0 = rate(
        lambda: dkim.sign(message, b"s1", b"example.com", pem, include_headers=headers), args.seconds
    )
    ours, n1 = rate(lambda: signer.sign(message), args.seconds)
    print(f"message: {len(message)} octets, RSA-2048, relaxed/relaxed, one core")
    print(f"dkimpy sign():    {baseline:8.0f} signatures/s ({n0} in {args.seconds:.0f} s)")
    print(f"notifier Signer:  {ours:8.0f} signatures/s ({n1} in {args.seconds:.0f} s)")
    print(f"ratio:            {ours / baseline:8.1f}x dkimpy")


if __name__ == "__main__":
    main()
