"""The 30-day clock of FCRA 609(e); pure (no database).

The clock runs from receipt at the designated channel. Dates are counted in that channel's time zone: a
request received at 23:59 local time on the 31st is day 0 on the 31st, and is due at the end of the local
day 30 days later, whatever the UTC date and across daylight-saving changes. The due time is computed once at
intake and stored; nothing extends it (the law has no extension, and asking the victim for more information
does not pause it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEADLINE_DAYS = 30
DEFAULT_REMINDER_DAYS: tuple[int, ...] = (10, 20, 25)
DEFAULT_ESCALATE_AFTER = 25


def local_date(at: datetime, zone: ZoneInfo) -> date:
    """The calendar date of an instant in the designated channel's time zone."""
    if at.tzinfo is None:
        raise ValueError("the clock needs aware datetimes")
    return at.astimezone(zone).date()


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date is ``day`` (a midnight skipped by DST starts at the jump)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant (UTC, to the microsecond) whose local date is ``day``."""
    return start_of_day(day + timedelta(days=1), zone) - timedelta(microseconds=1)


def due_at(received_at: datetime, zone: ZoneInfo, days: int = DEADLINE_DAYS) -> datetime:
    """When a request received at ``received_at`` is due: the end of the local day ``days`` days later."""
    return end_of_day(local_date(received_at, zone) + timedelta(days=days), zone)


def day_number(received_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """The request's day: 0 on the local day of receipt, 30 on the day it is due."""
    return (local_date(now, zone) - local_date(received_at, zone)).days


def days_left(due: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Whole local days until the due day (0 on the due day itself, negative once overdue)."""
    return (local_date(due, zone) - local_date(now, zone)).days


def is_overdue(due: datetime, now: datetime) -> bool:
    """True once the due instant has passed."""
    return now > due


def day_cutoff(n: int, now: datetime, zone: ZoneInfo) -> datetime:
    """The instant such that ``received_at < cutoff`` exactly when ``day_number(received_at, now) >= n``.

    The sweep asks the store one indexed range question per threshold instead of computing each request's day.
    """
    return start_of_day(local_date(now, zone) - timedelta(days=n - 1), zone)


def reminders_reached(received_at: datetime, now: datetime, zone: ZoneInfo,
                      reminder_days: Iterable[int] = DEFAULT_REMINDER_DAYS) -> list[int]:
    """The reminder days the request has reached by ``now``, in order."""
    today = day_number(received_at, now, zone)
    return sorted(d for d in set(reminder_days) if today >= d)


def check_reminder_days(days: Iterable[int]) -> tuple[int, ...]:
    """Reminder days, validated: whole days from 1 to 29 (a reminder on or after the due day is no reminder)."""
    out = tuple(sorted(set(days)))
    if not out or any(not 1 <= d < DEADLINE_DAYS for d in out):
        raise ValueError(f"reminder days are whole days from 1 to {DEADLINE_DAYS - 1}")
    return out


def next_check(received_at: datetime, due: datetime, zone: ZoneInfo, *, reminder_days: Iterable[int],
               reminders_sent: int, escalate_after: int, escalated: bool, overdue: bool) -> datetime | None:
    """The first instant at which the sweep has something left to do for a request (None: nothing left).

    Reminder day n falls due at the start of local day n; the escalation at the start of the day after
    ``escalate_after``; the overdue mark just after the due instant.
    """
    day0 = local_date(received_at, zone)
    times = [start_of_day(day0 + timedelta(days=n), zone) for n in reminder_days if n > reminders_sent]
    if not escalated:
        times.append(start_of_day(day0 + timedelta(days=escalate_after + 1), zone))
    if not overdue:
        times.append(due + timedelta(microseconds=1))
    return min(times) if times else None
