"""The frozen settings a run is given: built once by :func:`~notifier.settings.load`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notifier.settings.digest import DigestSettings
from notifier.settings.letters import LetterSettings
from notifier.settings.offers import Offer

__all__ = ["Dkim", "Sender", "Settings", "Throttle"]


@dataclass(frozen=True, slots=True)
class Throttle:
    rate: float = 50.0  # messages per second, whole campaign
    connections: int = 4
    per_domain: float | None = None  # default per recipient domain, messages per second
    domains: Mapping[str, float] = field(default_factory=dict)
    retry_base: float = 60.0  # first retry after about this long, doubling each time
    retry_max: float = 3600.0  # never wait longer than this between attempts
    retry_window: float = 48 * 3600.0  # give up on a temporary failure after this long
    linger: float = 900.0  # keep a run going for retries due within this long


@dataclass(frozen=True, slots=True)
class Sender:
    address: str  # the From address
    display_name: str
    reply_to: str
    bounce_domain: str
    ips: tuple[str, ...] = ()  # outbound IPs the world sees (for SPF and PTR checks)
    helo: str = ""  # the EHLO name our relay uses

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()

    @property
    def from_header(self) -> str:
        return f"{self.display_name} <{self.address}>" if self.display_name else self.address


@dataclass(frozen=True, slots=True)
class Dkim:
    domain: str
    selector: str
    key: Path
    ed25519_selector: str = ""
    ed25519_key: Path | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path
    root: Path
    campaign: str
    notice: str
    timezone: str
    templates_dir: Path
    facts: Mapping[str, Any]
    sender: Sender
    transport_url: str
    throttle: Throttle
    list_files: tuple[Path, ...]
    segments: Mapping[str, str]
    segment_lines: Mapping[str, int]
    ledger_path: Path
    ledger_url: str = ""  # postgresql://user@host/db: a ledger shared by several senders
    lease: float = 30.0  # how long a sender's claim lasts without a heartbeat (PostgreSQL)
    nameservers: tuple[str, ...] = ()
    dns_timeout: float = 5.0
    secret: bytes | None = None
    dkim: Dkim | None = None
    preview_seeds: tuple[str, ...] = ()
    soft_threshold: int = 3  # soft bounces in a row that suppress an address...
    soft_span: float = 86400.0  # ...when spread over at least this long (seconds)
    shared_suppressions: Path | None = None  # a suppression list shared across campaigns
    serve_host: str = "127.0.0.1"
    serve_port: int = 8026
    sns_topics: tuple[str, ...] = ()  # TopicArns whose SNS notifications `notify serve` accepts
    public_url: str = ""  # where `notify serve` is reachable from the internet (unsubscribe links)
    grace: float = 86400.0  # a schedule missed by more than this waits for `notify schedule confirm`
    timezones: Mapping[str, str] = field(default_factory=dict)  # country/region -> IANA zone overrides
    channels: Mapping[str, Any] = field(default_factory=dict)  # [channels]: apply, rules, org_facts, cost
    require_approval: bool = False  # [campaign]: send/run-due refuse a version nobody approved
    approvers: tuple[str, ...] = ()  # [campaign]: roles that must each approve ("" = anyone once)
    offers: Mapping[str, Offer] = field(default_factory=dict)  # [offers.NAME], in file order
    regulators: Mapping[str, str] = field(default_factory=dict)  # [regulators] facts for filings
    letters: LetterSettings = field(default_factory=LetterSettings)  # [letters]: paper, windows, batches
    language: str = ""  # [campaign] language: notices' default language ("" = each notice's own)
    digest: DigestSettings = field(default_factory=DigestSettings)  # [digest]: the incident-team digest
