"""VERP tokens and Message-IDs: opaque, stable, unforgeable."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notifier.tokens import Tokens

KEY = b"k" * 32


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_a_return_path_decodes_back_to_its_row(row: int) -> None:
    tokens = Tokens(KEY)
    address = tokens.return_path(row, "bounces.example.com")
    assert tokens.parse_return_path(address) == row
    # Some MTAs fold the local part to upper case; the token survives.
    assert tokens.parse_return_path(address.upper()) == row


@given(st.integers(min_value=1, max_value=2**40), st.integers(min_value=0, max_value=28))
def test_a_token_with_any_character_changed_is_refused(row: int, position: int) -> None:
    tokens = Tokens(KEY)
    token = tokens.verp_token(row)
    flipped = "a" if token[position] != "a" else "b"
    forged = token[:position] + flipped + token[position + 1 :]
    assert tokens.parse_verp_token(forged) is None


def test_another_campaigns_key_cannot_read_or_make_tokens() -> None:
    mine, theirs = Tokens(KEY), Tokens(b"x" * 32)
    assert theirs.parse_verp_token(mine.verp_token(42)) is None


def test_tokens_reveal_nothing_obvious_about_the_row() -> None:
    """Consecutive rows give unrelated-looking tokens (no visible counter)."""
    tokens = Tokens(KEY)
    a, b = tokens.verp_token(1), tokens.verp_token(2)
    assert sum(x == y for x, y in zip(a, b, strict=True)) < len(a) // 2


def test_message_id_is_stable_per_notice_and_recipient() -> None:
    tokens = Tokens(KEY)
    one = tokens.message_id("breach-notice", "ana@example.com", "example.com")
    assert one == tokens.message_id("breach-notice", "ana@example.com", "example.com")
    assert one != tokens.message_id("what-we-changed", "ana@example.com", "example.com")
    assert one != tokens.message_id("breach-notice", "ben@example.com", "example.com")
    assert one.startswith("<") and one.endswith("@example.com>") and "ana" not in one


def test_garbage_is_not_a_token() -> None:
    tokens = Tokens(KEY)
    for junk in ("", "bounces@example.com", "bounces+@x", "bounces+!!!!@x", "other+abc@x"):
        assert tokens.parse_return_path(junk) is None


def test_tokens_in_messages_already_sent_still_parse() -> None:
    """A bounce or unsubscribe carrying a token from an earlier release still leads to its row
    (tokens are the format of addresses already out in the world; issue 15 made them cheaper)."""
    tokens = Tokens(KEY)
    assert tokens.parse_return_path("bounces+7uyvkeefgdogvi2fmf73cospycegw@bounces.example.com") == 123456789
    assert tokens.parse_unsubscribe_token("7uyvkefywv445zccvj7ku7tutx5cy") == 987654321
    assert tokens.return_path(123456789, "bounces.example.com").startswith("bounces+7uyvkeefgdogvi2")
