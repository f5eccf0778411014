"""What the faces show of a request: the queue rows and the request page, assembled once for API, pages and CLI.

Opening a request's page decrypts the requester's identifiers for a member of staff who may work the request;
that opening is an audit leaf (``victim_request.view``) like any other look at personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.keys import KeyRing
from ombud.staff.models import Employee
from ombud.victim_requests import deadline, discovery, service, states, trail
from ombud.victim_requests.models import (
    RequestDecline,
    RequestEvent,
    RequestEvidence,
    RequestMatch,
    RequestVerification,
    VictimRequest,
)
from ombud.victim_requests.schemas import (
    DeclineRead,
    EventRead,
    EvidenceRead,
    MatchRead,
    RequestDetail,
    RequestSummary,
    VerificationRead,
)


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Employee.id, Employee.external_id).where(Employee.id.in_(wanted)))
    return {i: ext for i, ext in rows}  # noqa: C416 (rows, not pairs, to a type checker)


def summary(session: Session, settings: Settings, request: VictimRequest, *, now: datetime | None = None,
            names: dict[int, str] | None = None, previous: dict[int, str] | None = None) -> RequestSummary:
    """A queue row."""
    now = now or clock.now()
    zone = service.zone_of(settings)
    names = names if names is not None else _names(session, {request.assignee_id})
    if previous is None:
        earlier = session.get(VictimRequest, request.previous_request_id) if request.previous_request_id else None
        previous = {request.previous_request_id: earlier.reference} if earlier and request.previous_request_id else {}
    running = request.status in states.CLOCK_RUNNING
    return RequestSummary(
        id=request.id, reference=request.reference, status=request.status, channel=request.channel,
        received_at=request.received_at, due_at=request.due_at,
        days_left=deadline.days_left(request.due_at, now, zone),
        overdue=running and deadline.is_overdue(request.due_at, now),
        assignee=names.get(request.assignee_id) if request.assignee_id else None,
        repeat_of=previous.get(request.previous_request_id) if request.previous_request_id else None,
    )


def summaries(session: Session, settings: Settings, rows: list[VictimRequest]) -> list[RequestSummary]:
    """Queue rows for many requests (employee and earlier-request names looked up once)."""
    now = clock.now()
    names = _names(session, {r.assignee_id for r in rows})
    prev_ids = {r.previous_request_id for r in rows if r.previous_request_id}
    previous = dict(session.execute(select(VictimRequest.id, VictimRequest.reference)
                                    .where(VictimRequest.id.in_(prev_ids))).tuples().all()) if prev_ids else {}
    return [summary(session, settings, r, now=now, names=names, previous=previous) for r in rows]


def detail(session: Session, keys: KeyRing, settings: Settings, request: VictimRequest,
           viewer: Employee | None) -> RequestDetail:
    """The request page; refuses (PolicyDenied) anyone who may not work the request, and audits the opening."""
    service.require_worker(request, viewer)
    trail.record(session, "victim_request.view", viewer, request.id, fields=("identifiers", "contact"),
                 decision="allow")
    now = clock.now()
    zone = service.zone_of(settings)
    evidence = list(session.scalars(select(RequestEvidence).where(RequestEvidence.request_id == request.id)
                                    .order_by(RequestEvidence.id)))
    verifications = list(session.scalars(select(RequestVerification)
                                         .where(RequestVerification.request_id == request.id)
                                         .order_by(RequestVerification.id)))
    matches = list(session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id)
                                   .order_by(RequestMatch.probability.desc().nulls_last(), RequestMatch.id)))
    declines = list(session.scalars(select(RequestDecline).where(RequestDecline.request_id == request.id)
                                    .order_by(RequestDecline.id)))
    events = list(session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                                  .order_by(RequestEvent.at, RequestEvent.id)))
    names = _names(session, {request.assignee_id, *(e.uploaded_by_id for e in evidence),
                             *(v.decided_by_id for v in verifications), *(m.decided_by_id for m in matches),
                             *(d.proposed_by_id for d in declines), *(d.reviewed_by_id for d in declines)})
    texts = discovery.summaries(keys, matches)
    base = summary(session, settings, request, now=now, names=names)
    return RequestDetail(
        **base.model_dump(),
        day=deadline.day_number(request.received_at, now, zone),
        verified_at=request.verified_at, delivered_at=request.delivered_at, closed_at=request.closed_at,
        escalated_at=request.escalated_at, overdue_at=request.overdue_at, team=request.team,
        identifiers=service.identifiers_of(keys, request), contact=service.contact_of(keys, request),
        known=service.known_of(keys, request), agency=service.agency_of(keys, request),
        cards=[c["last4"] for c in request.cards or []],
        evidence=[EvidenceRead(id=e.id, kind=e.kind, content_type=e.content_type, size=e.size, sha256=e.sha256,
                               uploaded_at=e.uploaded_at,
                               uploaded_by=names.get(e.uploaded_by_id, "requester") if e.uploaded_by_id
                               else "requester") for e in evidence],
        verifications=[VerificationRead(decided_by=names.get(v.decided_by_id) if v.decided_by_id else None,
                                        decided_at=v.decided_at, confident=v.confident, basis=v.basis, note=v.note)
                       for v in verifications],
        matches=[MatchRead(id=m.id, subject_kind=m.subject_kind, subject_id=m.subject_id, account_ref=m.account_ref,
                           probability=m.probability, suggested=m.suggested, summary=texts[m.id].get("summary"),
                           signals=texts[m.id].get("signals") or [], explanation=texts[m.id].get("explanation") or [],
                           verdict=m.verdict, note=m.note,
                           decided_by=names.get(m.decided_by_id) if m.decided_by_id else None,
                           decided_at=m.decided_at) for m in matches],
        declines=[decline_read(session, d, names) for d in declines],
        timeline=[EventRead(at=e.at, kind=e.kind, from_status=e.from_status, to_status=e.to_status,
                            actor=e.actor_id if e.actor_type == "employee" else e.actor_type, detail=e.detail,
                            audit_index=e.audit_index) for e in events],
        earlier_requests=[r.reference for r in service.earlier_requests(session, request)],
    )


def decline_read(session: Session, d: RequestDecline, names: dict[int, str] | None = None) -> DeclineRead:
    """A decline as the faces show it."""
    names = names if names is not None else _names(session, {d.proposed_by_id, d.reviewed_by_id})
    return DeclineRead(id=d.id, ground=d.ground, ground_text=states.GROUND_TEXT[d.ground], explanation=d.explanation,
                       state=d.state.value, proposed_by=names.get(d.proposed_by_id) if d.proposed_by_id else None,
                       proposed_at=d.proposed_at, reviewed_at=d.reviewed_at,
                       reviewed_by=names.get(d.reviewed_by_id) if d.reviewed_by_id else None)


def public_status(settings: Settings, request: VictimRequest, session: Session) -> dict[str, object]:
    """What the requester's status page shows: the stage, the dates, what we asked for; nothing else."""
    now = clock.now()
    zone = service.zone_of(settings)
    asked = session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id,
                                                       RequestEvent.kind == "information_requested")
                            .order_by(RequestEvent.id.desc())).first()
    decline = session.scalar(select(RequestDecline).where(RequestDecline.request_id == request.id,
                                                          RequestDecline.state == "confirmed"))
    return {
        "reference": request.reference, "status": request.status, "label": states.LABELS[request.status],
        "received": request.received_at.astimezone(zone), "due": request.due_at.astimezone(zone),
        "days_left": deadline.days_left(request.due_at, now, zone), "open": request.status in states.OPEN,
        "needs_information": request.status.value == "needs_information",
        "asked": asked.detail.get("what") if asked is not None else None,
        "ground_text": states.GROUND_TEXT[decline.ground] if decline is not None else None,
        "timezone": settings.requests_timezone,
    }
