"""Purposes owned by other domains, checked by the broker through an explicit registry.

The access domain imports no other domain, yet a victim's records request (``request:<id>``) is a purpose the
broker must judge. The owning domain registers one check per purpose kind; the broker asks it on every read
and fails closed (refuses) when no check is registered in the process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ombud.access.models import PurposeKind


@dataclass(frozen=True, slots=True)
class PurposeAnswer:
    """Whether the purpose covers this read: a problem (refused) or None, and the purpose and case type the Cedar
    policies see (a victim's request is decided exactly as a ``victim_request`` case is)."""

    problem: str | None
    case_type: str = ""
    policy_purpose: str = "case"


#: (session, employee, purpose id, customer id, now) -> answer.
PurposeCheck = Callable[[Session, Any, int, str, datetime], PurposeAnswer]

#: Checks of the purpose kinds other domains own, by kind.
CHECKS: dict[PurposeKind, PurposeCheck] = {}


def register(kind: PurposeKind, check: PurposeCheck) -> None:
    """Install the check of a purpose kind (the owning domain calls this once)."""
    if kind in (PurposeKind.case, PurposeKind.grant, PurposeKind.break_glass, PurposeKind.none):
        raise ValueError(f"purpose kind {kind.value} is the broker's own")
    CHECKS[kind] = check


def check(session: Session, kind: PurposeKind, employee: Any, purpose_id: int, customer_id: str,
          now: datetime) -> PurposeAnswer:
    """The registered check's answer; a refusal when no domain registered one for this kind."""
    found = CHECKS.get(kind)
    if found is None:
        return PurposeAnswer(f"purposes of kind {kind.value} are not available here")
    return found(session, employee, purpose_id, customer_id, now)
