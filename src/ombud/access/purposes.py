"""Purposes owned by other domains, checked by the broker through an explicit registry.

The access domain imports no other domain, yet a victim's records request (``request:<id>``) is a purpose the
broker must judge. The owning domain registers one check per purpose kind; the broker asks it on every read
and fails closed (refuses) when no check is registered in the process.

The same domain also holds documents that are opened under such a purpose (a victim's evidence files): it
registers a document check that says whether the document belongs to the purpose and gives the facts the
Cedar policies decide on (``ombud.access.documents``).
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


#: The purpose kinds the broker checks itself: no other domain registers a check for them.
_OWN = frozenset({PurposeKind.case, PurposeKind.grant, PurposeKind.break_glass, PurposeKind.none})


def _install(table: dict[PurposeKind, Any], kind: PurposeKind, check: Any, refusal: str) -> None:
    if kind in _OWN:
        raise ValueError(f"purpose kind {kind.value} {refusal}")
    table[kind] = check


def register(kind: PurposeKind, check: PurposeCheck) -> None:
    """Install the check of a purpose kind (the owning domain calls this once)."""
    _install(CHECKS, kind, check, "is the broker's own")


def check(session: Session, kind: PurposeKind, employee: Any, purpose_id: int, customer_id: str,
          now: datetime) -> PurposeAnswer:
    """The registered check's answer; a refusal when no domain registered one for this kind."""
    found = CHECKS.get(kind)
    if found is None:
        return PurposeAnswer(f"purposes of kind {kind.value} are not available here")
    return found(session, employee, purpose_id, customer_id, now)


@dataclass(frozen=True, slots=True)
class DocumentAnswer:
    """What the owning domain knows of a document opened under a purpose: a problem (refused before the policies
    are asked: no such request, the document is not the request's) or None, and the facts the policies decide on."""

    problem: str | None
    #: How people name the purpose (a request's reference, VR-...).
    label: str = ""
    stage: str = ""
    open: bool = False
    days_closed: int = 0
    assigned_to_me: bool = False
    assigned_to_my_team: bool = False
    document_kind: str = ""
    #: The requester's country when known (the region guard compares it); None reads as the default country.
    country: str | None = None


#: (session, employee, purpose id, document id, now) -> answer.
DocumentCheck = Callable[[Session, Any, int, int, datetime], DocumentAnswer]

#: Checks of documents held under the purpose kinds other domains own, by kind.
DOCUMENTS: dict[PurposeKind, DocumentCheck] = {}


def register_documents(kind: PurposeKind, check: DocumentCheck) -> None:
    """Install the document check of a purpose kind (the owning domain calls this once)."""
    _install(DOCUMENTS, kind, check, "holds no documents")


def document_check(session: Session, kind: PurposeKind, employee: Any, purpose_id: int, document_id: int,
                   now: datetime) -> DocumentAnswer:
    """The registered document check's answer; a refusal when no domain registered one for this kind."""
    found = DOCUMENTS.get(kind)
    return (found(session, employee, purpose_id, document_id, now) if found is not None
            else DocumentAnswer(f"documents under purposes of kind {kind.value} are not available here"))
