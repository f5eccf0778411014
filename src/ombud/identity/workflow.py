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


def record_operator_run(session: Session, *, operator: str, mode: str, profiles: int, errors: int,
                        accounts: list[str], source_sha256: str) -> int:
    """Record an operators' discovery run (``ombud discover``: evaluation and look-back runs, outside the console)
    as such: who ran it, how many profiles, which accounts came back (the first ones, references only), and the
    hash of the input file. Returns the leaf index."""
    return append_event(session, AuditEvent(
        action="identity.discover.operator_run",
        actor_type="system",
        actor_id=f"cli:{operator}"[:100],
        subject_type="identity_search",
        purpose=f"operator:{mode}",
        decision="allow",
        detail={"profiles": profiles, "errors": errors, "accounts_found": len(accounts),
                "accounts": sorted(accounts)[:_AUDITED_ACCOUNTS], "input_sha256": source_sha256},
    ))
