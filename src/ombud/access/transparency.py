"""What a customer may know about staff access to their data: when, which data classes, for what kind of
purpose, and which team and region looked — never the employee's name or id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.access import events
from ombud.access.cases import check_customer_id
from ombud.access.classes import DESCRIPTIONS, DataClass
from ombud.access.models import BreakGlass, BreakGlassReview, PurposeKind

#: Purpose categories as a customer reads them.
CATEGORIES: dict[str, str] = {
    "victim_request": "your identity-theft records request",
    "support_ticket": "a customer-service request",
    "insider_investigation": "an investigation of possible staff misuse",
    "incident": "a security incident",
    "grant": "a one-off access approved by a second person",
    "break_glass": "emergency access, checked by our security team",
}
#: Emergency access as a customer reads it, by the state of security's review: "reviewed" only once reviewed, and
#: an unjustified use is called what it was.
BREAK_GLASS_LABELS: dict[BreakGlassReview, str] = {
    BreakGlassReview.pending: "emergency access, awaiting review by our security team",
    BreakGlassReview.justified: "emergency access, reviewed and found justified by our security team",
    BreakGlassReview.unjustified: "emergency access that our security team reviewed and found NOT justified",
}


@dataclass(frozen=True)
class AccessEntry:
    """One access to a customer's data, as shown to that customer."""

    at: datetime
    data_classes: tuple[DataClass, ...]
    purpose_category: str
    purpose_label: str
    team: str
    region: str

    @property
    def described(self) -> list[str]:
        return [DESCRIPTIONS[cls] for cls in self.data_classes]


def category_of(purpose_kind: PurposeKind, case_type: str | None) -> str:
    """The purpose category key of a decision."""
    if purpose_kind is PurposeKind.case:
        return case_type or "support_ticket"
    if purpose_kind is PurposeKind.request:  # a victim's records request, read for directly
        return "victim_request"
    if purpose_kind is PurposeKind.request:
        return "victim_request"
    return purpose_kind.value


def accesses(session: Session, customer_id: str, *, limit: int = 500) -> list[AccessEntry]:
    """Every read that showed this customer's data (masked-only and refused reads showed nothing), newest first.

    Read from the broker's audit leaves (``ombud.access.events``), the same events the decisions page shows.
    """
    customer_id = check_customer_id(customer_id)
    shown = events.shown_to_staff(session, customer_id, limit=limit)
    glass_ids = {e.purpose_id for e in shown if e.purpose_kind is PurposeKind.break_glass and e.purpose_id}
    verdicts: dict[int, BreakGlassReview] = {}
    if glass_ids:
        found = session.execute(select(BreakGlass.id, BreakGlass.review).where(BreakGlass.id.in_(glass_ids)))
        verdicts = {row[0]: row[1] for row in found}
    out = []
    for event in shown:
        category = category_of(event.purpose_kind, event.case_type)
        label = CATEGORIES.get(category, category)
        if event.purpose_kind is PurposeKind.break_glass:
            label = BREAK_GLASS_LABELS[verdicts.get(event.purpose_id, BreakGlassReview.pending)]
        out.append(AccessEntry(
            at=event.at, data_classes=event.classes_allowed, purpose_category=category,
            purpose_label=label, team=event.team, region=event.region,
        ))
    return out
