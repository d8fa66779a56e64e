"""A large list is read on the other core (notifier.lists.prefetch): the ledger gets exactly the
rows, rejects, warnings and line numbers reading it in this process gives, and a list that
cannot be used stops the import with the same message."""

from __future__ import annotations

from pathlib import Path

import pytest

import notifier.lists.prefetch as prefetch
from notifier.errors import ListError
from notifier.ledger import SqliteLedger
from notifier.lists.recipients import read_list
from notifier.pipeline import stages


def messy_list(tmp_path: Path, n: int = 5000) -> Path:
    rows = ["email,first_name,country,region,exposed"]
    for i in range(n):
        if i % 997 == 5:
            rows.append(f"not-an-address-{i},Bad,DE,,email")
        elif i % 1201 == 7:
            rows.append(f"p{i}@example.com,Two,Fields")
        elif i % 811 == 3:
            rows.append(f"p{i - 1}@example.com,Dup{i},FR,,email;ssn")  # merged into the row above
        else:
            rows.append(f"p{i}@example.com,Person{i},us,US-CA,email;Name;email")
    path = tmp_path / "list.csv"
    data = ("\n".join(rows) + "\n").encode()
    bad = data.replace(b"Person42,", b"Person\xff42,")  # a byte that is not UTF-8 on one line
    path.write_bytes(bad)
    return path


@pytest.fixture
def always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "PREFETCH_BYTES", 0)
    monkeypatch.setattr(prefetch, "_core_free", lambda: True)


@pytest.mark.usefixtures("always")
def test_a_list_read_by_the_child_gives_exactly_the_rows_read_here(tmp_path: Path) -> None:
    """Every row, reject, warning and line number is the same, in the same order."""
    path = messy_list(tmp_path)
    assert list(prefetch.read_list_prefetched(path)) == list(read_list(path))


@pytest.mark.usefixtures("always")
def test_an_import_read_by_the_child_counts_what_an_import_read_here_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ledgers, one list: the same usable, rejected and merged counts and the same issues."""
    path = messy_list(tmp_path)
    child = SqliteLedger(tmp_path / "child.sqlite")
    (by_child,) = stages.import_lists(child, [path])
    monkeypatch.setattr(prefetch, "PREFETCH_BYTES", 10**12)
    here = SqliteLedger(tmp_path / "here.sqlite")
    (by_here,) = stages.import_lists(here, [path])
    counts = ("rows", "valid", "invalid", "duplicates", "warnings")
    assert [getattr(by_child, c) for c in counts] == [getattr(by_here, c) for c in counts]
    assert by_here.invalid > 0 and by_here.duplicates > 0
    kinds = ["invalid", "malformed", "duplicate", "warning"]
    issues = list(child.list_issues([by_child.list_id], kinds))
    assert issues == list(here.list_issues([by_here.list_id], kinds))
    child.close()
    here.close()


@pytest.mark.usefixtures("always")
def test_a_list_without_an_email_column_stops_before_any_child_starts(tmp_path: Path) -> None:
    """The header's error names the file and line 1, as reading it here does."""
    path = tmp_path / "list.csv"
    path.write_text("name,country\nAna,DE\n", encoding="utf-8")
    with pytest.raises(ListError, match=r"list\.csv:1: no email column"):
        list(prefetch.read_list_prefetched(path))
