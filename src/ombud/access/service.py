"""The access domain's public functions beyond the broker: access profiles, policies, the sweep, lookups.

The broker itself is ``ombud.access.broker.read``; cases, grants, break-glass and reviews have their own
modules. Everything here takes the caller's session, flushes and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import grants, trail, versions
from ombud.access.broker import DEFAULT_DAILY_LIMIT
from ombud.access.models import AccessProfile, Grant
from ombud.access.policy import PolicyEngine, default_engine
from ombud.db import row_id
from ombud.errors import InvalidInput, NotFound, PolicyDenied
from ombud.staff.models import Employee, Role


@dataclass(frozen=True)
class Profile:
    """The context the policies get for an employee (stored values, or the defaults)."""

    daily_limit: int
    shift_start: int
    shift_end: int
    timezone: str
    stored: bool


def profile_of(session: Session, employee: Employee) -> Profile:
    """An employee's daily limit, shift hours and time zone."""
    row = session.get(AccessProfile, employee.id)
    default_limit = DEFAULT_DAILY_LIMIT.get(employee.role, 100)
    if row is None:
        return Profile(default_limit, 0, 24, "UTC", stored=False)
    limit = row.daily_limit if row.daily_limit is not None else default_limit
    return Profile(limit, row.shift_start, row.shift_end, row.timezone, stored=True)


def set_profile(
    session: Session,
    employee: Employee,
    *,
    actor: Employee | None,
    daily_limit: int | None = None,
    shift_start: int | None = None,
    shift_end: int | None = None,
    timezone: str | None = None,
) -> Profile:
    """Change an employee's limit, shift or time zone (privacy officers and admins); audited."""
    if actor is not None and actor.role not in (Role.privacy_officer, Role.admin):
        raise PolicyDenied("privacy officers and admins set access profiles")
    if daily_limit is not None and not 1 <= daily_limit <= 100_000:
        raise InvalidInput("the daily limit is 1 to 100000 reads", field="daily_limit")
    for name, hour in (("shift_start", shift_start), ("shift_end", shift_end)):
        if hour is not None and not 0 <= hour <= 24:
            raise InvalidInput(f"{name} is an hour from 0 to 24", field=name)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown time zone {timezone!r} (use an IANA name such as America/Chicago)",
                               field="timezone") from None
    row = session.get(AccessProfile, employee.id)
    if row is None:
        row = AccessProfile(employee_id=employee.id, shift_start=0, shift_end=24, timezone="UTC",
                            updated_at=clock.now())
        session.add(row)
    if daily_limit is not None:
        row.daily_limit = daily_limit
    if shift_start is not None:
        row.shift_start = shift_start
    if shift_end is not None:
        row.shift_end = shift_end
    if timezone is not None:
        row.timezone = timezone
    row.updated_at = clock.now()
    session.flush()
    profile = profile_of(session, employee)
    trail.record(session, "access.profile.set", actor, subject_type="employee", subject_id=employee.external_id,
                 detail={"daily_limit": profile.daily_limit, "shift_start": profile.shift_start,
                         "shift_end": profile.shift_end, "timezone": profile.timezone})
    return profile


def check_policies(session: Session, engine: PolicyEngine | None = None) -> tuple[PolicyEngine, bool]:
    """Load the packaged policies and record their version; True when it changed (and was audited)."""
    engine = engine or default_engine()
    return engine, versions.record_policy_version(session, engine) is not None


def sweep(session: Session) -> list[Grant]:
    """Record the expiry of every grant past its end (reads already refuse them from the clock)."""
    return grants.expire_due(session)


def find_employee(session: Session, ref: str) -> Employee:
    """An employee by directory id, email or internal id; NotFound otherwise."""
    text = (ref or "").strip()
    query = select(Employee).where((Employee.external_id == text) | (Employee.email == text.lower()))
    employee = session.scalar(query)
    if employee is None and (number := row_id(text)) is not None:
        employee = session.get(Employee, number)
    if employee is None:
        raise NotFound(f"no employee {text[:64]!r}", field="employee")
    return employee
