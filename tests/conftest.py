from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from notifier.campaign import CONFIG_TEMPLATE, builtin_templates
from notifier.cli import app as cli

from .authzone import Keys, zone
from .dnsserver import DnsServer
from .imapserver import DOVECOT, PASSWORD, Dovecot
from .sesproxy import Ses
from .smtpsink import Sink


def _print_tools_missing() -> str:
    """Why letters cannot be printed and read back on this machine ("" when they can): WeasyPrint
    needs Debian's Pango, and the tests read the PDFs with poppler's pdftotext (.ci/run installs both)."""
    if shutil.which("pdftotext") is None:
        return "poppler-utils' pdftotext is not installed (.ci/run installs it)"
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:
        return f"WeasyPrint cannot load Pango ({exc}); .ci/run installs libpango-1.0-0 and libpangoft2-1.0-0"
    return ""


PRINT_TOOLS_MISSING = _print_tools_missing()
needs_print_tools = pytest.mark.skipif(bool(PRINT_TOOLS_MISSING), reason=PRINT_TOOLS_MISSING or "-")

COMMANDS = [
    "init",
    "lists check",
    "send",
    "check",
    "check spf",
    "dkim keygen",
    "preview",
    "lint",
    "deadlines",
    "regulators",
    "regulators draft",
    "offers",
    "offers import",
    "offers report",
    "digest",
    "status",
    "report",
    "suppress add",
    "suppress list",
    "bounces parse",
    "bounces ingest",
    "serve",
    "schedule",
    "schedule list",
    "schedule cancel",
    "schedule confirm",
    "run-due",
    "worker",
    "audit verify",
    "audit export",
    "channels",
    "channels log",
    "letters build",
    "letters returned",
    "substitute",
    "substitute posted",
]


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Campaign:
    """A campaign folder in tmp_path, driven through the real CLI in-process."""

    root: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def config(self) -> Path:
        return self.root / "notify.toml"

    def write_list(self, text: str, name: str = "subscribers.csv") -> Path:
        path = self.root / "lists" / name
        path.write_text(text, encoding="utf-8")
        return path

    def edit_config(self, old: str, new: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        assert old in text, old
        self.config.write_text(text.replace(old, new, 1), encoding="utf-8")

    def fill_follow_up_facts(self, *, public_url: bool = True) -> None:
        """Give the built-in follow-ups what they need to be ready to send: the [changes] and
        [investigation] facts and, unless told otherwise, [serve] public_url."""
        self.config.write_text(
            self.config.read_text(encoding="utf-8")
            + ('\n[serve]\npublic_url = "https://notify.example.com"\n' if public_url else "")
            + '\n[changes]\ncredentials_reset = "We reset every password to the email platform."\n'
            + '\n[investigation]\nfindings = ["The attacker used one stolen staff password."]\n',
            encoding="utf-8",
        )

    def set_nameserver(self, nameserver: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        text = re.sub(r"^nameservers = .*$", f'nameservers = ["{nameserver}"]', text, flags=re.M)
        self.config.write_text(text, encoding="utf-8")

    def notify(self, *args: str, stdin: str = "") -> Result:
        self.capsys.readouterr()
        out = io.StringIO()
        code = cli.run(["--config", str(self.config), *args], stdin=io.StringIO(stdin), out=out)
        captured = self.capsys.readouterr()
        return Result(code, out.getvalue() + captured.out, captured.err)

    def spawn(self, *args: str, stderr: int = subprocess.PIPE) -> subprocess.Popen[str]:
        """`notify ARGS` as a separate process (a sender, a worker, the server) for this campaign."""
        return subprocess.Popen(
            [sys.executable, "-m", "notifier", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=dict(os.environ, NOTIFY_CONFIG=str(self.config)),
            cwd=self.root,
        )

    def outbox(self) -> list[Path]:
        return sorted((self.root / "outbox" / "new").glob("*.eml"))


SMALL_LIST = """id,email,first_name,last_name,country,region,exposed
R1,ana@example.com,Ana,Lopez,ES,,email;name
R2,ben@example.org,Ben,Okafor,US,US-CA,email;password_hash
R3,chloe@example.net,Chloé,Dubois,FR,,email;name;postal_address
R4,dan@example.com,Dan,Kim,US,US-NY,
"""


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def auth_dns(keys: Keys) -> Iterator[DnsServer]:
    """A DNS server on 127.0.0.1 with example.com set up right (SPF, DKIM, DMARC, PTR for
    127.0.0.1) and one broken domain per authentication failure."""
    server = DnsServer(zone(keys)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def campaign(tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: Keys, auth_dns: DnsServer) -> Campaign:
    root = tmp_path / "campaign"
    root.mkdir()
    shutil.copytree(builtin_templates(), root / "templates")
    (root / "lists").mkdir()
    config = CONFIG_TEMPLATE.format(name="test", templates="templates", list="lists/subscribers.csv")
    config = config.replace('retry_base = "60s"', 'retry_base = "0.05s"').replace(
        'rate = "50/s"', 'rate = "2000/s"'
    )
    config = config.replace("# notice_date = 2026-11-21", "notice_date = 2026-11-21")
    # Sign-off is tested on its own (tests/test_approvals.py, tests/test_console.py); the other
    # tests send unapproved versions to their servers.
    config = config.replace("require_approval = true", "require_approval = false")
    shutil.copy(keys.main, root / "dkim.pem")
    (root / "dkim.pem").chmod(0o600)
    config += (
        f'\n[dns]\nnameservers = ["{auth_dns.nameserver}"]\ntimeout = 1\n'
        '\n[dkim]\ndomain = "example.com"\nselector = "s1"\nkey = "dkim.pem"\n'
        # Most tests are about the email path; the channel tests (tests/test_channels*.py) turn
        # the per-person channel rules back on, as every real campaign has them.
        "\n[channels]\napply = false\n"
    )
    (root / "notify.toml").write_text(config, encoding="utf-8")
    c = Campaign(root, capsys)
    c.write_list(SMALL_LIST)
    return c


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink().start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def tls_sink(tmp_path: Path) -> Iterator[Sink]:
    """The same SMTP server, offering STARTTLS with a certificate the URL's cafile trusts."""
    s = Sink(tls_folder=tmp_path).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def ses_server() -> Iterator[Ses]:
    """moto's SES on 127.0.0.1 behind a fault-injecting proxy."""
    server = Ses().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ses(ses_server: Ses, monkeypatch: pytest.MonkeyPatch) -> Ses:
    """A fresh SES account: the From domain verified, credentials in the environment."""
    ses_server.reset()
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    ses_server.verify("example.com")
    return ses_server


@pytest.fixture
def imap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dovecot]:
    """A real Dovecot IMAP server over TLS on 127.0.0.1, for bounce ingest."""
    if not Path(DOVECOT).exists():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does)")
    (tmp_path / "imap").mkdir()
    server = Dovecot(tmp_path / "imap").start()
    monkeypatch.setenv("NOTIFY_IMAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca.ca_file))
    try:
        yield server
    finally:
        server.stop()
