"""The victim-request workflow: the one ``transition()``, and the decisions that move a request.

``transition(session, request, to_status, *, actor, reason=None)`` refuses a move the state machine does not
allow, stamps the time, and writes exactly one audit leaf (``victim_request.transition``) and one timeline
line in the same transaction. Everything else here decides something and then calls it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.errors import InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.keys import KeyRing
from ombud.staff.models import Employee, Role
from ombud.victim_requests import mail, service, states, trail
from ombud.victim_requests.models import (
    DeclineState,
    MatchVerdict,
    RequestDecline,
    RequestMatch,
    RequestVerification,
    VictimRequest,
)
from ombud.victim_requests.states import DeclineGround, Status

_STAMPS = {
    Status.verified: "verified_at",
    Status.delivered: "delivered_at",
    Status.closed: "closed_at",
    Status.declined: "closed_at",
}
BASES = ("identifiers_match_records", "government_id_checked", "report_present", "affidavit_present",
         "applicant_information")


def transition(session: Session, request: VictimRequest, to_status: Status | str, *, actor: trail.Actor,
               reason: str | None = None) -> VictimRequest:
    """Move a request if the state machine allows it; stamps the time; one audit leaf, same transaction."""
    try:
        to = Status(to_status)
    except ValueError:
        raise InvalidInput(f"no status {to_status!r}", field="to") from None
    current = request.status
    if not states.allowed(current, to):
        raise InvalidTransition(f"request {request.reference} cannot go from {current.value} to {to.value}")
    if to is Status.declined and _confirmed_decline(session, request) is None:
        raise InvalidTransition("a request is declined only by a decline a privacy officer confirmed")
    if to is Status.closed:
        from ombud.victim_requests.remediation import unconfirmed_steps  # imported here: it imports this module

        waiting = unconfirmed_steps(session, request.id)
        if waiting:
            raise InvalidTransition(f"request {request.reference} cannot close: {len(waiting)} remediation step(s) "
                                    "are not confirmed yet")
    now = clock.now()
    reason = (reason or "").strip()[:500] or None
    request.status = to
    request.status_changed_at = now
    stamp = _STAMPS.get(to)
    if stamp is not None:
        setattr(request, stamp, now)
    if to not in states.CLOCK_RUNNING:
        request.next_check_at = None  # the records went out, or the request was declined: the clock stops
    session.flush()
    index = trail.record(session, "victim_request.transition", actor, request.id, detail={
        "reference": request.reference, "from": current.value, "to": to.value, "reason_given": reason is not None,
        "overdue": now > request.due_at,
    })
    service.add_event(session, request, "transition", actor, from_status=current.value, to_status=to.value,
                      detail={"reason": reason} if reason else {}, audit_index=index, at=now)
    return request


def _confirmed_decline(session: Session, request: VictimRequest) -> RequestDecline | None:
    return session.scalar(select(RequestDecline).where(RequestDecline.request_id == request.id,
                                                       RequestDecline.state == DeclineState.confirmed))


def _staff(actor: Employee | None, request: VictimRequest) -> None:
    service.require_worker(request, actor)


# --- receipt -----------------------------------------------------------------------------------------------


def send_receipt(session: Session, keys: KeyRing, settings: Settings, request: VictimRequest, token: str) -> bool:
    """Queue the receipt: reference, status link, due date, what happens next."""
    contact = service.contact_of(keys, request)
    return mail.queue(session, request, to=contact.get("email"), recipient="requester",
                      template="victim_request_receipt", dedupe_key=f"vr:{request.id}:receipt", context={
                          "name": contact.get("name"), "reference": request.reference,
                          "received_date": mail.local_date(settings, request.received_at),
                          "due_date": mail.local_date(settings, request.due_at),
                          "status_url": status_url(settings, token),
                      })


def status_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/request/status/{token}"


# --- verification ------------------------------------------------------------------------------------------


def start_verification(session: Session, request: VictimRequest, *, actor: Employee | None) -> VictimRequest:
    """A verifier takes the request up."""
    _staff(actor, request)
    return transition(session, request, Status.verifying, actor=actor)


def verify(session: Session, keys: KeyRing, request: VictimRequest, *, actor: Employee | None, confident: bool,
           basis: list[str], note: str | None = None) -> RequestVerification:
    """Record the verifier's decision and its basis; confident moves the request to verified.

    Not confident leaves the request where it is (ask for more information, or propose a decline on the
    identity ground): the decision and its basis are on the record either way.
    """
    _staff(actor, request)
    unknown = sorted(set(basis) - set(BASES))
    if unknown:
        raise InvalidInput(f"unknown basis {', '.join(unknown)}; one of {', '.join(BASES)}", field="basis")
    if confident and not basis:
        raise InvalidInput("a confident verification names its basis", field="basis")
    if request.status not in (Status.received, Status.verifying, Status.needs_information):
        raise InvalidTransition(f"request {request.reference} is {request.status.value}; it is not being verified")
    record = RequestVerification(request_id=request.id, decided_by_id=actor.id if actor else None,
                                 decided_at=clock.now(), confident=confident, basis=sorted(set(basis)),
                                 note=(note or "").strip() or None)
    session.add(record)
    session.flush()
    detail: dict[str, Any] = {"confident": confident, "basis": sorted(set(basis)), "verification_id": record.id}
    index = trail.record(session, "victim_request.verify", actor, request.id, detail=detail,
                         decision="confident" if confident else "not_confident")
    service.add_event(session, request, "verification", actor, detail=detail, audit_index=index)
    if confident:
        transition(session, request, Status.verified, actor=actor)
    return record


def request_information(session: Session, keys: KeyRing, settings: Settings, request: VictimRequest, *,
                        actor: Employee | None, what: str) -> VictimRequest:
    """Ask the requester for more (proof of identity or of the claim); the 30-day clock keeps running."""
    _staff(actor, request)
    what = (what or "").strip()
    if not 10 <= len(what) <= 2000:
        raise InvalidInput("say in 10 to 2000 characters what the requester should send", field="what")
    asked = sum(1 for e in request_events(session, request) if e.kind == "information_requested")
    service.add_event(session, request, "information_requested", actor, detail={"what": what})
    transition(session, request, Status.needs_information, actor=actor)
    contact = service.contact_of(keys, request)
    mail.queue(session, request, to=contact.get("email"), recipient="requester",
               template="victim_request_information", dedupe_key=f"vr:{request.id}:information:{asked + 1}",
               context={"name": contact.get("name"), "reference": request.reference, "what": what,
                        "due_date": mail.local_date(settings, request.due_at)})
    return request


def request_events(session: Session, request: VictimRequest) -> list[Any]:
    from ombud.victim_requests.models import RequestEvent

    return list(session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)
                                .order_by(RequestEvent.at, RequestEvent.id)))


def information_received(session: Session, request: VictimRequest) -> None:
    """The requester sent what was asked (a file through their link): back to verification."""
    if request.status is Status.needs_information:
        transition(session, request, Status.verifying, actor="victim", reason="the requester sent more information")


# --- declines ----------------------------------------------------------------------------------------------


def propose_decline(session: Session, request: VictimRequest, *, actor: Employee, ground: DeclineGround | str,
                    explanation: str) -> RequestDecline:
    """Propose declining on one of the four statutory grounds (free text alone never declines)."""
    _staff(actor, request)
    try:
        parsed = states.parse_ground(ground)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="ground") from None
    explanation = (explanation or "").strip()
    if len(explanation) < 20:
        raise InvalidInput("explain in at least 20 characters what the decline rests on", field="explanation")
    if request.status not in states.CLOCK_RUNNING:
        raise InvalidTransition(f"request {request.reference} is {request.status.value}; it cannot be declined")
    pending = session.scalar(select(RequestDecline).where(RequestDecline.request_id == request.id,
                                                          RequestDecline.state == DeclineState.proposed))
    if pending is not None:
        raise InvalidTransition(f"a decline of {request.reference} already waits for review")
    decline = RequestDecline(request_id=request.id, ground=parsed, explanation=explanation,
                             state=DeclineState.proposed, proposed_by_id=actor.id, proposed_at=clock.now())
    session.add(decline)
    session.flush()
    detail = {"decline_id": decline.id, "ground": parsed.value}
    index = trail.record(session, "victim_request.decline.propose", actor, request.id, detail=detail)
    service.add_event(session, request, "decline_proposed", actor, detail=detail, audit_index=index)
    return decline


def review_decline(session: Session, keys: KeyRing, request: VictimRequest, decline_id: int, *, actor: Employee,
                   confirm: bool, note: str | None = None) -> RequestDecline:
    """A privacy officer who did not propose it confirms (the request is declined, the letter queued) or rejects."""
    decline = session.get(RequestDecline, decline_id)
    if decline is None or decline.request_id != request.id:
        raise NotFound(f"no decline {decline_id} on request {request.reference}")
    if decline.state is not DeclineState.proposed:
        raise InvalidTransition(f"decline {decline_id} is already {decline.state.value}")
    if actor.role is not Role.privacy_officer or not actor.active:
        raise PolicyDenied("a privacy officer reviews declines")
    if decline.proposed_by_id == actor.id:
        raise PolicyDenied("a decline is confirmed by a privacy officer other than the person who proposed it")
    decline.state = DeclineState.confirmed if confirm else DeclineState.rejected
    decline.reviewed_by_id, decline.reviewed_at = actor.id, clock.now()
    decline.review_note = (note or "").strip() or None
    session.flush()
    detail = {"decline_id": decline.id, "ground": decline.ground.value, "confirmed": confirm}
    index = trail.record(session, "victim_request.decline.review", actor, request.id, detail=detail,
                         decision="confirm" if confirm else "reject")
    service.add_event(session, request, "decline_reviewed", actor, detail=detail, audit_index=index)
    if confirm:
        transition(session, request, Status.declined, actor=actor, reason=f"statutory ground: {decline.ground.value}")
        contact = service.contact_of(keys, request)
        mail.queue(session, request, to=contact.get("email"), recipient="requester",
                   template="victim_request_decline", dedupe_key=f"vr:{request.id}:decline:{decline.id}",
                   context={"name": contact.get("name"), "reference": request.reference,
                            "ground": decline.ground.value, "ground_text": states.GROUND_TEXT[decline.ground]})
    return decline


# --- discovery review ---------------------------------------------------------------------------------------


def set_verdict(session: Session, request: VictimRequest, match_id: int, *, actor: Employee,
                verdict: MatchVerdict | str, note: str | None = None) -> RequestMatch:
    """An agent marks a found account, card or application as fraud, the victim's own, or not related."""
    _staff(actor, request)
    if request.status not in (Status.discovery, Status.review):
        raise InvalidTransition(f"request {request.reference} is {request.status.value}; its matches are settled")
    match = session.get(RequestMatch, match_id)
    if match is None or match.request_id != request.id:
        raise NotFound(f"no match {match_id} on request {request.reference}")
    try:
        parsed = MatchVerdict(verdict)
    except ValueError:
        raise InvalidInput("a verdict is fraud, own or unrelated", field="verdict") from None
    previous = match.verdict
    match.verdict, match.note = parsed, (note or "").strip() or None
    match.decided_by_id, match.decided_at = actor.id, clock.now()
    session.flush()
    detail = {"match_id": match.id, "subject_kind": match.subject_kind.value, "subject_id": match.subject_id,
              "verdict": parsed.value, "previous": previous.value if previous else None}
    index = trail.record(session, "victim_request.match.verdict", actor, request.id, detail=detail,
                         customer_id=match.account_ref)
    service.add_event(session, request, "verdict", actor, detail=detail, audit_index=index)
    return match


def finish_review(session: Session, request: VictimRequest, *, actor: Employee) -> VictimRequest:
    """Every match has a verdict and at least one is fraud: the request moves on to its records package."""
    _staff(actor, request)
    matches = list(session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id)))
    open_ones = [m for m in matches if m.verdict is None]
    if open_ones:
        raise InvalidTransition(f"{len(open_ones)} matches of {request.reference} have no verdict yet")
    if not any(m.verdict is MatchVerdict.fraud for m in matches):
        raise InvalidTransition("no match is marked fraud: run discovery again, or propose a decline on the ground "
                                "that no records of a fraudulent transaction exist (not_required)")
    if request.status is Status.discovery:
        transition(session, request, Status.review, actor=actor)
    return transition(session, request, Status.package, actor=actor)
