"""API routes of the identity domain: discovery of the accounts that used a person's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.identity.schemas import DiscoverRequest, DiscoveryResult
from ombud.identity.workflow import discover_for_employee
from ombud.staff.models import Role

router = APIRouter(prefix="/api/identity", tags=["identity"])

Investigator = Annotated[
    Staff, Depends(require_roles(Role.agent, Role.privacy_officer, Role.security_analyst, Role.admin))
]


@router.post("/discover", response_model=DiscoveryResult)
def discover_accounts(body: DiscoverRequest, request: Request, session: DbSession,
                      staff: Investigator) -> DiscoveryResult:
    """Every account (and stand-alone credit application) that used part of the profile, ranked by match
    probability, with what matched and why. The response holds references (the retailer's ids), match
    kinds, weights and masked hints only; the details of a matched account are read through the access
    broker, bound to the case. The search itself is recorded in the audit log."""
    ctx = get_context(request)
    return discover_for_employee(
        session, ctx.keys, staff.employee, body.profile, threshold=body.threshold,
        include_below_threshold=body.include_below_threshold, purpose=body.purpose,
    )
