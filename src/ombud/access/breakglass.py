"""Break-glass: immediate access for an emergency, with a mandatory justification, for a short time.

Every use is raised to security at once (a record in the security queue and its own audit event, which the
insider-risk domain reads), and stays listed until a security analyst (not the user) reviews it as
justified or unjustified. Break-glass is exempt from the shift and region guards, not from the daily limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import trail
from ombud.access.cases import check_customer_id, customer_exists
from ombud.access.classes import DataClass, parse_class
from ombud.access.fastpath import BreakGlassFacts
from ombud.access.models import BreakGlass, BreakGlassReview
from ombud.errors import InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.staff.models import Employee, Role

MIN_JUSTIFICATION = 30
DEFAULT_MINUTES = 30
MAX_MINUTES = 60


def open_break_glass(
    session: Session,
    *,
    employee: Employee,
    customer_id: str,
    justification: str,
    classes: Iterable[DataClass | str] | None = None,
    minutes: int = DEFAULT_MINUTES,
) -> BreakGlass:
    """Open emergency access to the data classes the emergency needs (named: never every class by default),
    raised to security at once."""
    customer_id = check_customer_id(customer_id)
    text = (justification or "").strip()
    if len(text) < MIN_JUSTIFICATION:
        raise InvalidInput(
            f"break-glass needs a justification of at least {MIN_JUSTIFICATION} characters: what emergency, why now",
            field="justification",
        )
    if not 1 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"break-glass lasts 1 to {MAX_MINUTES} minutes", field="minutes")
    chosen = sorted({c if isinstance(c, DataClass) else parse_class(c) for c in classes or ()})
    if not chosen:
        raise InvalidInput("name the data classes the emergency needs (break-glass never opens every class at once)",
                           field="classes")
    if not customer_exists(session, customer_id):
        raise NotFound(f"no customer {customer_id}")
    now = clock.now()
    record = BreakGlass(
        employee_id=employee.id,
        customer_id=customer_id,
        classes=[c.value for c in chosen],
        justification=text[:2000],
        opened_at=now,
        expires_at=now + timedelta(minutes=minutes),
        raised_at=now,
        review=BreakGlassReview.pending,
    )
    session.add(record)
    session.flush()
    detail = {"classes": [c.value for c in chosen], "minutes": minutes, "expires_at": record.expires_at.isoformat()}
    trail.record(session, "access.break_glass.open", employee, customer_id=customer_id,
                 subject_type="break_glass", subject_id=record.id, fields=[c.value for c in chosen], detail=detail)
    trail.record(session, "access.break_glass.raise", None, customer_id=customer_id,
                 subject_type="break_glass", subject_id=record.id,
                 detail={"raised_to": "security", "employee": employee.external_id, "team": employee.team})
    return record


def get_break_glass(session: Session, record_id: int) -> BreakGlass:
    """The break-glass record with this id, or NotFound."""
    record = session.get(BreakGlass, record_id)
    if record is None:
        raise NotFound(f"no break-glass {record_id}")
    return record


def is_live(record: BreakGlass, now: datetime) -> bool:
    """True while the emergency access is in force."""
    return record.ended_at is None and now < record.expires_at


def end(session: Session, record: BreakGlass, *, actor: Employee) -> BreakGlass:
    """End emergency access before its time (the user, or security)."""
    if record.ended_at is not None or not is_live(record, clock.now()):
        raise InvalidTransition(f"break-glass {record.id} has already ended")
    if actor.id != record.employee_id and actor.role not in (Role.security_analyst, Role.admin):
        raise PolicyDenied("the user or security ends a break-glass access")
    record.ended_at = clock.now()
    session.flush()
    trail.record(session, "access.break_glass.end", actor, customer_id=record.customer_id,
                 subject_type="break_glass", subject_id=record.id)
    return record


def review(
    session: Session, record: BreakGlass, *, reviewer: Employee, outcome: BreakGlassReview, note: str | None = None
) -> BreakGlass:
    """Security's verdict on a use: justified or unjustified (a security analyst or admin, never the user)."""
    if outcome is BreakGlassReview.pending:
        raise InvalidInput("a review is justified or unjustified", field="outcome")
    if reviewer.role not in (Role.security_analyst, Role.admin):
        raise PolicyDenied("security analysts review break-glass uses")
    if reviewer.id == record.employee_id:
        raise PolicyDenied("nobody reviews their own break-glass use")
    if record.review is not BreakGlassReview.pending:
        raise InvalidTransition(f"break-glass {record.id} was already reviewed ({record.review.value})")
    now = clock.now()
    record.review, record.reviewed_by_id, record.reviewed_at = outcome, reviewer.id, now
    record.review_note = (note or "").strip()[:1000] or None
    if record.ended_at is None and is_live(record, now):
        record.ended_at = now  # a reviewed use is over
    session.flush()
    trail.record(session, "access.break_glass.review", reviewer, customer_id=record.customer_id,
                 subject_type="break_glass", subject_id=record.id, decision=outcome.value)
    return record


def list_break_glass(
    session: Session, *, review: BreakGlassReview | None = None, employee_id: int | None = None, limit: int = 100
) -> Sequence[BreakGlass]:
    """Break-glass uses, newest first (``review=pending`` is security's queue)."""
    query = select(BreakGlass).order_by(BreakGlass.id.desc()).limit(min(max(limit, 1), 500))
    if review is not None:
        query = query.where(BreakGlass.review == review)
    if employee_id is not None:
        query = query.where(BreakGlass.employee_id == employee_id)
    return session.scalars(query).all()


def purpose_problem(
    record: BreakGlass | BreakGlassFacts | None, record_id: int, employee: Employee, customer_id: str, now: datetime
) -> str | None:
    """Why this break-glass cannot be the purpose of this read (None when it can)."""
    if record is None or record.employee_id != employee.id:
        return f"no break-glass {record_id} of yours"
    if record.customer_id != customer_id:
        return f"break-glass {record.id} is for another customer"
    if record.ended_at is not None or now >= record.expires_at:
        return f"break-glass {record.id} has ended"
    return None
