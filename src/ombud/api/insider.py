"""Insider alerts API for security analysts: list, read (with evidence proofs), assign, dismiss, escalate.

Every read of alerts is itself an audit event; employees are pseudonymised until an alert is escalated.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from ombud.access.service import find_employee
from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.insider import evidence, service, triage
from ombud.insider.models import AlertStatus, InsiderAlert
from ombud.insider.schemas import (
    AlertDetail,
    AlertPage,
    AlertRead,
    AssignBody,
    DismissBody,
    EscalateBody,
    EscalationRead,
    EvidenceRead,
    FindingRead,
)
from ombud.staff.models import Employee, Role

router = APIRouter(prefix="/api/insider", tags=["insider"])

Analyst = Annotated[Staff, Depends(require_roles(Role.security_analyst, Role.admin))]


def alert_read(session: Session, key: bytes, alert: InsiderAlert) -> AlertRead:
    """The alert as analysts see it (pseudonymised until escalated)."""
    shown = triage.revealed(alert)
    employee = session.get(Employee, alert.employee_id) if shown else None
    assignee = session.get(Employee, alert.assignee_id) if alert.assignee_id else None
    return AlertRead(
        id=alert.id, case_id=alert.case_id, day=alert.day,
        employee=employee.external_id if employee else triage.pseudonym(key, alert.employee_id), revealed=shown,
        score=alert.score, status=alert.status, assignee=assignee.external_id if assignee else None,
        dismiss_reason=alert.dismiss_reason, window_start=alert.window_start, window_end=alert.window_end,
        explanation=alert.explanation, findings=[FindingRead(**f) for f in alert.findings],
    )


def alert_detail(session: Session, key: bytes, alert: InsiderAlert) -> AlertDetail:
    """The alert with its evidence events and their inclusion proofs against the latest checkpoint."""
    events = service.alert_events(session, alert.id)
    proofs = evidence.proofs(session, events)
    by_index = {p.audit_index: p for p in proofs.proofs}
    rows = []
    for e in events:
        proof = by_index.get(e.audit_index) if e.audit_index is not None else None
        rows.append(EvidenceRead(
            event=e.event_ref, source=e.source, audit_index=e.audit_index, imported_id=e.imported_id,
            customer_id=e.customer_id, data_class=e.data_class, at=e.at, decision=e.decision, detectors=e.detectors,
            leaf_hash=proof.leaf_hash if proof else None,
            proof=list(proof.proof) if proof and proof.tree_size else None,
        ))
    return AlertDetail(**alert_read(session, key, alert).model_dump(), events=rows, checkpoint=proofs.checkpoint,
                       tree_size=proofs.tree_size, root_hash=proofs.root_hash)


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    request: Request,
    session: DbSession,
    staff: Analyst,
    status: Annotated[AlertStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AlertPage:
    """Alerts, highest score first (this read is recorded in the audit log)."""
    key = get_context(request).keys.identifier_hash_key
    alerts, total = service.list_alerts(session, status=status, limit=limit, offset=offset)
    if alerts:
        triage.record_read(session, staff.employee, [a.id for a in alerts], what="list")
    return AlertPage(items=[alert_read(session, key, a) for a in alerts], total=total)


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: int, request: Request, session: DbSession, staff: Analyst) -> AlertDetail:
    """One alert with its findings, evidence events and their inclusion proofs (this read is recorded)."""
    alert = service.get_alert(session, alert_id)
    triage.record_read(session, staff.employee, [alert.id], what="detail")
    return alert_detail(session, get_context(request).keys.identifier_hash_key, alert)


@router.post("/alerts/{alert_id}/assign", response_model=AlertRead)
def assign(alert_id: int, body: AssignBody, request: Request, session: DbSession, staff: Analyst) -> AlertRead:
    """Assign the alert to an analyst (yourself by default)."""
    target = find_employee(session, body.assignee) if body.assignee else None
    alert = triage.assign(session, alert_id, staff.employee, target)
    return alert_read(session, get_context(request).keys.identifier_hash_key, alert)


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertRead)
def dismiss(alert_id: int, body: DismissBody, request: Request, session: DbSession, staff: Analyst) -> AlertRead:
    """Dismiss with a reason; legitimate-work and expected-for-role dismissals lower the detector's weight."""
    alert = triage.dismiss(session, alert_id, staff.employee, body.reason, body.note)
    return alert_read(session, get_context(request).keys.identifier_hash_key, alert)


@router.post("/alerts/{alert_id}/escalate", response_model=AlertRead)
def escalate(alert_id: int, body: EscalateBody, request: Request, session: DbSession, staff: Analyst) -> AlertRead:
    """Escalate the alert and its case; the employee is revealed and an incident can be opened from it."""
    alert = triage.escalate(session, alert_id, staff.employee, body.note)
    return alert_read(session, get_context(request).keys.identifier_hash_key, alert)


@router.get("/alerts/{alert_id}/escalation", response_model=EscalationRead)
def escalation(alert_id: int, session: DbSession, staff: Annotated[Staff, Depends(require_roles(
        Role.security_analyst, Role.privacy_officer, Role.admin))]) -> EscalationRead:
    """An escalated alert's actor, window and evidence events (what an incident is opened from); 409 otherwise."""
    found = triage.escalation(session, alert_id)
    return EscalationRead(**{**asdict(found), "audit_indexes": list(found.audit_indexes),
                             "imported_ids": list(found.imported_ids), "customers": list(found.customers)})
