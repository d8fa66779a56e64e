"""How many sending processes a run forks when several senders share one machine (issue 15)."""

from __future__ import annotations

from notifier.ledger.postgres import PgLedger
from notifier.pipeline.deliver import sending_processes

from .test_ledger_backends import pg_database  # noqa: F401  (the fixture)


def test_a_sender_alone_forks_one_process_per_core() -> None:
    """With no other sender on the machine, every core sends."""
    assert sending_processes(2, 1, {}) == 2


def test_two_senders_on_one_machine_split_its_cores() -> None:
    """A second sender on the same 2-core machine forks one process, not two more."""
    assert sending_processes(2, 2, {}) == 1
    assert sending_processes(8, 3, {}) == 2


def test_more_senders_than_cores_still_send_with_one_process_each() -> None:
    """Each sender keeps at least one sending process."""
    assert sending_processes(2, 5, {}) == 1


def test_notify_send_processes_is_obeyed_whatever_else_runs() -> None:
    """NOTIFY_SEND_PROCESSES, when set, is the number used, however many senders run."""
    assert sending_processes(4, 2, {"NOTIFY_SEND_PROCESSES": "4"}) == 4


def test_a_postgresql_ledger_counts_the_live_senders_on_this_machine(pg_database: str) -> None:  # noqa: F811
    """Each live sender of the notice on this host counts, itself included; a stopped one does not."""
    first, second = PgLedger(pg_database), PgLedger(pg_database)
    try:
        run = first.start_run("breach-notice", "all", "none", {})
        assert first.local_senders() == 1
        other = second.start_run("breach-notice", "all", "none", {})
        assert first.local_senders() == second.local_senders() == 2
        second.end_run(other, "finished", {})
        assert first.local_senders() == 1
        first.end_run(run, "finished", {})
    finally:
        first.close()
        second.close()
