"""Notice channels in the ledger: one decision per (notice, recipient), and New York's log of
every electronic notice (GBL 899-aa(5)(b)) kept from the append-only attempts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

from notifier.ledger.base import (
    NOT_EMAILED,
    ChannelCount,
    ChannelRow,
    LoggedNotice,
    ReportRow,
    StoredChannel,
    map_errors,
)
from notifier.ledger.sqlite.core import LedgerCore, _driver_error

__all__ = ["ChannelsMixin"]


class ChannelsMixin(LedgerCore):
    """Channel decisions and the notice log."""

    def record_channels(self, notice: str, rows: Iterable[ChannelRow]) -> int:
        """Record (or replace) the decision for each recipient (by dedupe key); returns how many."""
        now = time.time()
        params = [
            (
                notice,
                r.channel,
                r.rule,
                r.reason,
                r.jurisdiction,
                int(r.log_required),
                r.rules_version,
                now,
                r.key,
            )
            for r in rows
        ]
        if params:
            with self._tx() as db:
                db.executemany(self._sql["channels_record"], params)
        return len(params)

    def channel_counts(self, notice: str) -> list[ChannelCount]:
        """How many people of ``notice`` each (jurisdiction, channel, rule, reason) holds."""
        rows = self._db.execute(self._sql["channels_counts"], (notice,)).fetchall()
        return [ChannelCount(j, c, rule, reason, int(n)) for j, c, rule, reason, n in rows]

    def channels_of(self, notice: str) -> dict[int, StoredChannel]:
        """Each recipient's decision for ``notice``, by recipient row id."""
        rows = self._db.execute(self._sql["channels_of"], (notice,)).fetchall()
        return {int(rid): StoredChannel(c, rule, reason, bool(log)) for rid, c, rule, reason, log in rows}

    def unemailed_rows(self, notice: str | None = None) -> Iterator[ReportRow]:
        """People with a channel decision for a notice but no email planned for it (their channel
        is a letter or none), as report rows in state ``not-emailed``."""
        for n, rid, email, fields, source, line in self._db.execute(
            self._sql["channels_unemailed"], (notice, notice)
        ):
            yield ReportRow(
                message=0,
                recipient_id=int(rid),
                notice=str(n),
                state=NOT_EMAILED,
                email=str(email),
                fields=json.loads(fields),
                source=str(source),
                line=int(line),
            )

    def channel_notices(self) -> list[str]:
        return [str(r[0]) for r in self._db.execute(self._sql["channels_notices"]).fetchall()]

    def sync_notice_log(self) -> int:
        """Log every accepted attempt to a person whose rule requires a log and that is not
        logged yet; returns how many were added. Idempotent, so a killed run loses nothing."""
        with self._tx() as db:
            cur = db.execute(self._sql["notice_log_sync"], (time.time(),))
            return max(0, int(cur.rowcount or 0))

    def notice_log(self) -> Iterator[LoggedNotice]:
        """The notice log, oldest first."""
        for at, notice, email, fields, channel, message_id, rule in self._db.execute(
            self._sql["notice_log_rows"]
        ):
            list_id = str(json.loads(fields).get("id", "")) if fields else ""
            yield LoggedNotice(
                float(at), str(notice), str(email), list_id, str(channel), str(message_id), str(rule)
            )


map_errors(ChannelsMixin, _driver_error)
