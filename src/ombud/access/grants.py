"""Grants: access beyond what a role gives, asked for, decided by someone else, and ended on time.

- A *just-in-time* grant covers one data class of one customer for a limited time (5 minutes to 8 hours).
  It is itself a read purpose (``grant:<id>``). Approvers: any privacy officer, or the requester's manager.
- A *standing* grant adds one data class to everything an employee may read for their cases, until revoked
  or until its optional end. Approvers: privacy officers only. Managers recertify them (see reviews).
- Nobody decides their own request. Expiry is checked at every read from the clock, and ``expire_due``
  (run by ``ombud access sweep`` or the server's schedule) records each expiry as its own audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import trail
from ombud.access.cases import check_customer_id, customer_exists
from ombud.access.classes import DataClass, parse_class
from ombud.access.fastpath import GrantFacts
from ombud.access.models import Grant, GrantKind, GrantStatus
from ombud.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.staff.models import Employee, Role

JIT_MIN_MINUTES = 5
JIT_MAX_MINUTES = 8 * 60
JIT_DEFAULT_MINUTES = 60
STANDING_MAX_DAYS = 366
MIN_JUSTIFICATION = 15

_LIVE = (GrantStatus.requested, GrantStatus.approved)


def _justification(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) < MIN_JUSTIFICATION:
        raise InvalidInput(
            f"a justification of at least {MIN_JUSTIFICATION} characters is required (why this access, now)",
            field="justification",
        )
    return value[:2000]


def request_grant(
    session: Session,
    *,
    requester: Employee,
    kind: GrantKind,
    data_class: DataClass | str,
    justification: str,
    customer_id: str | None = None,
    duration_minutes: int | None = None,
) -> Grant:
    """Ask for a grant; it does nothing until someone else approves it."""
    cls = data_class if isinstance(data_class, DataClass) else parse_class(data_class)
    text = _justification(justification)
    if kind is GrantKind.just_in_time:
        if not customer_id:
            raise InvalidInput("a just-in-time grant names the customer", field="customer_id")
        customer_id = check_customer_id(customer_id)
        if not customer_exists(session, customer_id):
            raise NotFound(f"no customer {customer_id}")
        minutes = JIT_DEFAULT_MINUTES if duration_minutes is None else duration_minutes
        if not JIT_MIN_MINUTES <= minutes <= JIT_MAX_MINUTES:
            raise InvalidInput(
                f"a just-in-time grant lasts {JIT_MIN_MINUTES} to {JIT_MAX_MINUTES} minutes", field="duration_minutes"
            )
    else:
        if customer_id:
            raise InvalidInput(
                "a standing grant is not for one customer; ask for a just-in-time grant", field="customer_id"
            )
        minutes = duration_minutes
        if minutes is not None and not 60 <= minutes <= STANDING_MAX_DAYS * 24 * 60:
            raise InvalidInput(
                "a standing grant lasts from an hour to a year, or until revoked", field="duration_minutes"
            )
    duplicate = session.scalar(
        select(Grant.id).where(
            Grant.employee_id == requester.id,
            Grant.kind == kind,
            Grant.data_class == cls.value,
            Grant.customer_id.is_(None) if customer_id is None else Grant.customer_id == customer_id,
            Grant.status.in_(_LIVE),
        )
    )
    if duplicate is not None:
        raise Conflict(f"grant {duplicate} already asks for or gives this access", field="data_class")
    grant = Grant(
        kind=kind,
        employee_id=requester.id,
        customer_id=customer_id,
        data_class=cls.value,
        justification=text,
        duration_minutes=minutes,
        status=GrantStatus.requested,
        requested_at=clock.now(),
    )
    session.add(grant)
    session.flush()
    _audit(session, "access.grant.request", requester, grant, {"duration_minutes": minutes})
    return grant


def _audit(session: Session, action: str, actor: Employee | None, grant: Grant, extra: dict | None = None) -> None:
    detail = {"kind": grant.kind.value, "data_class": grant.data_class, "holder_id": grant.employee_id,
              "status": grant.status.value, **(extra or {})}
    trail.record(session, action, actor, customer_id=grant.customer_id, subject_type="grant", subject_id=grant.id,
                 fields=(grant.data_class,), detail=detail)


def get_grant(session: Session, grant_id: int) -> Grant:
    """The grant with this id, or NotFound."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id}")
    return grant


def may_decide(grant: Grant, requester: Employee, approver: Employee) -> str | None:
    """Why this approver may not decide this grant (None when they may)."""
    if approver.id == requester.id:
        return "nobody approves or denies their own request"
    if not approver.active:
        return "the approver has left"
    if approver.role is Role.privacy_officer:
        return None
    if grant.kind is GrantKind.just_in_time and requester.manager_id == approver.id:
        return None
    if grant.kind is GrantKind.standing:
        return "standing grants are decided by a privacy officer"
    return "a privacy officer or the requester's manager decides a just-in-time grant"


def _decide(session: Session, grant: Grant, approver: Employee, note: str | None, approve: bool) -> Grant:
    if grant.status is not GrantStatus.requested:
        raise InvalidTransition(f"grant {grant.id} is {grant.status.value}, not waiting for a decision")
    requester = session.get(Employee, grant.employee_id)
    assert requester is not None
    problem = may_decide(grant, requester, approver)
    if problem:
        raise PolicyDenied(problem)
    now = clock.now()
    grant.decided_at, grant.decided_by_id = now, approver.id
    grant.decision_note = (note or "").strip()[:500] or None
    if approve:
        grant.status = GrantStatus.approved
        grant.starts_at = now
        grant.expires_at = now + timedelta(minutes=grant.duration_minutes) if grant.duration_minutes else None
    else:
        grant.status = GrantStatus.denied
    session.flush()
    extra = {"expires_at": grant.expires_at.isoformat() if grant.expires_at else None}
    _audit(session, "access.grant.approve" if approve else "access.grant.deny", approver, grant, extra)
    return grant


def approve(session: Session, grant: Grant, *, approver: Employee, note: str | None = None) -> Grant:
    """Approve a request (not one's own); a just-in-time grant runs from now for its duration."""
    return _decide(session, grant, approver, note, approve=True)


def deny(session: Session, grant: Grant, *, approver: Employee, note: str | None = None) -> Grant:
    """Deny a request (not one's own)."""
    return _decide(session, grant, approver, note, approve=False)


def cancel(session: Session, grant: Grant, *, actor: Employee) -> Grant:
    """The requester withdraws a request still waiting for a decision."""
    if grant.employee_id != actor.id:
        raise PolicyDenied("only the requester withdraws a request")
    if grant.status is not GrantStatus.requested:
        raise InvalidTransition(f"grant {grant.id} is {grant.status.value}; only a waiting request is withdrawn")
    grant.status = GrantStatus.cancelled
    grant.ended_at, grant.ended_by_id = clock.now(), actor.id
    session.flush()
    _audit(session, "access.grant.cancel", actor, grant)
    return grant


def revoke(session: Session, grant: Grant, *, actor: Employee | None, reason: str | None = None) -> Grant:
    """End an approved grant now (privacy officers, admins, the holder's manager, or the holder giving it up)."""
    if grant.status is not GrantStatus.approved:
        raise InvalidTransition(f"grant {grant.id} is {grant.status.value}; only an approved grant is revoked")
    if actor is not None and actor.role not in (Role.privacy_officer, Role.admin) and actor.id != grant.employee_id:
        holder = session.get(Employee, grant.employee_id)
        if holder is None or holder.manager_id != actor.id:
            raise PolicyDenied("a privacy officer, an admin, the holder's manager or the holder revokes a grant")
    grant.status = GrantStatus.revoked
    grant.ended_at, grant.ended_by_id = clock.now(), actor.id if actor else None
    grant.end_reason = (reason or "").strip()[:300] or None
    session.flush()
    _audit(session, "access.grant.revoke", actor, grant, {"reason_given": grant.end_reason is not None})
    return grant


def is_live(grant: Grant | GrantFacts, now: datetime) -> bool:
    """True while an approved grant is in force (its end is checked against the clock, not the sweep)."""
    return (
        grant.status is GrantStatus.approved
        and (grant.starts_at is None or grant.starts_at <= now)
        and (grant.expires_at is None or now < grant.expires_at)
    )


def purpose_problem(
    grant: Grant | GrantFacts | None, grant_id: int, employee: Employee, customer_id: str, now: datetime
) -> str | None:
    """Why this grant cannot be the purpose of this read (None when it can)."""
    if grant is None or grant.employee_id != employee.id:
        return f"no grant {grant_id} of yours"
    if grant.kind is not GrantKind.just_in_time:
        return f"grant {grant.id} is a standing grant; name the case you are working on"
    if grant.customer_id != customer_id:
        return f"grant {grant.id} is for another customer"
    if grant.status is GrantStatus.approved and grant.expires_at is not None and now >= grant.expires_at:
        return f"grant {grant.id} expired at {grant.expires_at:%Y-%m-%d %H:%M} UTC"
    if not is_live(grant, now):
        return f"grant {grant.id} is {grant.status.value}"
    return None


def standing_classes(session: Session, employee_id: int, now: datetime) -> tuple[str, ...]:
    """Data classes of the employee's standing grants in force now, sorted."""
    rows = session.execute(
        select(Grant.data_class, Grant.expires_at).where(
            Grant.employee_id == employee_id, Grant.kind == GrantKind.standing, Grant.status == GrantStatus.approved
        )
    ).all()
    return tuple(sorted({cls for cls, expires in rows if expires is None or now < expires}))


def expire_due(session: Session) -> list[Grant]:
    """Mark every approved grant past its end as expired, one audit event each; returns them."""
    now = clock.now()
    due = session.scalars(
        select(Grant).where(
            Grant.status == GrantStatus.approved, Grant.expires_at.is_not(None), Grant.expires_at <= now
        )
    ).all()
    for grant in due:
        grant.status = GrantStatus.expired
        grant.ended_at = grant.expires_at
    session.flush()
    for grant in due:
        ended = grant.ended_at.isoformat() if grant.ended_at else None
        _audit(session, "access.grant.expire", None, grant, {"expired_at": ended})
    return list(due)


def list_grants(
    session: Session,
    *,
    status: GrantStatus | None = None,
    kind: GrantKind | None = None,
    employee_id: int | None = None,
    customer_id: str | None = None,
    limit: int = 100,
) -> Sequence[Grant]:
    """Grants, newest first, filtered."""
    query = select(Grant).order_by(Grant.id.desc()).limit(min(max(limit, 1), 500))
    if status is not None:
        query = query.where(Grant.status == status)
    if kind is not None:
        query = query.where(Grant.kind == kind)
    if employee_id is not None:
        query = query.where(Grant.employee_id == employee_id)
    if customer_id:
        query = query.where(Grant.customer_id == customer_id)
    return session.scalars(query).all()


def waiting_for(session: Session, approver: Employee) -> list[Grant]:
    """Requests this employee may decide, oldest first."""
    requests = session.scalars(
        select(Grant).where(Grant.status == GrantStatus.requested).order_by(Grant.requested_at)
    ).all()
    out = []
    for grant in requests:
        requester = session.get(Employee, grant.employee_id)
        if requester is not None and may_decide(grant, requester, approver) is None:
            out.append(grant)
    return out
