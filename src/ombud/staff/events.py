"""Staff sign-ins and sign-outs as audit events, written in the caller's transaction.

The sign-in door's own record (staff_login_attempt) is written by the service; this module adds the
tamper-evident audit leaf. Only references go in: the employee's directory id, role, team, region,
the session's id and the address signed in from (never an email).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.staff.models import Employee, StaffSession


def _append(
    session: Session, action: str, employee: Employee, *, ip: str | None, record: StaffSession | None = None
) -> None:
    append_event(
        session,
        AuditEvent(
            action=action,
            actor_type="employee",
            actor_id=employee.external_id,
            subject_type="staff_session" if record is not None else None,
            subject_id=str(record.id) if record is not None else None,
            detail={"ip": ip, "role": employee.role.value, "team": employee.team, "region": employee.region},
        ),
    )


def signed_in(session: Session, employee: Employee, record: StaffSession, *, ip: str | None) -> None:
    """Audit a staff sign-in that opened this browser session."""
    _append(session, "staff.sign_in", employee, ip=ip, record=record)


def signed_out(session: Session, employee: Employee, record: StaffSession, *, ip: str | None) -> None:
    """Audit a staff sign-out that ended this browser session."""
    _append(session, "staff.sign_out", employee, ip=ip, record=record)


def sign_in_refused(session: Session, employee: Employee, *, ip: str | None, reason: str) -> None:
    """Audit a refused sign-in to a known account (wrong password, paused by the rate limit, departed)."""
    append_event(
        session,
        AuditEvent(
            action="staff.sign_in_refused",
            actor_type="employee",
            actor_id=employee.external_id,
            decision="deny",
            detail={"ip": ip, "reason": reason},
        ),
    )


def account_changed(
    session: Session,
    action: str,
    *,
    actor: Employee | None,
    subject_type: str,
    subject_id: str,
    detail: dict[str, str | int | bool | None] | None = None,
) -> None:
    """Audit a change to staff accounts or tokens; no actor means an operator at the command line."""
    append_event(
        session,
        AuditEvent(
            action=action,
            actor_type="employee" if actor is not None else "system",
            actor_id=actor.external_id if actor is not None else "operator",
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail or {},
        ),
    )
