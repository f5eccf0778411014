"""Staff sign-in and sign-out as audit events, written in the caller's transaction.

The sign-in door's own record (LoginAttempt) is written by the service; this module adds the
tamper-evident audit leaf when the audit domain is installed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sqlalchemy.orm import Session

from ombud.staff.models import Employee


def _audit_api() -> tuple[Any, Any] | None:
    # The audit domain is built alongside this one; until its service exists, sign-ins are recorded
    # only in staff_login_attempt.
    try:
        module = import_module("ombud.audit.service")
    except ImportError:
        return None
    append, event = getattr(module, "append_event", None), getattr(module, "AuditEvent", None)
    if append is None or event is None:
        return None
    return append, event


def _append(session: Session, action: str, employee: Employee, *, ip: str | None) -> None:
    api = _audit_api()
    if api is None:
        return
    append_event, audit_event = api
    append_event(
        session,
        audit_event(
            action=action,
            actor_type="employee",
            actor_id=employee.external_id,
            details={"ip": ip, "role": employee.role.value, "team": employee.team, "region": employee.region},
        ),
    )


def signed_in(session: Session, employee: Employee, *, ip: str | None) -> None:
    """Audit a successful staff sign-in."""
    _append(session, "staff.sign_in", employee, ip=ip)


def signed_out(session: Session, employee: Employee, *, ip: str | None) -> None:
    """Audit a staff sign-out."""
    _append(session, "staff.sign_out", employee, ip=ip)
