"""Segments: safe expressions over recipient fields."""

from __future__ import annotations

import pytest

from notifier.errors import SegmentError, UnknownSegmentError
from notifier.lists.segments import compile_segment, resolve

ANA = {"email": "ana@example.com", "country": "DE", "exposed": ["email"]}
DAN = {"email": "dan@example.com", "country": "US", "region": "US-CA", "exposed": []}


def test_affected_means_someone_with_exposed_data() -> None:
    seg = compile_segment("affected", "recipient.exposed")
    assert seg.matches(ANA, where="x:2") and not seg.matches(DAN, where="x:3")


def test_membership_and_comparisons_work() -> None:
    seg = compile_segment("eu", "recipient.country in ['DE', 'FR']")
    assert seg.matches(ANA, where="x:2") and not seg.matches(DAN, where="x:3")


def test_all_is_built_in() -> None:
    assert resolve("all", {}).matches(DAN, where="x:1")


def test_a_misspelt_column_is_an_error_naming_the_row() -> None:
    seg = compile_segment("ca", "recipient.regoin == 'US-CA'")
    with pytest.raises(SegmentError, match=r"segment 'ca'.*at lists/a.csv:7"):
        seg.matches(DAN, where="lists/a.csv:7")


def test_the_sandbox_blocks_reaching_python_internals() -> None:
    seg = compile_segment("evil", "recipient.__class__.__mro__")
    with pytest.raises(SegmentError):
        seg.matches(ANA, where="x:1")


def test_unknown_segment_lists_what_exists() -> None:
    with pytest.raises(UnknownSegmentError, match="defined segments: all, eu"):
        resolve("us", {"eu": "true"})
