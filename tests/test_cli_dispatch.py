"""The command line's shape: one parser module per command group, a dispatch table, shared
option helpers, no state changes of its own, and a typo answered with the name that was meant."""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

from notifier.cli import app as cli
from notifier.cli.parser import build

from .conftest import Campaign

CLI = Path(__file__).resolve().parent.parent / "notifier" / "cli"


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    """Every command as typed ("suppress add", "check", "check spf"): the parser's leaves, and
    each parser that runs on its own (its ACTION is optional)."""
    found: set[str] = set()
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups or not groups[0].required:
        found.add(prefix)
    for group in groups:
        for name, sub in group.choices.items():
            found |= _commands(sub, f"{prefix} {name}".strip())
    return found - {""}


def test_every_command_has_exactly_one_handler() -> None:
    """The dispatch table names a handler for each command the parser accepts, and no other."""
    assert _commands(build()) == set(cli.DISPATCH)


def test_shared_options_are_declared_once() -> None:
    """--segment, --notice, --json and --list are spelt only in the option helpers, so no
    command's version of them can drift from the others'."""
    shared = {"--segment", "--notice", "--json", "--list"}
    for path in sorted(CLI.rglob("*.py")):
        if path.name == "options.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                flags = {a.value for a in node.args if isinstance(a, ast.Constant)}
                assert not flags & shared, f"{path.name}:{node.lineno} declares {flags & shared}"


def test_the_cli_changes_no_schedule_or_suppression_state_itself() -> None:
    """Creating, cancelling and confirming schedules and (un)suppressing addresses happen in
    followups/ and lists/; the CLI only calls them."""
    writes = {"set_state", "set_schedule_state", "add_schedule", "suppress", "unsuppress", "audit"}
    for path in sorted(CLI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id in {"ledger", "schedule"}:
                    assert node.func.attr not in writes, (
                        f"{path.name}:{node.lineno} {owner.id}.{node.func.attr}"
                    )


def test_suppressing_something_that_is_not_an_address_is_refused(campaign: Campaign) -> None:
    """`suppress add not-an-address` says it is not an address (exit 2) and suppresses nothing."""
    result = campaign.notify("suppress", "add", "dan@example.com", "not-an-address")
    assert result.code == 2
    assert "notify: error: not an email address: 'not-an-address'; nothing was suppressed" in result.err
    assert "notify suppress add someone@example.com" in result.err
    listed = json.loads(campaign.notify("suppress", "list", "--format", "json").out)
    assert listed == []


def test_an_address_suppressed_in_its_ascii_form_is_the_person_in_the_list(campaign: Campaign) -> None:
    """`suppress add ana@xn--bcher-kva.de` skips the list's ana@bücher.de: one key, as the list's."""
    campaign.write_list("email,exposed\nana@bücher.de,email\nben@example.org,email\n")
    assert campaign.notify("suppress", "add", "ana@xn--bcher-kva.de").code == 0
    assert campaign.notify("send", "--segment", "all", "--yes").code == 0
    status = json.loads(campaign.notify("status", "--json").out)
    assert status["notices"][0]["counts"] == {"sent": 1, "suppressed": 1}
    removed = campaign.notify("suppress", "remove", "ana@xn--bcher-kva.de")
    assert removed.out == "1 address(es) removed from the suppression list\n"


def test_a_mistyped_report_notice_gets_the_closest_name(campaign: Campaign) -> None:
    """`report --notice breach-notce` names the notice meant instead of printing an empty report."""
    assert campaign.notify("send", "--segment", "all", "--yes").code == 0
    result = campaign.notify("report", "--notice", "breach-notce")
    assert result.code == 2
    assert "unknown notice 'breach-notce'" in result.err
    assert "did you mean 'breach-notice'?" in result.err
    assert campaign.notify("report", "--notice", "breach-notice").code == 0


def test_a_mistyped_default_notice_gets_the_closest_name(campaign: Campaign) -> None:
    """A typo in [campaign] notice is answered with the notice meant, by every command using it."""
    campaign.edit_config('notice = "breach-notice"', 'notice = "breach-notcie"')
    for args in (("send", "--segment", "all", "--yes"), ("lint",), ("check",)):
        result = campaign.notify(*args)
        assert result.code != 0, args
        assert "no notice 'breach-notcie'" in result.err, args
        assert "did you mean 'breach-notice'?" in result.err, args
