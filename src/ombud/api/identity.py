"""API routes of the identity domain: discovery of the accounts that used a person's identity, under a purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ConfigDict, Field

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.identity.schemas import DiscoverRequest, DiscoveryResult
from ombud.shapes import REASON_KEY
from ombud.staff.models import Role
from ombud.victim_requests.discovery import search_under_purpose

router = APIRouter(prefix="/api/identity", tags=["identity"])


class DiscoverUnderPurpose(DiscoverRequest):
    """The discovery request as the API takes it: the purpose is required and has its shape, and under a
    request no profile is sent (its verified identifiers are searched), as ``search_under_purpose`` checks."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"properties": {"purpose": {"pattern": "^case:"}}},
        {"properties": {"purpose": {"pattern": "^request:"}, "profile": {"maxProperties": 0}}},
    ]})

    purpose: str = Field(  # type: ignore[assignment]
        max_length=200, json_schema_extra={"pattern": "^(?:case|request):[0-9]{1,18}$",
                                           REASON_KEY: "request:<id> or case:<id>"},
        description="Why the search runs: request:<id> (a victim's request: its verified identifiers are searched, "
                    "send an empty profile) or case:<id> (an open investigation case). Recorded in the audit log.")

Investigator = Annotated[
    Staff, Depends(require_roles(Role.agent, Role.privacy_officer, Role.security_analyst, Role.admin))
]


@router.post("/discover", response_model=DiscoveryResult)
def discover_accounts(body: DiscoverUnderPurpose, request: Request, session: DbSession,
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
