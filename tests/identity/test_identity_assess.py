"""Telling the person's own account from fraud, and spotting takeovers: pure rules over account facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.identity.assess import AccountFacts, Added, DeviceUse, assess, second_account

OPENED = datetime(2018, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def device(name, first, last, successes=10, failures=0):
    return DeviceUse(name, first, last, successes, failures, first_success=first)


def facts(**changes):
    values = {
        "created_at": OPENED,
        "last_activity": OPENED + 2500 * DAY,
        "devices": [device("laptop #1", OPENED, OPENED + 2400 * DAY)],
        "addresses": [Added("a1", OPENED, True, "billing"), Added("a2", OPENED, True, "shipping")],
        "cards": [Added("p1", OPENED + 2 * DAY, True)],
        "account_name_matches": True,
        "account_email": True,
        "account_phone": True,
        "dob_matches": True,
    }
    values.update(changes)
    return AccountFacts(**values)


def test_a_long_standing_account_of_the_person_is_their_own_and_untouched():
    verdict = assess(facts())
    assert verdict.own and not verdict.takeover
    assert "laptop #1" in verdict.trusted_devices
    assert any("in use for 6.8 years" in s for s in verdict.signals)


def test_a_replaced_email_on_the_own_account_is_a_takeover():
    late = OPENED + 2450 * DAY
    verdict = assess(facts(
        account_email=False,
        devices=[device("laptop #1", OPENED, OPENED + 2400 * DAY), device("unknown #9", late, late + 5 * DAY, 3, 4)],
        addresses=[Added("a1", OPENED, True, "billing"), Added("a9", late, False, "shipping")],
    ))
    assert verdict.own and verdict.takeover
    assert any("email address is not one of yours" in s for s in verdict.signals)
    assert any("after 4 failed sign-ins" in s for s in verdict.signals)
    assert "unknown #9" not in verdict.trusted_devices


def test_a_new_phone_and_a_gift_address_are_not_a_takeover():
    late = OPENED + 2450 * DAY
    verdict = assess(facts(
        devices=[device("laptop #1", OPENED, OPENED + 2400 * DAY), device("new phone #2", late, late + 30 * DAY)],
        addresses=[Added("a1", OPENED, True, "billing"), Added("a9", late, False, "shipping")],
    ))
    assert verdict.own and not verdict.takeover


def test_a_relative_at_the_same_address_is_not_the_persons_own():
    verdict = assess(facts(account_name_matches=True, account_email=False, account_phone=False, dob_matches=False,
                           cards=[Added("p1", OPENED, False)]))
    assert not verdict.own and verdict.established


def test_a_thiefs_new_account_is_not_own_even_with_every_detail_typed():
    # Every detail typed, even an address that normalises to the person's email, but the goods go to a drop.
    opened = OPENED + 3000 * DAY
    thief = facts(created_at=opened, last_activity=opened + 40 * DAY,
                  devices=[device("thief phone #5", opened, opened + 30 * DAY, 2)],
                  addresses=[Added("a1", opened, True, "billing"), Added("a7", opened, False, "shipping")])
    verdict = assess(thief)
    assert not verdict.own and verdict.all_theirs
    assert second_account(thief, verdict, {"laptop #1": "A1"}) is None


def test_a_young_account_under_the_persons_own_email_is_theirs_with_or_without_sign_ins():
    opened = OPENED + 3000 * DAY
    for devices in ([], [device("new phone #2", opened, opened + 30 * DAY, 5)]):
        young = facts(created_at=opened, last_activity=opened + 40 * DAY, devices=devices,
                      addresses=[Added("a1", opened, True, "billing"), Added("a2", opened, True, "shipping")],
                      cards=[Added("p1", opened, False)])  # a card the profile does not list: unknown
        verdict = assess(young)
        assert verdict.own and not verdict.takeover
        assert "your own email address" in verdict.signals[0]


def test_someone_elses_card_added_later_keeps_the_account_the_persons_own():
    # A card-testing thief put another victim's card on this account: per identifier, the card is not the
    # person's, the account still is.
    late = OPENED + 2450 * DAY
    for devices in ([], [device("laptop #1", OPENED, OPENED + 2400 * DAY)]):
        verdict = assess(facts(devices=devices, cards=[Added("p1", OPENED, True), Added("p9", late, False)]))
        assert verdict.own and not verdict.takeover
        assert any("card added" in s and "not one of yours" in s for s in verdict.signals)


def test_verdicts_do_not_depend_on_sign_in_history():
    cases = [facts(), facts(account_email=False), facts(account_name_matches=False),
             facts(created_at=OPENED + 2400 * DAY, account_email=None, account_phone=None, dob_matches=None),
             facts(created_at=OPENED + 2400 * DAY)]
    for case in cases:
        with_logins = assess(case)
        without = assess(AccountFacts(**{**case.__dict__, "devices": []}))
        assert (with_logins.own, with_logins.takeover) == (without.own, without.takeover)


def test_a_second_account_is_recognised_by_the_persons_device():
    opened = OPENED + 3000 * DAY
    second = facts(created_at=opened, last_activity=opened + 40 * DAY,
                   devices=[device("laptop #1", opened, opened, 1)], account_phone=None, account_email=None)
    verdict = assess(second)
    assert not verdict.own
    assert "A1" in (second_account(second, verdict, {"laptop #1": "A1"}) or "")


def test_years_of_use_with_only_the_persons_details_is_their_own():
    verdict = assess(facts(devices=[device("once #1", OPENED, OPENED, 1)]))
    assert verdict.own and not verdict.takeover


def test_an_intruders_device_vouches_for_nothing():
    # A young account of the person's own (their email): a device that got in after failed attempts is not
    # one of theirs, so an account it signs in to is not made "theirs" by it.
    opened = OPENED + 3000 * DAY
    later = opened + 60 * DAY
    young = facts(created_at=opened, last_activity=opened + 90 * DAY,
                  devices=[device("phone #1", opened, later, 4), device("thief #9", later, later, 1, 3)],
                  addresses=[Added("a1", opened, True, "billing"), Added("a2", opened, True, "shipping")])
    verdict = assess(young)
    assert verdict.own and verdict.trusted_devices == frozenset({"phone #1"})
    other = facts(created_at=later, last_activity=later, account_email=None, account_phone=None,
                  devices=[device("thief #9", later, later, 2)])
    assert second_account(other, assess(other), dict.fromkeys(verdict.trusted_devices, "A1")) is None


# ------------------------------------------------------------------ gifts from a young account, and drops

YOUNG = OPENED + 3000 * DAY


def young(*, shipments=None, **changes):
    """A young account of the person's (their name, email, phone, card and billing address) whose shipping
    address is theirs from the start and which, two days later, got another address to ship a present to."""
    values = {
        "created_at": YOUNG,
        "last_activity": YOUNG + 40 * DAY,
        "devices": [],
        "addresses": [Added("a1", YOUNG, True, "billing"), Added("a2", YOUNG, True, "shipping"),
                      Added("a9", YOUNG + 2 * DAY, False, "shipping")],
        "cards": [Added("p1", YOUNG + DAY / 24, True)],
    }
    if shipments is not None:
        values["shipments"] = shipments
    values.update(changes)
    return facts(**values)


def test_a_young_account_that_ships_a_gift_early_is_the_persons_own():
    for shipments in (None, {"a2": 1, "a9": 1}, {"a2": 4, "a9": 1}):
        for devices in ([], [device("phone #1", YOUNG, YOUNG + 30 * DAY, 3)]):
            verdict = assess(young(shipments=shipments, devices=devices))
            assert verdict.own and not verdict.takeover
            assert any("read as a gift" in s for s in verdict.signals)


@pytest.mark.parametrize("thief", [
    # A new-account fraudster's own email for the confirmations, or none the person gave.
    {"account_email": False},
    {"account_email": None},
    # Their own phone.
    {"account_phone": False},
    # A card that is not the person's (a prepaid one in their name), even beside theirs.
    {"cards": [Added("p1", YOUNG, True), Added("p5", YOUNG, False)]},
    # A billing address that is not theirs.
    {"addresses": [Added("a1", YOUNG, False, "billing"), Added("a2", YOUNG, True, "shipping"),
                   Added("a9", YOUNG + 2 * DAY, False, "shipping")]},
    # The drop is the shipping address from the start, alone or typed beside the person's own.
    {"addresses": [Added("a1", YOUNG, True, "billing"), Added("a9", YOUNG, False, "shipping")]},
    {"addresses": [Added("a1", YOUNG, True, "billing"), Added("a2", YOUNG, True, "shipping"),
                   Added("a9", YOUNG, False, "shipping")]},
    # The person's address filled in at sign-up, then the goods go to the drop.
    {"shipments": {"a9": 3}},
    {"shipments": {"a2": 1, "a9": 2}},
    # A device that got in after failed sign-ins, before the drop was added.
    {"devices": [DeviceUse("thief #9", YOUNG, YOUNG + 3 * DAY, 2, 4, first_success=YOUNG + DAY)]},
])
def test_a_drop_on_a_young_account_is_still_fraud(thief):
    assert assess(young()).own  # the same account without the thief's mark is the person's
    verdict = assess(young(**thief))
    assert not verdict.own
    assert not any("gift" in s for s in verdict.signals)


@settings(max_examples=300, deadline=None)
@given(home=st.integers(0, 6), away=st.integers(0, 6), added=st.integers(0, 119 * 24),
       other_first=st.booleans(), sign_ins=st.lists(st.tuples(st.integers(0, 40 * 24), st.integers(1, 5)),
                                                      max_size=3))
def test_shipments_elsewhere_outnumbering_the_persons_are_never_a_gift(home, away, added, other_first, sign_ins):
    # Whatever the timing and whatever sign-in history the retailer sends: a young account whose orders went
    # mostly elsewhere, or whose first shipping address is not the person's, is not theirs; and the verdict is
    # the same without sign-in history (no device here failed to get in).
    hour = DAY / 24
    mine_at = YOUNG + (added + 1) * hour if other_first else YOUNG
    account = young(
        addresses=[Added("a1", YOUNG, True, "billing"), Added("a2", mine_at, True, "shipping"),
                   Added("a9", YOUNG + added * hour, False, "shipping")],
        shipments={"a2": home, "a9": away},
        devices=[device(f"device #{i}", YOUNG + h * hour, YOUNG + h * hour, n) for i, (h, n) in enumerate(sign_ins)],
    )
    verdict = assess(account)
    if away > home or other_first or added == 0:
        assert not verdict.own
    without = assess(AccountFacts(**{**account.__dict__, "devices": []}))
    assert (verdict.own, verdict.takeover) == (without.own, without.takeover)
