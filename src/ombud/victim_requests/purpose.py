"""The broker's check of purpose ``request:<id>``: staff read a customer's data for a victim's request only
while the request is being worked, only if they may work it, and only for accounts its discovery found.

The request's evidence files are opened under the same purpose (``ombud.access.documents``): the document check
here says whether the file belongs to the request and gives the facts the Cedar policies decide on (stage,
open or ended and since when, assignment, the file's kind); the policies, not this module, decide who opens it.

Registered with ombud.access.purposes when this module is imported (the service imports it, so every face
that works requests has it); a process without it refuses such reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.access import purposes
from ombud.access.models import PurposeKind
from ombud.victim_requests.models import RequestEvidence, RequestMatch, VictimRequest
from ombud.victim_requests.states import OPEN, WORKING


def problem(session: Session, employee: Any, request_id: int, customer_id: str) -> str | None:
    """Why this request cannot be the purpose of this employee's read of this customer (None when it can)."""
    from ombud.victim_requests.service import may_work

    request = session.get(VictimRequest, request_id)
    if request is None:
        return f"no victim request {request_id}"
    if request.status not in WORKING:
        return f"request {request.reference} is {request.status.value}: customer data is read from discovery on"
    if not may_work(request, employee):
        return f"request {request.reference} is not assigned to you or your team"
    found = session.scalar(select(RequestMatch.id).where(RequestMatch.request_id == request.id,
                                                         RequestMatch.account_ref == customer_id).limit(1))
    if found is None:
        return f"discovery for request {request.reference} did not find customer {customer_id}"
    return None


def check(session: Session, employee: Any, request_id: int, customer_id: str, _now: datetime) -> purposes.PurposeAnswer:
    found = problem(session, employee, request_id, customer_id)
    return purposes.PurposeAnswer(found, "victim_request" if found is None else "")


def evidence(session: Session, employee: Any, request_id: int, evidence_id: int,
             now: datetime) -> purposes.DocumentAnswer:
    """Whether file ``evidence_id`` is one of request ``request_id``'s, and what the policies need to know."""
    request = session.get(VictimRequest, request_id)
    if request is None:
        return purposes.DocumentAnswer(f"no victim request {request_id}")
    found = session.get(RequestEvidence, evidence_id)
    if found is None or found.request_id != request.id:
        return purposes.DocumentAnswer(f"request {request.reference} holds no file {evidence_id}",
                                       label=request.reference)
    is_open = request.status in OPEN
    ended = request.closed_at or request.status_changed_at
    days_closed = 0 if is_open else max(0, (now - ended).days)
    return purposes.DocumentAnswer(
        None, label=request.reference, stage=request.status.value, open=is_open, days_closed=days_closed,
        assigned_to_me=request.assignee_id is not None and request.assignee_id == employee.id,
        assigned_to_my_team=request.team is not None and request.team == employee.team,
        document_kind=found.kind.value,
        # FCRA 609(e) requests are US requests; the requester's address is encrypted and not needed to say so.
        country="US",
    )


purposes.register(PurposeKind.request, check)
purposes.register_documents(PurposeKind.request, evidence)
