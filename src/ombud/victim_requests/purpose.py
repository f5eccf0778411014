"""The broker's check of purpose ``request:<id>``: staff read a customer's data for a victim's request only
while the request is being worked, only if they may work it, and only for accounts its discovery found.

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
from ombud.victim_requests.models import RequestMatch, VictimRequest
from ombud.victim_requests.states import WORKING


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


purposes.register(PurposeKind.request, check)
