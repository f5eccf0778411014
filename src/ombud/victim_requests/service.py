"""The victim-requests service: intake, evidence, verification, information requests, declines, verdicts.

Plain functions on a session that flush but never commit; every state change goes through
``workflow.transition``; every decision writes its audit leaf in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import documents
from ombud.access.documents import DocumentDecision
from ombud.config import Settings
from ombud.crypto import card_fingerprint, keyed_hash
from ombud.db import row_id
from ombud.errors import ConfigurationError, InvalidInput, NotFound, PolicyDenied
from ombud.identity.normalize import fold, normalize_email
from ombud.keys import KeyRing
from ombud.staff.models import Employee, Role
from ombud.victim_requests import deadline, purpose, states, trail  # noqa: F401  (purpose: registers request:<id>)
from ombud.victim_requests.models import (
    EvidenceKind,
    RequestEvent,
    RequestEvidence,
    VictimRequest,
)
from ombud.victim_requests.protect import open_bytes, open_json, seal_bytes, seal_json
from ombud.victim_requests.schemas import LetterIn, RequestCreate
from ombud.victim_requests.states import Channel, Status
from ombud.victim_requests.uploads import MAX_FILES, CheckedFile, UploadError, check_file

IDENTIFIERS = "victim_request.identifiers"
CONTACT = "victim_request.contact"
KNOWN = "victim_request.known"
AGENCY = "victim_request.agency"
FILE_NAME = "victim_request_evidence.filename"
FILE_DATA = "victim_request_evidence.data"
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read aloud over the phone
_WORKERS = (Role.agent, Role.privacy_officer)


# --- who may do what ---------------------------------------------------------------------------------------


def may_work(request: VictimRequest, employee: Any) -> bool:
    """Privacy officers work every request; agents those assigned to them or their team."""
    if employee is None:
        return True
    if not getattr(employee, "active", True):
        return False
    if employee.role is Role.privacy_officer:
        return True
    if employee.role is not Role.agent:
        return False
    return request.assignee_id == employee.id or (request.team is not None and request.team == employee.team)


def require_worker(request: VictimRequest, employee: Employee | None) -> None:
    """PolicyDenied unless the employee may work this request."""
    if not may_work(request, employee):
        raise PolicyDenied(f"request {request.reference} is not assigned to you or your team")


def zone_of(settings: Settings) -> ZoneInfo:
    """The designated channel's time zone."""
    try:
        return ZoneInfo(settings.requests_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"OMBUD_REQUESTS_TIMEZONE {settings.requests_timezone!r} is not a time zone") from exc


# --- intake ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """An evidence file as received (checked by ``check_uploads`` before anything is written)."""

    kind: EvidenceKind
    filename: str | None
    data: bytes
    field: str = "file"


@dataclass
class Intake:
    """A new (or, for a repeated submission of the same form, the existing) request and its status token."""

    request: VictimRequest
    token: str
    created: bool
    repeat_of: VictimRequest | None


def check_uploads(settings: Settings, uploads: Sequence[Upload]) -> list[tuple[Upload, CheckedFile]]:
    """Every upload checked by content and size; InvalidInput naming the field of the first refused one."""
    if len(uploads) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files per request", field="files")
    limit = settings.requests_max_upload_mb * 1024 * 1024
    out = []
    for upload in uploads:
        try:
            out.append((upload, check_file(upload.filename, upload.data, max_bytes=limit, field=upload.field)))
        except UploadError as exc:
            raise InvalidInput(f"{exc.field}: {exc}", field=exc.field) from None
    return out


def _new_reference(session: Session) -> str:
    for _ in range(20):
        raw = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
        reference = f"VR-{raw[:4]}-{raw[4:]}"
        if session.scalar(select(VictimRequest.id).where(VictimRequest.reference == reference)) is None:
            return reference
    raise RuntimeError("could not draw a free request reference")


def status_token(keys: KeyRing, idempotency_key: str | None) -> str:
    """A secret status token: derived from the form's idempotency key (so a resubmitted form shows the same
    link again) or random. Only its SHA-256 is stored."""
    if idempotency_key:
        mac = hmac.new(keys.session_secret, b"victim-request-status:" + idempotency_key.encode(), hashlib.sha256)
        return mac.hexdigest()
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _identifiers(data: RequestCreate) -> dict[str, Any]:
    """The discovery profile of the request: the victim's own identifiers only."""
    addresses = [a.model_dump() for a in ([data.address] if data.address else []) + list(data.previous_addresses)]
    return {
        "names": [data.full_name, *data.other_names],
        "emails": [e for e in [data.email, *data.other_emails] if e],
        "phones": [p for p in [data.phone, *data.other_phones] if p],
        "addresses": addresses,
        "date_of_birth": data.date_of_birth,
        "ssn": data.ssn,
    }


def _hashes(keys: KeyRing, data: RequestCreate) -> dict[str, str | None]:
    key = keys.identifier_hash_key
    email = normalize_email(data.email) if data.email else None
    name = fold(data.full_name)
    return {
        "email_hash": keyed_hash(key, "vr-email", email) if email else None,
        "ssn_hash": keyed_hash(key, "vr-ssn", data.ssn) if data.ssn else None,
        "name_dob_hash": keyed_hash(key, "vr-name-dob", f"{name}|{data.date_of_birth}") if data.date_of_birth else None,
    }


def _earlier(session: Session, hashes: dict[str, str | None]) -> VictimRequest | None:
    conditions = [getattr(VictimRequest, k) == v for k, v in hashes.items() if v]
    if not conditions:
        return None
    return session.scalars(
        select(VictimRequest).where(or_(*conditions))
        .order_by(VictimRequest.received_at.desc(), VictimRequest.id.desc())
    ).first()


def submit(
    session: Session, keys: KeyRing, settings: Settings, data: RequestCreate, *, channel: Channel,
    received_at: datetime | None = None, entered_by: Employee | None = None, idempotency_key: str | None = None,
    uploads: Sequence[Upload] = (),
) -> Intake:
    """Take a request in: the clock starts at receipt; the requester gets a reference and a secret status link.

    A second submission with the same idempotency key returns the first request (nothing new is written).
    Uploads are all checked before anything is written: a refused file leaves no request behind.
    """
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip()
        if not 16 <= len(idempotency_key) <= 80:
            raise InvalidInput("an idempotency key has 16 to 80 characters", field="idempotency_key")
        existing = session.scalar(select(VictimRequest).where(VictimRequest.idempotency_key == idempotency_key))
        if existing is not None:
            return Intake(existing, status_token(keys, idempotency_key), False,
                          session.get(VictimRequest, existing.previous_request_id)
                          if existing.previous_request_id else None)
    checked = check_uploads(settings, uploads)
    now = clock.now()
    received = clock.ensure_utc(received_at) if received_at is not None else now
    if received > now:
        raise InvalidInput("the received time cannot be in the future", field="received_at")
    zone = zone_of(settings)
    hashes = _hashes(keys, data)
    earlier = _earlier(session, hashes)
    token = status_token(keys, idempotency_key)
    contact = {"name": data.full_name, "email": data.email, "phone": data.phone,
               "address": data.address.model_dump() if data.address else None,
               "preference": data.contact_preference}
    known = {"transaction_date": data.transaction_date.isoformat() if data.transaction_date else None,
             "account_or_transaction_number": data.account_or_transaction_number,
             "description": data.description}
    request = VictimRequest(
        reference=_new_reference(session), status=Status.received, channel=channel, received_at=received,
        due_at=deadline.due_at(received, zone), entered_at=now, status_changed_at=now,
        entered_by_id=entered_by.id if entered_by else None, team=settings.requests_team,
        identifiers_enc=seal_json(keys, _identifiers(data), IDENTIFIERS),
        contact_enc=seal_json(keys, contact, CONTACT),
        known_enc=seal_json(keys, known, KNOWN) if any(known.values()) else None,
        agency_enc=seal_json(keys, data.agency.model_dump(), AGENCY) if data.agency else None,
        cards=[{"fingerprint": card_fingerprint(keys.card_fingerprint_key, n), "last4": n[-4:]}
               for n in data.card_numbers],
        previous_request_id=earlier.id if earlier else None, status_token_hash=token_hash(token),
        idempotency_key=idempotency_key, reminders_sent=0, **hashes,
    )
    from ombud.victim_requests.sweep import schedule

    schedule(request, settings)
    session.add(request)
    session.flush()
    actor: trail.Actor = entered_by if entered_by is not None else "victim"
    detail: dict[str, Any] = {
        "reference": request.reference, "channel": channel.value, "received_at": received.isoformat(),
        "due_at": request.due_at.isoformat(), "repeat_of": earlier.reference if earlier else None,
        "agency_authorised": data.agency is not None, "files": len(checked),
    }
    index = trail.record(session, "victim_request.receive", actor, request.id, detail=detail)
    add_event(session, request, "received", actor, detail=detail, audit_index=index)
    for upload, file in checked:
        _store_file(session, keys, request, upload.kind, file, entered_by, actor)
    return Intake(request, token, True, earlier)


def receive_letter(session: Session, keys: KeyRing, settings: Settings, data: LetterIn, *, entered_by: Employee,
                   uploads: Sequence[Upload] = ()) -> Intake:
    """A mailed letter or an email typed in by staff: received when it reached the designated channel."""
    if entered_by.role not in _WORKERS and entered_by.role is not Role.admin:
        raise PolicyDenied("agents and privacy officers enter letters")
    fields = RequestCreate.model_fields
    base = RequestCreate.model_validate({k: v for k, v in data.model_dump().items() if k in fields})
    return submit(session, keys, settings, base, channel=Channel(data.channel), received_at=data.received_at,
                  entered_by=entered_by, uploads=uploads)


def add_event(session: Session, request: VictimRequest, kind: str, actor: trail.Actor, *,
              detail: dict[str, Any] | None = None, from_status: str | None = None, to_status: str | None = None,
              audit_index: int | None = None, dedupe_key: str | None = None,
              at: datetime | None = None) -> RequestEvent:
    """One line on the request's timeline."""
    actor_type, actor_id = trail.actor_of(actor)
    event = RequestEvent(request_id=request.id, at=at or clock.now(), kind=kind, from_status=from_status,
                         to_status=to_status, actor_type=actor_type, actor_id=actor_id, detail=detail or {},
                         audit_index=audit_index, dedupe_key=dedupe_key)
    session.add(event)
    return event


# --- evidence ----------------------------------------------------------------------------------------------


def _store_file(session: Session, keys: KeyRing, request: VictimRequest, kind: EvidenceKind, file: CheckedFile,
                employee: Employee | None, actor: trail.Actor) -> RequestEvidence:
    evidence = RequestEvidence(
        request_id=request.id, kind=kind, content_type=file.content_type, size=len(file.data),
        sha256=hashlib.sha256(file.data).hexdigest(),
        filename_enc=keys.field_cipher.encrypt(file.filename, FILE_NAME),
        data_enc=seal_bytes(keys, file.data, FILE_DATA), uploaded_at=clock.now(),
        uploaded_by_id=employee.id if employee else None,
    )
    session.add(evidence)
    session.flush()
    detail = {"evidence_id": evidence.id, "kind": kind.value, "content_type": file.content_type,
              "size": len(file.data), "sha256": evidence.sha256}
    index = trail.record(session, "victim_request.evidence.add", actor, request.id, detail=detail)
    add_event(session, request, "evidence", actor, detail=detail, audit_index=index)
    return evidence


def add_evidence(session: Session, keys: KeyRing, settings: Settings, request: VictimRequest, upload: Upload, *,
                 actor: trail.Actor) -> RequestEvidence:
    """Attach one checked file to an open request (by the requester through their link, or by staff)."""
    if request.status not in states.OPEN:
        raise InvalidInput(f"request {request.reference} is {request.status.value}; it takes no more files",
                           field=upload.field)
    if isinstance(actor, Employee):
        require_worker(request, actor)
    count = session.scalar(select(func.count()).select_from(RequestEvidence)
                           .where(RequestEvidence.request_id == request.id)) or 0
    if count >= MAX_FILES * 3:
        raise InvalidInput("this request already holds the most files it can", field=upload.field)
    ((_, file),) = check_uploads(settings, [upload])
    return _store_file(session, keys, request, upload.kind, file, actor if isinstance(actor, Employee) else None,
                       actor)


@dataclass
class EvidenceOpening:
    """The broker's decision on opening a file, and the file (its bytes only when the decision allows)."""

    decision: DocumentDecision
    evidence: RequestEvidence
    data: bytes | None


def open_evidence(session: Session, keys: KeyRing, request: VictimRequest, evidence_id: int, employee: Any, *,
                  channel: str | None = None, operator: str | None = None) -> EvidenceOpening:
    """Open a file through the access broker with the request as purpose: one decision leaf, refusals included
    (the caller commits either way, so a refusal stays on the record); decrypted only when allowed."""
    evidence = session.get(RequestEvidence, evidence_id)
    if evidence is None or evidence.request_id != request.id:
        raise NotFound(f"no file {evidence_id} on request {request.reference}")
    decision = documents.open_document(session, employee, document_id=evidence.id,
                                       purpose=trail.purpose_of(request.id), channel=channel, operator=operator)
    if not decision.allowed:
        return EvidenceOpening(decision, evidence, None)
    return EvidenceOpening(decision, evidence, open_bytes(keys, evidence.data_enc, FILE_DATA))


# --- reading -----------------------------------------------------------------------------------------------


def get_request(session: Session, request_id: int) -> VictimRequest:
    request = session.get(VictimRequest, request_id)
    if request is None:
        raise NotFound(f"no victim request {request_id}")
    return request


def find_request(session: Session, ref: str) -> VictimRequest:
    """A request by reference (VR-XXXX-XXXX) or id."""
    text = (ref or "").strip().upper()
    if text.isascii() and text.isdigit():
        number = row_id(text)
        if number is None:
            raise NotFound(f"no victim request {text[:20]}")
        return get_request(session, number)
    request = session.scalar(select(VictimRequest).where(VictimRequest.reference == text))
    if request is None:
        raise NotFound(f"no victim request {text[:64]}")
    return request


def by_token(session: Session, token: str) -> VictimRequest:
    """The request a secret status link belongs to (NotFound for any other text)."""
    if not token or len(token) > 128:
        raise NotFound("no such request")
    request = session.scalar(select(VictimRequest).where(VictimRequest.status_token_hash == token_hash(token)))
    if request is None:
        raise NotFound("no such request")
    return request


def queue_query(*, status: Status | None = None, overdue_only: bool = False,
                mine: Employee | None = None) -> Select[tuple[VictimRequest]]:
    """The queue's requests: open ones unless a stage is asked, overdue ones only if asked, and for an agent
    only their own and their team's (a privacy officer sees every request)."""
    query = select(VictimRequest)
    if status is not None:
        query = query.where(VictimRequest.status == status)
    else:
        query = query.where(VictimRequest.status.in_(sorted(states.OPEN)))
    if overdue_only:
        query = query.where(VictimRequest.due_at < clock.now(),
                            VictimRequest.status.in_(sorted(states.CLOCK_RUNNING)))
    if mine is not None and mine.role is not Role.privacy_officer:
        query = query.where(or_(VictimRequest.assignee_id == mine.id, VictimRequest.team == mine.team))
    return query


def list_requests(session: Session, *, status: Status | None = None, overdue_only: bool = False,
                  mine: Employee | None = None, sort: str = "due", limit: int = 100, offset: int = 0,
                  ) -> tuple[list[VictimRequest], int]:
    """Requests for the queue: open ones by due date (overdue first, as they are due earliest) unless asked."""
    query = queue_query(status=status, overdue_only=overdue_only, mine=mine)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = {"due": (VictimRequest.due_at.asc(), VictimRequest.id.asc()),
             "received": (VictimRequest.received_at.desc(), VictimRequest.id.desc()),
             "reference": (VictimRequest.reference.asc(),)}.get(sort)
    if order is None:
        raise InvalidInput("sort by due, received or reference", field="sort")
    rows = session.scalars(query.order_by(*order).limit(min(max(limit, 1), 500)).offset(max(offset, 0))).all()
    return list(rows), total


def identifiers_of(keys: KeyRing, request: VictimRequest) -> dict[str, Any]:
    return open_json(keys, request.identifiers_enc, IDENTIFIERS)


def contact_of(keys: KeyRing, request: VictimRequest) -> dict[str, Any]:
    return open_json(keys, request.contact_enc, CONTACT)


def known_of(keys: KeyRing, request: VictimRequest) -> dict[str, Any]:
    return open_json(keys, request.known_enc, KNOWN) or {}


def agency_of(keys: KeyRing, request: VictimRequest) -> dict[str, Any] | None:
    return open_json(keys, request.agency_enc, AGENCY)


def earlier_requests(session: Session, request: VictimRequest) -> list[VictimRequest]:
    """The chain of earlier requests by the same person, newest first."""
    out: list[VictimRequest] = []
    seen = {request.id}
    current = request
    while current.previous_request_id and current.previous_request_id not in seen and len(out) < 50:
        current = session.get(VictimRequest, current.previous_request_id)
        if current is None:
            break
        seen.add(current.id)
        out.append(current)
    return out


def assign(session: Session, request: VictimRequest, *, actor: Employee | None, assignee: Employee | None) -> None:
    """Give a request to an agent or privacy officer (privacy officers assign; an agent takes one of their team's)."""
    if assignee is not None and (assignee.role not in _WORKERS or not assignee.active):
        raise InvalidInput("requests go to active agents or privacy officers", field="assignee")
    if (actor is not None and actor.role is not Role.privacy_officer
            and not (assignee is not None and assignee.id == actor.id and may_work(request, actor))):
        raise PolicyDenied("privacy officers assign requests; an agent may take one of their team's")
    request.assignee_id = assignee.id if assignee else None
    if assignee is not None:
        request.team = assignee.team
    session.flush()
    detail = {"assignee": assignee.external_id if assignee else None, "team": request.team}
    index = trail.record(session, "victim_request.assign", actor, request.id, detail=detail)
    add_event(session, request, "assigned", actor, detail=detail, audit_index=index)
