"""API routes of the identity domain: discovery of the accounts that used a person's identity, under a purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.identity.schemas import DiscoverRequest, DiscoveryResult
from ombud.staff.models import Role
from ombud.victim_requests.discovery import search_under_purpose

router = APIRouter(prefix="/api/identity", tags=["identity"])

Investigator = Annotated[
    Staff, Depends(require_roles(Role.agent, Role.privacy_officer, Role.security_analyst, Role.admin))
]


@router.post("/discover", response_model=DiscoveryResult)
def discover_accounts(body: DiscoverRequest, request: Request, session: DbSession,
                      staff: Investigator) -> DiscoveryResult:
    """Every account (and stand-alone credit application) that used part of the profile, ranked by match
    probability, with what matched and why. Only under a purpose: ``request:<id>`` (a victim's request, searched
    on its verified identifiers and recorded on the request; send an empty profile) or ``case:<id>`` (an open
    investigation case you work); no purpose is 422. The response holds references (the retailer's ids), match
    kinds, weights and masked hints only; the details of a matched account are read through the access broker.
    The search and the accounts it revealed are recorded in the audit log."""
    ctx = get_context(request)
    return search_under_purpose(
        session, ctx.keys, staff.employee, body.purpose, body.profile, threshold=body.threshold,
        include_below_threshold=body.include_below_threshold,
    )
