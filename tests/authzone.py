"""Zone data for sender-authentication tests: one well-configured domain (example.com,
which every test campaign sends from) and one broken domain per failure we check for."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from notifier.render.signing import generate_key, public_txt


def txt(value: str) -> str:
    """A TXT rdata, split into 250-octet strings as DNS requires."""
    return " ".join(f'"{value[i : i + 250]}"' for i in range(0, len(value), 250))


class Keys:
    """The private keys tests sign with, made once per test session."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.main = self._make("main.pem")
        self.other = self._make("other.pem")  # published where the main key should be
        self.small = self._make("small.pem", bits=1024)
        self.ed25519 = self._make("ed25519.pem", kind="ed25519")

    def _make(self, name: str, *, kind: str = "rsa", bits: int = 2048) -> Path:
        path = self.folder / name
        if not path.exists():
            generate_key(path, kind=kind, bits=bits)
        return path

    def public(self, path: Path) -> str:
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(path.read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey) or key.__class__.__name__.startswith("Ed25519")
        return public_txt(key)  # type: ignore[arg-type]


def zone(keys: Keys) -> str:
    main, other, small, ed = (keys.public(p) for p in (keys.main, keys.other, keys.small, keys.ed25519))
    good_spf = txt("v=spf1 ip4:127.0.0.1 -all")
    many = "v=spf1 " + " ".join(f"a:h{i}.many.example" for i in range(11)) + " -all"
    voids = "v=spf1 a:v1.voids.example a:v2.voids.example a:v3.voids.example -all"
    lines = [
        # The well-configured sender: SPF, DKIM (RSA and Ed25519), DMARC, PTR.
        f"example.com. 300 IN TXT {good_spf}",
        "example.com. 300 IN MX 10 mx.example.com.",
        "mx.example.com. 300 IN A 127.0.0.1",
        f"bounces.example.com. 300 IN TXT {good_spf}",
        "bounces.example.com. 300 IN MX 10 mx.example.com.",
        f"_dmarc.example.com. 300 IN TXT {txt('v=DMARC1; p=reject; rua=mailto:dmarc@example.com')}",
        f"s1._domainkey.example.com. 300 IN TXT {txt(main)}",
        f"e1._domainkey.example.com. 300 IN TXT {txt(ed)}",
        "1.0.0.127.in-addr.arpa. 300 IN PTR mta.example.com.",
        "mta.example.com. 300 IN A 127.0.0.1",
        # Broken senders, each wrong in one way (and fine otherwise where it matters).
        'nospf.example. 300 IN TXT "google-site-verification=x"',
        f"twospf.example. 300 IN TXT {good_spf}",
        f"twospf.example. 300 IN TXT {txt('v=spf1 ip4:192.0.2.1 -all')}",
        f"plusall.example. 300 IN TXT {txt('v=spf1 +all')}",
        f"many.example. 300 IN TXT {txt(many)}",
        *[f"h{i}.many.example. 300 IN A 192.0.2.{i + 1}" for i in range(11)],
        f"voids.example. 300 IN TXT {txt(voids)}",
        f"incnone.example. 300 IN TXT {txt('v=spf1 include:nospf.example -all')}",
        f"_dmarc.nodkim.example. 300 IN TXT {txt('v=DMARC1; p=reject')}",
        f"wrongkey.example. 300 IN TXT {good_spf}",
        f"s1._domainkey.wrongkey.example. 300 IN TXT {txt(other)}",
        f"smallkey.example. 300 IN TXT {good_spf}",
        f"s1._domainkey.smallkey.example. 300 IN TXT {txt(small)}",
        f"nodmarc.example. 300 IN TXT {good_spf}",
        f"nop.example. 300 IN TXT {good_spf}",
        f"_dmarc.nop.example. 300 IN TXT {txt('v=DMARC1; rua=mailto:d@nop.example')}",
        f"twodmarc.example. 300 IN TXT {good_spf}",
        f"_dmarc.twodmarc.example. 300 IN TXT {txt('v=DMARC1; p=reject')}",
        f"_dmarc.twodmarc.example. 300 IN TXT {txt('v=DMARC1; p=none')}",
        f"unaligned.example. 300 IN TXT {good_spf}",
        f"_dmarc.unaligned.example. 300 IN TXT {txt('v=DMARC1; p=reject')}",
    ]
    return "\n".join(lines) + "\n"
