"""``ses://REGION[?configuration_set=NAME&endpoint_url=URL]``: Amazon SES v2 ``SendEmail``
with raw content, so our headers and DKIM signatures reach the recipient as built.

Credentials come only from the standard AWS chain (environment, profile, role). The
client is boto3's, called in worker threads: boto3 clients are thread-safe, SES rates
are tens to hundreds of messages a second, and a SendEmail call costs ~1 ms of CPU
here, so an async client (aiobotocore, which pins botocore versions) buys nothing that
is measurable at these rates — see bench/ses_rate.py.

Every SES error maps to our vocabulary in one table, :data:`ERRORS`.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from notifier.errors import TransportConfigError, TransportUnavailable
from notifier.models import Envelope, Outcome, Verdict
from notifier.transports.window import SlidingWindow

__all__ = ["Account", "ERRORS", "SesSettings", "SesTransport", "classify", "parse_ses_url"]

# error code -> (what it means, the reply code we record, what the user should do).
# "fatal" stops the whole run: the account, not the message, is the problem.
ERRORS: dict[str, tuple[str, int | None, str]] = {
    "TooManyRequestsException": ("temporary", 454, "SES throttled us; retrying with backoff"),
    "ThrottlingException": ("temporary", 454, "SES throttled us; retrying with backoff"),
    "LimitExceededException": ("temporary", 454, "an SES limit was reached; retrying with backoff"),
    "InternalFailure": ("temporary", 451, "SES had an internal error; retrying"),
    "ServiceUnavailable": ("temporary", 451, "SES is unavailable; retrying"),
    "MessageRejected": ("permanent", 554, "SES rejected this message"),
    "BadRequestException": ("permanent", 554, "SES refused the request for this message"),
    "AccountSuspendedException": ("fatal", None, "the SES account is suspended: contact AWS support"),
    "SendingPausedException": (
        "fatal",
        None,
        "sending is paused for this SES account or configuration set: "
        "resume it in the SES console (UpdateAccountSendingEnabled)",
    ),
    "AccountSendingPausedException": (
        "fatal",
        None,
        "sending is paused for this SES account: resume it in the SES console",
    ),
    "MailFromDomainNotVerifiedException": (
        "fatal",
        None,
        "the custom MAIL FROM domain is not verified: publish "
        "its MX and SPF records, or remove it in the SES console",
    ),
    "NotFoundException": (
        "fatal",
        None,
        "the configuration set does not exist: create it or fix configuration_set in the transport URL",
    ),
    "ConfigurationSetDoesNotExistException": ("fatal", None, "the configuration set does not exist"),
    "AccessDeniedException": ("fatal", None, "these AWS credentials may not send with SES (ses:SendEmail)"),
    "UnrecognizedClientException": ("fatal", None, "the AWS credentials are not valid"),
    "InvalidClientTokenId": ("fatal", None, "the AWS credentials are not valid"),
}
_SANDBOX = re.compile(r"not verified|did not have authority to send", re.I)
_TAG = re.compile(r"[^A-Za-z0-9_\-.@]")


@dataclass(frozen=True, slots=True)
class SesSettings:
    region: str
    endpoint_url: str | None
    configuration_set: str | None


@dataclass(frozen=True, slots=True)
class Account:
    max_send_rate: float
    max_24h: float
    sent_24h: float
    sending_enabled: bool
    production: bool | None  # None when the API could not tell (older endpoints)

    @property
    def remaining_24h(self) -> int:
        return max(0, int(self.max_24h - self.sent_24h))


def parse_ses_url(url: str) -> SesSettings:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise TransportConfigError(
            "AWS credentials do not belong in the URL",
            hint="use the standard AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
            "a profile (AWS_PROFILE) or an instance role",
        )
    region = parts.hostname or parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise TransportConfigError(
            f"{url!r}: {region!r} is not an AWS region",
            hint="e.g. ses://eu-west-1 or ses://us-east-1?configuration_set=notices",
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"configuration_set", "endpoint_url"}
    if unknown:
        raise TransportConfigError(
            f"{url!r}: unknown option(s) {', '.join(sorted(unknown))}",
            hint="known: configuration_set=NAME, endpoint_url=URL",
        )
    if parts.username or parts.password:
        raise TransportConfigError(
            "AWS credentials do not belong in the URL",
            hint="use the standard AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
            "a profile (AWS_PROFILE) or an instance role",
        )
    return SesSettings(region, query.get("endpoint_url"), query.get("configuration_set"))


def _tag(value: str) -> str:
    return _TAG.sub("_", value)[:256] or "_"


class SesTransport:
    throttled = True

    def __init__(
        self, settings: SesSettings, *, connections: int = 4, tags: dict[str, str] | None = None
    ) -> None:
        self.settings = settings
        self.concurrency = connections
        self.description = f"ses://{settings.region}" + (
            f" (configuration set {settings.configuration_set})" if settings.configuration_set else ""
        )
        self.tags = [{"Name": k, "Value": _tag(v)} for k, v in (tags or {}).items()]
        self.account: Account | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, connections), thread_name_prefix="notify-ses")
        self._client: Any = None
        self._v1: Any = None
        self._window: SlidingWindow | None = None

    def clients(self) -> tuple[Any, Any]:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                max_pool_connections=self.concurrency,
                connect_timeout=10,
                read_timeout=30,
            )
            session = boto3.session.Session()
            kwargs = {
                "region_name": self.settings.region,
                "endpoint_url": self.settings.endpoint_url,
                "config": config,
            }
            self._client = session.client("sesv2", **kwargs)
            # The per-second guard runs as late as possible: after botocore has built and
            # signed the request, just before it goes on the wire.
            self._client.meta.events.register("before-send.sesv2.SendEmail", self._before_send)
            self._v1 = session.client("ses", **kwargs)
        return self._client, self._v1

    def _before_send(self, **_: Any) -> None:
        if self._window is not None:
            self._window.wait()

    def read_account(self) -> Account:
        """SESv2 GetAccount; where an endpoint lacks it, v1 GetSendQuota and
        GetAccountSendingEnabled (same numbers, but no sandbox flag)."""
        from botocore.exceptions import BotoCoreError, ClientError

        client, v1 = self.clients()
        try:
            data = client.get_account()
            quota = data.get("SendQuota", {})
            return Account(
                float(quota.get("MaxSendRate", 1)),
                float(quota.get("Max24HourSend", 200)),
                float(quota.get("SentLast24Hours", 0)),
                bool(data.get("SendingEnabled", True)),
                bool(data.get("ProductionAccessEnabled", False)),
            )
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") not in (404, 501):
                raise
        except BotoCoreError:
            raise
        quota = v1.get_send_quota()
        try:
            enabled = v1.get_account_sending_enabled().get("Enabled", True)
        except Exception:
            enabled = True  # a paused account still fails loudly at its first send
        return Account(
            float(quota["MaxSendRate"]),
            float(quota["Max24HourSend"]),
            float(quota["SentLast24Hours"]),
            bool(enabled),
            None,
        )

    async def open(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            self.account = await asyncio.get_running_loop().run_in_executor(self._pool, self.read_account)
        except NoCredentialsError:
            raise TransportUnavailable(
                "no AWS credentials found",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
                "or run where an instance role is available",
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise TransportUnavailable(
                f"{self.description}: {code}: {exc}",
                hint=ERRORS.get(code, ("", None, "check the region and credentials"))[2],
            ) from None
        except BotoCoreError as exc:
            raise TransportUnavailable(
                f"cannot reach {self.description}: {exc}",
                hint="check the network and endpoint_url; nothing was sent",
            ) from None
        # SES counts its maximum send rate per second; 1.02 s leaves room for jitter between
        # dispatch and arrival (measured: 1.01 s still let 2% through at 200/s).
        self._window = SlidingWindow(int(self.account.max_send_rate), seconds=1.02)
        if not self.account.sending_enabled:
            raise TransportUnavailable(
                f"sending is disabled for the SES account in {self.settings.region}",
                hint=ERRORS["AccountSendingPausedException"][2],
            )

    def _send(self, envelope: Envelope, data: bytes) -> str:
        client, _ = self.clients()
        kwargs: dict[str, Any] = {
            "Destination": {"ToAddresses": [envelope.rcpt_to]},
            "Content": {"Raw": {"Data": data}},
        }
        if self.tags:
            kwargs["EmailTags"] = self.tags
        if self.settings.configuration_set:
            kwargs["ConfigurationSetName"] = self.settings.configuration_set
        message_id: str = client.send_email(**kwargs)["MessageId"]
        return message_id

    async def send(self, envelope: Envelope, data: bytes) -> Outcome:
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

        try:
            message_id = await asyncio.get_running_loop().run_in_executor(
                self._pool, self._send, envelope, data
            )
        except ClientError as exc:
            return classify(exc)
        except (ConnectionClosedError, ReadTimeoutError) as exc:
            # The request went out and no answer came back: SES may have queued the message,
            # so the retry is recorded as possibly duplicated (as a lost reply after SMTP DATA).
            return Outcome(
                Verdict.TEMPORARY,
                None,
                f"SES did not answer after the message was sent: {exc}",
                at=time.time(),
                possibly_delivered=True,
            )
        except BotoCoreError as exc:  # connection refused, DNS, connect timeouts: nothing was sent
            return Outcome(Verdict.TEMPORARY, None, f"cannot reach SES: {exc}", at=time.time())
        return Outcome(Verdict.ACCEPTED, 250, "accepted by SES", queue_id=message_id, at=time.time())

    async def close(self) -> None:
        self._pool.shutdown(wait=True)


def classify(exc: Any) -> Outcome:
    """One row of :data:`ERRORS` per SES error; raises TransportUnavailable for account-level ones."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", "Unknown"), error.get("Message", str(exc))
    kind, reply, what = ERRORS.get(code, ("temporary", 451, "unexpected SES error; retrying"))
    if code == "MessageRejected" and _SANDBOX.search(message):
        raise TransportUnavailable(
            f"SES refused: {message}",
            hint="the account is in the SES sandbox (only verified addresses can receive) or the From "
            "identity is not verified: verify the domain, and request production access in the SES console",
        )
    if kind == "fatal":
        raise TransportUnavailable(f"SES: {code}: {message}", hint=what)
    verdict = Verdict.TEMPORARY if kind == "temporary" else Verdict.PERMANENT
    return Outcome(verdict, reply, f"{code}: {message}", at=time.time())
