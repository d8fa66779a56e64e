"""The send plan decides each person's channel once per kind of row (notifier.channels.memo): a
remembered decision is always the one the rules give that person on their own."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from notifier.channels.memo import DecisionMemo, decision_key
from notifier.channels.policy import ChannelPolicy
from notifier.channels.rules import load_channel_rules
from notifier.lists.samplelist import rows

POLICY = ChannelPolicy(
    rules=load_channel_rules(),
    apply=True,
    incident_categories=frozenset({"email", "name", "password_hash"}),
    cost_per_letter=1.0,
)


def _one_of(*values: str) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


_YES_NO = _one_of("yes", "no", "Y", "true", "0", "n")
# Rows as the ledger stores them: every value stripped and non-empty, empty cells absent.
_ROW = st.fixed_dictionaries(
    {},
    optional={
        "email": _one_of("a@example.com", "b@mail.example.com"),
        "exposed": st.lists(
            _one_of("email", "name", "ssn", "mailbox_credentials", "password", "password_hash"),
            max_size=3,
            unique=True,
        ),
        "country": _one_of("US", "DE", "GB", "CA", "us"),
        "region": _one_of("US-CA", "US-NY", "US-TX", "US-PA", "US-CO", "CA-QC", "US-FL"),
        "postal_country": _one_of("US", "DE"),
        "postal_region": _one_of("NY", "CA", "US-FL"),
        "consent": _one_of("2024-03-01", "2025-01-02", "ref:77", "no", "Withdrawn", "none"),
        "consent_scope": _one_of("esign", "express", "esign;express", "Express ; esign"),
        "primary_channel": _one_of("email", "Email", "postal"),
        "mailbox_provided_by_us": _YES_NO,
        "prior_business_relationship": _YES_NO,
        "deceased": _YES_NO,
        "first_name": _one_of("Ana", "Bo"),
        "last_name": _one_of("Lopez"),
        "postal_name": _one_of("Ana Lopez", "A. Lopez"),
        "postal_line1": _one_of("1 Main St", "2 Elm St"),
        "postal_city": _one_of("Austin", "Berlin"),
        "postal_postcode": _one_of("73301", "10115"),
        "next_of_kin_name": _one_of("Bo Lopez"),
        "next_of_kin_line1": _one_of("2 Elm St"),
        "next_of_kin_city": _one_of("Austin"),
        "next_of_kin_country": _one_of("US", "DE"),
        "next_of_kin_region": _one_of("TX"),
        "next_of_kin_postcode": _one_of("73301"),
    },
)


def alone(view: dict[str, Any]) -> tuple[Any, ...]:
    decision = POLICY.decide(view)
    never = decision.channel.value != "email" and POLICY.never_email(view)
    return decision, POLICY.jurisdiction(view), never


@settings(max_examples=500, deadline=None)
@given(first=_ROW, second=_ROW)
def test_a_remembered_decision_is_the_one_the_rules_give_the_person_alone(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    """Whichever row was decided first, the second row's outcome equals its own decision."""
    memo = DecisionMemo(POLICY)
    memo.outcome(first)
    got = memo.outcome(second)
    assert (got.decision, got.jurisdiction, got.never_email) == alone(second)


def test_the_sample_list_is_decided_a_few_hundred_times_not_once_a_person() -> None:
    """Twenty thousand sample people: the same answers, from far fewer decisions than people."""
    memo = DecisionMemo(POLICY)
    for row in rows(20_000):
        view: dict[str, Any] = {k: v for k, v in row.items() if v}
        view["exposed"] = view.get("exposed", "").split(";")
        got = memo.outcome(view)
        assert (got.decision, got.jurisdiction, got.never_email) == alone(view)
    assert memo.decided < 2_000


def test_a_row_with_a_value_no_list_cell_holds_is_decided_on_its_own() -> None:
    """An unhashable value is decided directly each time, never remembered."""
    view = {"email": "a@example.com", "country": ["US"], "exposed": ["email"]}
    assert decision_key(view) is None
    memo = DecisionMemo(POLICY)
    memo.outcome(view)
    memo.outcome(view)
    assert memo.decided == 2


@settings(max_examples=500, deadline=None)
@given(row=_ROW, data=st.data())
def test_two_people_the_key_cannot_tell_apart_get_the_same_decision(row: dict[str, Any], data: Any) -> None:
    """Another name, address line or consent date (all the key keeps of them is presence or
    'consent held'): the key is the same, and so is what the rules decide."""
    twin = dict(row)
    for column in ("first_name", "last_name", "postal_name", "postal_line1", "postal_city",
                   "postal_postcode", "next_of_kin_name", "next_of_kin_line1", "next_of_kin_city",
                   "next_of_kin_postcode", "next_of_kin_region"):  # fmt: skip
        if column in twin:
            twin[column] = data.draw(_one_of("X", "Someone Else", "99"))
    if str(row.get("consent", "")).lower() not in ("", "no", "none", "withdrawn"):
        twin["consent"] = data.draw(_one_of("1999-12-31", "ref:other"))
    assert decision_key(twin) == decision_key(row)
    assert alone(twin) == alone(row)
