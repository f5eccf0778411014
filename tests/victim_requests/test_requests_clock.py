"""The 30-day clock and the state machine: pure, with injected times and property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud.victim_requests import deadline, states
from ombud.victim_requests.states import DeclineGround, Status

NY = ZoneInfo("America/New_York")
ZONES = [NY, ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe"),
         ZoneInfo("America/Santiago"), ZoneInfo("UTC")]


def local(y, m, d, hh=12, mm=0, zone=NY):
    return datetime(y, m, d, hh, mm, tzinfo=zone).astimezone(UTC)


def test_received_on_the_31st_is_due_30_local_days_later_at_the_end_of_the_day():
    due = deadline.due_at(local(2026, 10, 31, 9), NY)
    assert due.astimezone(NY).date().isoformat() == "2026-11-30"
    assert due.astimezone(NY).time().isoformat() == "23:59:59.999999"


def test_23_59_in_the_channels_zone_counts_as_that_day_although_utc_is_the_next():
    received = local(2026, 3, 2, 23, 59)
    assert received.date().isoformat() == "2026-03-03"  # already the 3rd in UTC
    due = deadline.due_at(received, NY)
    assert due.astimezone(NY).date().isoformat() == "2026-04-01"
    assert deadline.day_number(received, local(2026, 3, 3, 0, 1), NY) == 1


def test_across_a_dst_change_the_due_instant_is_local_end_of_day():
    received = local(2026, 10, 20, 10)  # EDT (UTC-4); due day 2026-11-19 is EST (UTC-5)
    due = deadline.due_at(received, NY)
    assert due == datetime(2026, 11, 20, 4, 59, 59, 999999, tzinfo=UTC)
    spring = deadline.due_at(local(2026, 2, 20, 10), NY)  # EST -> due 2026-03-22 in EDT
    assert spring == datetime(2026, 3, 23, 3, 59, 59, 999999, tzinfo=UTC)


def test_leap_day():
    assert deadline.due_at(local(2028, 2, 29), NY).astimezone(NY).date().isoformat() == "2028-03-30"
    assert deadline.due_at(local(2028, 1, 30), NY).astimezone(NY).date().isoformat() == "2028-02-29"


def test_days_left_and_overdue():
    received = local(2026, 11, 2, 10)
    due = deadline.due_at(received, NY)
    assert deadline.days_left(due, received, NY) == 30
    assert deadline.days_left(due, local(2026, 12, 2, 23, 0), NY) == 0
    assert not deadline.is_overdue(due, local(2026, 12, 2, 23, 59))
    assert deadline.is_overdue(due, local(2026, 12, 3, 0, 0))
    assert deadline.days_left(due, local(2026, 12, 4), NY) == -2


def test_reminder_days_are_checked():
    assert deadline.check_reminder_days([25, 10, 20, 10]) == (10, 20, 25)
    for bad in ([], [0], [30], [45]):
        with pytest.raises(ValueError):
            deadline.check_reminder_days(bad)


instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2032, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=400, deadline=None)
@given(received=instants, later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
       n=st.integers(min_value=1, max_value=31), zone=st.sampled_from(ZONES))
def test_the_sweep_cutoff_agrees_with_the_day_number(received, later, n, zone):
    now = received + later
    assert (received < deadline.day_cutoff(n, now, zone)) == (deadline.day_number(received, now, zone) >= n)


@settings(max_examples=300, deadline=None)
@given(received=instants, zone=st.sampled_from(ZONES))
def test_due_is_the_last_instant_of_local_day_30(received, zone):
    due = deadline.due_at(received, zone)
    assert deadline.day_number(received, due, zone) == 30
    assert deadline.day_number(received, due + timedelta(microseconds=1), zone) == 31
    assert timedelta(days=29) < due - received < timedelta(days=31, hours=2)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(Status)), max_size=30))
def test_a_walk_through_the_machine_only_takes_allowed_moves(path):
    current = Status.received
    for step in path:
        if states.allowed(current, step):
            assert step in states.TRANSITIONS[current]
            current = step
    assert current in Status


def test_decline_is_reachable_from_every_state_before_delivery_and_from_none_after():
    for state in Status:
        assert states.allowed(state, Status.declined) == (state in states.CLOCK_RUNNING)
    assert not states.TRANSITIONS[Status.closed] and not states.TRANSITIONS[Status.declined]
    # needs_information never leaves the clock: it is a running state
    assert Status.needs_information in states.CLOCK_RUNNING


def test_only_the_four_statutory_grounds_parse():
    assert {g.value for g in DeclineGround} == {"not_required", "identity_not_confirmed", "misrepresentation",
                                                 "navigational_data"}
    assert states.parse_ground("Identity not confirmed") is DeclineGround.identity_not_confirmed
    for text in ("privacy", "security", "security reasons", "", "other", "name the thief"):
        with pytest.raises(ValueError, match="statutory"):
            states.parse_ground(text)
    assert set(states.GROUND_TEXT) == set(DeclineGround)


@settings(max_examples=300, deadline=None)
@given(received=instants, sent=st.sampled_from([0, 10, 20, 25]), escalated=st.booleans(), overdue=st.booleans(),
       zone=st.sampled_from(ZONES))
def test_the_next_check_is_the_first_thing_left_to_do(received, sent, escalated, overdue, zone):
    due = deadline.due_at(received, zone)
    at = deadline.next_check(received, due, zone, reminder_days=(10, 20, 25), reminders_sent=sent,
                             escalate_after=25, escalated=escalated, overdue=overdue)
    if sent == 25 and escalated and overdue:
        assert at is None
        return
    owed_before = at - timedelta(microseconds=1)
    # nothing is owed just before it, and something is owed at it
    def owed(now):
        day = deadline.day_number(received, now, zone)
        return ([n for n in (10, 20, 25) if n > sent and day >= n] or (not escalated and day > 25)
                or (not overdue and now > due))
    assert not owed(owed_before)
    assert owed(at)
