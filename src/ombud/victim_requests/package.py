"""A request's records package: built from the matches an agent confirmed as fraud, again on every repeat.

Only matches with the verdict `fraud` go in; the victim's own accounts and unrelated ones never do. Generating
writes the package's audit leaf (the manifest's hash, see ombud.records.service) and a line on the timeline.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.config import Settings
from ombud.errors import InvalidTransition
from ombud.records import service as records
from ombud.records.models import RecordsPackage
from ombud.victim_requests import service, trail
from ombud.victim_requests.models import MatchVerdict, RequestMatch, VictimRequest
from ombud.victim_requests.states import Status

#: States in which a package may be (re)generated: once the review is finished, and after delivery (a fix).
PACKAGE_STATES = frozenset({Status.package, Status.delivered, Status.remediating})


def fraud_subjects(session: Session, request: VictimRequest) -> list[dict[str, str]]:
    """The subjects an agent confirmed as fraud on this request."""
    matches = session.scalars(select(RequestMatch).where(
        RequestMatch.request_id == request.id, RequestMatch.verdict == MatchVerdict.fraud,
    ).order_by(RequestMatch.id))
    return [{"kind": m.subject_kind.value, "id": m.subject_id} for m in matches]


def package_request(session: Session, settings: Settings, request: VictimRequest, *, actor: trail.Actor,
                    include_navigational: bool = False) -> RecordsPackage:
    """Generate (or regenerate) the request's package from its confirmed-fraud matches."""
    if request.status not in PACKAGE_STATES:
        raise InvalidTransition(f"request {request.reference} is {request.status.value}: its package is made once "
                                "the review of the accounts found is finished")
    subjects = fraud_subjects(session, request)
    if not subjects:
        raise InvalidTransition(f"request {request.reference} has no account confirmed as fraud")
    actor_type, actor_id = trail.actor_of(actor)
    package = records.generate_package(
        session, settings, subjects=subjects, reference=request.reference, actor_type=actor_type, actor_id=actor_id,
        request_id=request.id, include_navigational=include_navigational,
    )
    service.add_event(session, request, "package.generated", actor, audit_index=package.audit_index, detail={
        "package": package.file_name, "version": package.version, "manifest_sha256": package.manifest_sha256,
        "accounts": package.counts.get("accounts", 0), "orders": package.counts.get("orders", 0),
        "navigational_included": include_navigational,
    })
    return package
