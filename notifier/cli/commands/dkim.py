"""`notify dkim keygen`: a signing key and the DNS record to publish."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from notifier.cli.options import Subparsers
from notifier.errors import UsageError
from notifier.render.signing import generate_key, public_txt

__all__ = ["keygen", "register"]


def register(sub: Subparsers) -> None:
    dkim = sub.add_parser("dkim", help="DKIM keys")
    dkim_sub = dkim.add_subparsers(dest="dkim_command", metavar="ACTION", required=True)
    p = dkim_sub.add_parser(
        "keygen",
        help="make a signing key and print the DNS record to publish",
        description="Write a new private key (mode 0600) and print the TXT record to "
        "publish and the [dkim] table for notify.toml.",
    )
    p.add_argument("--domain", required=True, help="the signing domain (d=), normally the From domain")
    p.add_argument("--selector", required=True, help="the selector (s=), e.g. s2026")
    p.add_argument("--type", choices=("rsa", "ed25519"), default="rsa", help="key type (default rsa)")
    p.add_argument(
        "--bits", type=int, choices=(2048, 3072, 4096), default=2048, help="RSA key size (default 2048)"
    )
    p.add_argument("--out", type=Path, help="where to write the key (default dkim-SELECTOR.pem)")


def keygen(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    target = args.out or Path(f"dkim-{args.selector}.pem")
    if target.exists():
        raise UsageError(f"{target} already exists; refusing to overwrite a key", hint="choose another --out")
    key = generate_key(target, kind=args.type, bits=args.bits)
    name = f"{args.selector}._domainkey.{args.domain.lower()}"
    txt = public_txt(key)
    chunks = " ".join(f'"{txt[i : i + 250]}"' for i in range(0, len(txt), 250))
    out.write(f"Wrote the private key to {target} (mode 0600). Keep it secret; never commit it.\n\n")
    out.write(f"Publish this DNS record:\n\n  {name}. IN TXT {chunks}\n\n")
    selector_key = "ed25519_selector" if args.type == "ed25519" else "selector"
    key_key = "ed25519_key" if args.type == "ed25519" else "key"
    out.write(
        f'Then add to notify.toml:\n\n  [dkim]\n  domain = "{args.domain.lower()}"\n'
        f'  {selector_key} = "{args.selector}"\n  {key_key} = "{target}"\n\n'
        "and run `notify check` once the record is visible in DNS.\n"
    )
    return 0
