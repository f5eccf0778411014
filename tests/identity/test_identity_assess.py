"""Telling the person's own account from fraud, and spotting takeovers: pure rules over account facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    opened = OPENED + 3000 * DAY
    thief = facts(created_at=opened, last_activity=opened + 40 * DAY,
                  devices=[device("thief phone #5", opened, opened + 30 * DAY, 2)])
    verdict = assess(thief)
    assert not verdict.own and verdict.all_theirs
    assert second_account(thief, verdict, {"laptop #1": "A1"}) is None


def test_a_second_account_is_recognised_by_the_persons_device():
    opened = OPENED + 3000 * DAY
    second = facts(created_at=opened, last_activity=opened + 40 * DAY,
                   devices=[device("laptop #1", opened, opened, 1)], account_phone=None)
    verdict = assess(second)
    assert not verdict.own
    assert "A1" in (second_account(second, verdict, {"laptop #1": "A1"}) or "")


def test_years_of_use_with_only_the_persons_details_is_their_own():
    verdict = assess(facts(devices=[device("once #1", OPENED, OPENED, 1)]))
    assert verdict.own and not verdict.takeover
