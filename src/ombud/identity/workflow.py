"""Discovery on behalf of an employee: the search runs, and the fact of it lands in the audit log.

The audit event names who searched, which kinds of identifier they searched with (never the values)
and which accounts came back (references only), so insider-risk analytics can see discovery used
without a case or in bulk.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.identity.profile import parse_profile
from ombud.identity.schemas import DiscoveryResult, Profile
from ombud.identity.service import discover
from ombud.keys import KeyRing
from ombud.staff.models import Employee

_AUDITED_ACCOUNTS = 50


def discover_for_employee(
    session: Session,
    keys: KeyRing,
    employee: Employee,
    profile: Profile | dict[str, Any],
    *,
    threshold: float = 0.5,
    include_below_threshold: bool = True,
    purpose: str | None = None,
) -> DiscoveryResult:
    """Run discovery for an employee and record it in the audit log (same transaction)."""
    if not isinstance(profile, Profile):
        profile = parse_profile(profile)
    result = discover(session, keys, profile, threshold=threshold, include_below_threshold=include_below_threshold)
    searched = sorted(name for name, value in profile.model_dump().items() if value)
    accounts = [m.account_id for m in result.matches if m.account_id][:_AUDITED_ACCOUNTS]
    append_event(session, AuditEvent(
        action="identity.discover",
        actor_type="employee",
        actor_id=employee.external_id,
        subject_type="identity_search",
        fields=tuple(searched),
        purpose=purpose,
        decision="allow",
        detail={"matches": len(result.matches), "below_threshold": len(result.below_threshold),
                "accounts": accounts, "threshold": str(threshold)},
    ))
    return result
