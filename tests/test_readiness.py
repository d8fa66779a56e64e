"""Follow-ups are ready before they are scheduled: an empty facts section or a missing
`[serve] public_url` is refused by `schedule`, `lint`, `check` and `send` alike, with the fix,
and `notify init` writes those sections (commented) so the fix is at hand."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from notifier.campaign import init_campaign
from notifier.followups.readiness import notice_problems, problems
from notifier.settings import load

from .conftest import Campaign

PUBLIC = '\n[serve]\npublic_url = "https://notify.example.com"\n'
CHANGES = '\n[changes]\ntwo_factor = "Two-step sign-in is now required for every staff account."\n'
WHAT_WE_CHANGED = "Since our notice we have made these changes:\n{% if changes.two_factor is defined %}"


# ---- the rules, pure ----------------------------------------------------------------------------


def test_an_empty_changes_section_is_a_problem_naming_the_section() -> None:
    """A follow-up whose template tells about [changes] is not ready while [changes] is empty."""
    found = problems("what-we-changed", "follow-up", WHAT_WE_CHANGED, {"changes": {}}, "https://x.example")
    assert [p.id for p in found] == ["FOLLOWUP-FACTS"]
    assert "[changes]" in found[0].found and "[changes]" in found[0].fix


def test_blank_values_count_as_empty() -> None:
    """Whitespace and empty lists are no facts: they would still render a heading over nothing."""
    facts = {"changes": {"two_factor": "  ", "other": ["", " "]}}
    found = problems("what-we-changed", "follow-up", WHAT_WE_CHANGED, facts, "https://x.example")
    assert [p.id for p in found] == ["FOLLOWUP-FACTS"]


def test_the_key_that_carries_the_substance_is_required() -> None:
    """[investigation] without findings is not ready even when other keys are set."""
    text = "What we found:\n{% for item in investigation.findings %}{{ item }}{% endfor %}"
    facts = {"investigation": {"by": "an independent firm"}}
    found = problems("investigation-complete", "follow-up", text, facts, "https://x.example")
    assert [p.id for p in found] == ["FOLLOWUP-FACTS"] and "findings" in found[0].found


def test_a_filled_follow_up_with_a_public_url_is_ready() -> None:
    """Facts filled and public_url set: no problem."""
    facts = {"changes": {"two_factor": "Required for all staff."}}
    assert problems("what-we-changed", "follow-up", WHAT_WE_CHANGED, facts, "https://x.example") == []


def test_a_follow_up_without_a_public_url_is_not_ready() -> None:
    """The one-click unsubscribe link needs [serve] public_url."""
    facts = {"changes": {"two_factor": "Required for all staff."}}
    found = problems("what-we-changed", "follow-up", WHAT_WE_CHANGED, facts, "")
    assert [p.id for p in found] == ["FOLLOWUP-UNSUBSCRIBE"] and "public_url" in found[0].fix


def test_legally_required_notices_are_not_judged_by_follow_up_rules() -> None:
    """A legal notice carries no unsubscribe link and needs no follow-up facts."""
    assert problems("breach-notice", "legal", WHAT_WE_CHANGED, {}, "") == []


# ---- every command refuses the same way --------------------------------------------------------


def _schedules(campaign: Campaign) -> list[tuple[object, ...]]:
    path = campaign.root / "ledger.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return list(db.execute("SELECT id FROM schedules"))
    finally:
        db.close()


def test_scheduling_a_follow_up_with_empty_changes_is_refused(campaign: Campaign) -> None:
    """`notify schedule` refuses (exit 2) an empty [changes], names the fix, and records nothing."""
    campaign.config.write_text(campaign.config.read_text() + PUBLIC)
    result = campaign.notify("schedule", "--notice", "what-we-changed", "--after", "7d")
    assert result.code == 2, result.err
    assert "ERROR FOLLOWUP-FACTS" in result.err and "fill in [changes]" in result.err
    assert "Traceback" not in result.err
    assert _schedules(campaign) == []


def test_scheduling_a_follow_up_without_public_url_is_refused(campaign: Campaign) -> None:
    """`notify schedule` refuses a follow-up that could not carry a working unsubscribe link."""
    campaign.config.write_text(campaign.config.read_text() + CHANGES)
    result = campaign.notify("schedule", "--notice", "what-we-changed", "--after", "7d")
    assert result.code == 2
    assert "ERROR FOLLOWUP-UNSUBSCRIBE" in result.err and "set [serve] public_url" in result.err
    assert _schedules(campaign) == []


@pytest.mark.parametrize("command", [("lint",), ("check",), ("send", "--segment", "affected", "--yes")])
def test_lint_check_and_send_refuse_an_empty_follow_up(campaign: Campaign, command: tuple[str, ...]) -> None:
    """`lint`, `check` and `send` give the same ERROR and fix as `schedule`; nothing is sent."""
    campaign.config.write_text(campaign.config.read_text() + PUBLIC)
    result = campaign.notify(*command, "--notice", "what-we-changed")
    assert result.code == 2, result.err
    assert "ERROR FOLLOWUP-FACTS" in result.err and "fill in [changes]" in result.err
    assert campaign.outbox() == []


def test_a_ready_follow_up_is_scheduled(campaign: Campaign) -> None:
    """With [changes] and public_url filled in, the same command schedules it."""
    campaign.config.write_text(campaign.config.read_text() + PUBLIC + CHANGES)
    result = campaign.notify("schedule", "--notice", "what-we-changed", "--after", "7d")
    assert result.code == 0, result.err
    assert len(_schedules(campaign)) == 1


# ---- notify init writes the sections, commented --------------------------------------------------


def test_init_writes_the_follow_up_sections_commented_and_they_make_a_follow_up_ready(
    tmp_path: Path,
) -> None:
    """`notify init` writes [changes], [investigation], [final_update] and [serve] public_url as
    comments; uncommented, they load and every built-in follow-up is ready."""
    init_campaign(tmp_path / "c", size=5)
    config = tmp_path / "c" / "notify.toml"
    text = config.read_text(encoding="utf-8")
    for header in ("# [changes]", "# [investigation]", "# [final_update]", "# [serve]", "# public_url = "):
        assert re.search(rf"^{re.escape(header)}", text, re.M), header
    settings = load(config)
    assert settings.public_url == "" and not settings.facts["changes"]
    # Uncomment the commented key lines of those sections (not other commented examples).
    lines, inside = [], False
    for line in text.splitlines():
        if m := re.match(r"^# (\[(changes|investigation|final_update|serve)\].*)$", line):
            inside = True
            lines.append(m.group(1))
        elif inside and re.match(r"^# [a-z_]+ = ", line):
            lines.append(line[2:])
        else:
            inside = inside and line.startswith("# ")
            lines.append(line)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load(config)
    assert settings.public_url == "https://notify.example.com"
    for notice in ("what-we-changed", "investigation-complete", "final-update"):
        assert notice_problems(settings.templates_dir, notice, settings.facts, settings.public_url) == []
