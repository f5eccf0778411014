"""Delivering a request's package: an expiring, limited, checked download link to the victim or to an agency the
victim authorised; or a posted paper copy. Every download attempt is audited.

A link is a random token (only its SHA-256 is stored) that works until `expires_at` and at most `max_downloads`
times, and only after a check: the victim types their request reference, or a one-time code mailed to the
address the request holds; an agency types the case or badge number of the victim's authorisation. Five wrong
answers close the link. An expired link shows a readable page with a way to have a new link sent to the same
address on file (never to an address typed into the page).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.config import Settings
from ombud.crypto import keyed_hash
from ombud.errors import InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.keys import KeyRing
from ombud.notify.outbox import check_address, enqueue_mail
from ombud.records import service as records
from ombud.records.models import (
    AuthorisationBasis,
    DeliveryChannel,
    DeliveryStatus,
    RecipientKind,
    RecordsDelivery,
    RecordsDownload,
    RecordsPackage,
    Verification,
)
from ombud.victim_requests import agency as agencies
from ombud.victim_requests import service, trail, workflow
from ombud.victim_requests.models import VictimRequest
from ombud.victim_requests.states import Status

MAX_FAILED_CHECKS = 5
CODE_MINUTES = 15
DEFAULT_DAYS = 14
DEFAULT_DOWNLOADS = 5
#: The longest a link works (days) and the most downloads it allows.
MAX_DAYS = 90
MAX_DOWNLOADS = 50
LINK_PATH = "/portal/records/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_for(settings: Settings, token: str) -> str:
    return settings.public_base_url.rstrip("/") + LINK_PATH + token


def _fold(text: str) -> str:
    return "".join(text.split()).upper()


def _check_hash(keys: KeyRing, delivery_id: int, kind: str, answer: str) -> str:
    return keyed_hash(keys.identifier_hash_key, f"records-{kind}", f"{delivery_id}:{_fold(answer)}")


def _current(session: Session, request: VictimRequest) -> RecordsPackage:
    package = records.current_package(session, request.id)
    if package is None:
        raise InvalidTransition(f"request {request.reference} has no records package yet: generate it first")
    return package


def _new_link(session: Session, package: RecordsPackage, *, recipient: RecipientKind, address: str, days: int,
              max_downloads: int, verification: Verification, actor_id: str,
              authorisation_id: int | None = None) -> tuple[RecordsDelivery, str]:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a link lasts 1 to {MAX_DAYS} days", field="days")
    if not 1 <= max_downloads <= MAX_DOWNLOADS:
        raise InvalidInput(f"a link allows 1 to {MAX_DOWNLOADS} downloads", field="max_downloads")
    token = secrets.token_urlsafe(32)
    now = clock.now()
    delivery = RecordsDelivery(
        package_id=package.id, recipient=recipient, channel=DeliveryChannel.link, authorisation_id=authorisation_id,
        address=address, token_hash=token_hash(token), verification=verification, failed_checks=0,
        expires_at=now + timedelta(days=days), max_downloads=max_downloads, downloads=0,
        status=DeliveryStatus.active, created_at=now, created_by=actor_id,
    )
    session.add(delivery)
    session.flush()
    return delivery, token


def _mark_delivered(session: Session, request: VictimRequest, actor: trail.Actor) -> None:
    if request.status is Status.package:
        workflow.transition(session, request, Status.delivered, actor=actor,
                            reason="records package made available to the victim")


def deliver_to_victim(
    session: Session, settings: Settings, keys: KeyRing, request: VictimRequest, *, actor: trail.Actor,
    verification: Verification | str = Verification.reference, days: int = DEFAULT_DAYS,
    max_downloads: int = DEFAULT_DOWNLOADS,
) -> tuple[RecordsDelivery, str]:
    """Mail the victim a link to their newest package (at the address the request holds); returns the delivery
    and the link's token (shown once, never stored)."""
    package = _current(session, request)
    contact = service.contact_of(keys, request)
    if not contact.get("email"):
        raise InvalidInput(f"request {request.reference} has no email address: record a postal delivery instead",
                           field="email")
    method = Verification(verification)
    if method not in (Verification.reference, Verification.code):
        raise InvalidInput("a victim's link is checked by the reference or a one-time code", field="verification")
    actor_id = trail.actor_of(actor)[1]
    delivery, token = _new_link(session, package, recipient=RecipientKind.victim, address=contact["email"],
                                days=days, max_downloads=max_downloads, verification=method, actor_id=actor_id)
    message = enqueue_mail(session, to=contact["email"], template="records_package_ready", context={
        "reference": request.reference, "account_count": package.counts.get("accounts", 0)
        + package.counts.get("payment_methods", 0), "expires_at": delivery.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        "max_downloads": max_downloads, "link": link_for(settings, token), "contact": settings.records_contact,
        "retailer": settings.retailer_name,
    }, dedupe_key=f"records:delivery:{delivery.id}", purpose=f"request:{request.id}", settings=settings)
    delivery.outbox_message_id = message.id
    index = trail.record(session, "records.deliver.link", actor, request.id, detail={
        "delivery": delivery.id, "package": package.file_name, "recipient": "victim", "verification": method.value,
        "expires_at": delivery.expires_at.isoformat(), "max_downloads": max_downloads})
    service.add_event(session, request, "delivery.link", actor, audit_index=index, detail={
        "delivery": delivery.id, "recipient": "victim", "package": package.file_name})
    _mark_delivered(session, request, actor)
    return delivery, token


def record_postal(session: Session, settings: Settings, keys: KeyRing, request: VictimRequest, *, actor: trail.Actor,
                  tracking: str | None = None) -> RecordsDelivery:
    """Record that the package was printed and posted to the victim's postal address (they asked for paper)."""
    package = _current(session, request)
    contact = service.contact_of(keys, request)
    address = contact.get("address")
    if not address:
        raise InvalidInput(f"request {request.reference} has no postal address", field="address")
    text = ", ".join(str(v) for v in address.values() if v) if isinstance(address, dict) else str(address)
    tracking = (tracking or "").strip()[:100] or None
    delivery = RecordsDelivery(
        package_id=package.id, recipient=RecipientKind.victim, channel=DeliveryChannel.postal, failed_checks=0,
        max_downloads=0, downloads=0, status=DeliveryStatus.posted, postal_address=text, postal_tracking=tracking,
        created_at=clock.now(), created_by=trail.actor_of(actor)[1],
    )
    session.add(delivery)
    session.flush()
    index = trail.record(session, "records.deliver.postal", actor, request.id, detail={
        "delivery": delivery.id, "package": package.file_name, "tracking_given": tracking is not None})
    service.add_event(session, request, "delivery.postal", actor, audit_index=index,
                      detail={"delivery": delivery.id, "tracking": tracking})
    _mark_delivered(session, request, actor)
    return delivery


def deliver_to_agency(
    session: Session, settings: Settings, keys: KeyRing, request: VictimRequest, authorisation_id: int, *,
    actor: trail.Actor, address: str, days: int = DEFAULT_DAYS, max_downloads: int = DEFAULT_DOWNLOADS,
) -> tuple[RecordsDelivery, str]:
    """Mail an agency the victim authorised its own link, to the address the authorisation names (checked)."""
    authorisation = agencies.get_authorisation(session, request, authorisation_id)
    if authorisation.basis is not AuthorisationBasis.victim:
        raise PolicyDenied(agencies.LEGAL_PROCESS_TEXT)
    if authorisation.revoked_at is not None:
        raise PolicyDenied("the victim withdrew this authorisation")
    if check_address(address.strip()).lower() != authorisation.email.lower():
        raise PolicyDenied("the address is not the one the victim authorised for this agency; records go only to "
                           f"the authorised address on file for {authorisation.agency}")
    package = _current(session, request)
    actor_id = trail.actor_of(actor)[1]
    delivery, token = _new_link(session, package, recipient=RecipientKind.agency, address=authorisation.email,
                                days=days, max_downloads=max_downloads, verification=Verification.reference,
                                actor_id=actor_id, authorisation_id=authorisation.id)
    delivery.code_hash = _check_hash(keys, delivery.id, "case", authorisation.badge_or_case)
    contact = service.contact_of(keys, request)
    message = enqueue_mail(session, to=authorisation.email, template="agency_package_ready", context={
        "officer": authorisation.officer, "agency": authorisation.agency, "case_number": authorisation.badge_or_case,
        "victim_name": contact.get("name") or "The victim", "reference": request.reference,
        "expires_at": delivery.expires_at.strftime("%Y-%m-%d %H:%M UTC"), "max_downloads": max_downloads,
        "link": link_for(settings, token), "contact": settings.records_contact, "retailer": settings.retailer_name,
    }, dedupe_key=f"records:delivery:{delivery.id}", purpose=f"request:{request.id}", settings=settings)
    delivery.outbox_message_id = message.id
    index = trail.record(session, "records.deliver.agency", actor, request.id, detail={
        "delivery": delivery.id, "package": package.file_name, "authorisation": authorisation.id,
        "expires_at": delivery.expires_at.isoformat()})
    service.add_event(session, request, "delivery.agency", actor, audit_index=index, detail={
        "delivery": delivery.id, "agency": authorisation.agency})
    return delivery, token


def deliveries_of(session: Session, request_id: int) -> list[RecordsDelivery]:
    return list(session.scalars(
        select(RecordsDelivery).join(RecordsPackage, RecordsPackage.id == RecordsDelivery.package_id)
        .where(RecordsPackage.request_id == request_id).order_by(RecordsDelivery.id.desc())))


def downloads_of(session: Session, delivery_ids: list[int]) -> list[RecordsDownload]:
    if not delivery_ids:
        return []
    return list(session.scalars(select(RecordsDownload).where(RecordsDownload.delivery_id.in_(delivery_ids))
                                .order_by(RecordsDownload.id.desc())))


# --- the link, as its recipient uses it ----------------------------------------------------------------------

LinkState = Literal["open", "expired", "used_up", "closed", "superseded"]


@dataclass
class Link:
    """A delivery found by its token, what state it is in, and its request (for the page)."""

    delivery: RecordsDelivery
    package: RecordsPackage
    request: VictimRequest | None
    state: LinkState

    @property
    def open(self) -> bool:
        return self.state == "open"


def find_link(session: Session, token: str) -> Link:
    """The delivery behind a token (NotFound when none), locked for this transaction, with its state."""
    if not token or len(token) > 100:
        raise NotFound("this link is not valid")
    delivery = session.scalar(select(RecordsDelivery).where(RecordsDelivery.token_hash == token_hash(token))
                              .with_for_update())
    if delivery is None:
        raise NotFound("this link is not valid")
    package = session.get(RecordsPackage, delivery.package_id)
    assert package is not None
    request = session.get(VictimRequest, package.request_id) if package.request_id is not None else None
    now = clock.now()
    state: LinkState = "open"
    if delivery.status is DeliveryStatus.revoked or delivery.failed_checks >= MAX_FAILED_CHECKS:
        state = "closed"
    elif delivery.expires_at is not None and now >= delivery.expires_at:
        state = "expired"
    elif delivery.downloads >= delivery.max_downloads:
        state = "used_up"
    elif package.superseded_at is not None:
        state = "superseded"
    return Link(delivery, package, request, state)


def _audit_attempt(session: Session, link: Link, outcome: str, allowed: bool) -> int:
    who = "agency" if link.delivery.recipient is RecipientKind.agency else "victim"
    index = append_event(session, AuditEvent(
        action="records.download", actor_type=who, actor_id="link-holder", subject_type="records_delivery",
        subject_id=str(link.delivery.id), purpose=f"request:{link.package.request_id}"
        if link.package.request_id is not None else None, decision="allow" if allowed else "deny",
        detail={"outcome": outcome, "package": link.package.file_name, "manifest_sha256": link.package.manifest_sha256
                if allowed else None},
    ))
    session.add(RecordsDownload(delivery_id=link.delivery.id, at=clock.now(), outcome=outcome, audit_index=index))
    return index


class CheckFailed(InvalidInput):
    """The reference, code or case number typed does not match."""


def send_code(session: Session, settings: Settings, keys: KeyRing, token: str) -> None:
    """Mail a one-time code (valid 15 minutes) to the address the delivery was made to."""
    link = find_link(session, token)
    if not link.open or link.delivery.verification is not Verification.code or link.request is None:
        raise PolicyDenied("this link does not take a one-time code")
    now = clock.now()
    if link.delivery.code_expires_at is not None and link.delivery.code_expires_at - now > timedelta(
            minutes=CODE_MINUTES - 1):
        return  # one code a minute at most: the last one is still on its way
    code = f"{secrets.randbelow(1_000_000):06d}"
    link.delivery.code_hash = _check_hash(keys, link.delivery.id, "code", code)
    link.delivery.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
    enqueue_mail(session, to=link.delivery.address or "", template="records_download_code", context={
        "reference": link.request.reference, "code": code,
        "expires_at": link.delivery.code_expires_at.strftime("%Y-%m-%d %H:%M UTC"), "retailer": settings.retailer_name,
    }, dedupe_key=f"records:code:{link.delivery.id}:{int(now.timestamp())}", purpose=f"request:{link.request.id}",
        settings=settings)
    session.flush()


def _answer_ok(keys: KeyRing, link: Link, answer: str) -> bool:
    delivery = link.delivery
    if delivery.recipient is RecipientKind.agency:
        return delivery.code_hash is not None and hmac.compare_digest(
            delivery.code_hash, _check_hash(keys, delivery.id, "case", answer))
    if delivery.verification is Verification.code:
        return (delivery.code_hash is not None and delivery.code_expires_at is not None
                and clock.now() < delivery.code_expires_at
                and hmac.compare_digest(delivery.code_hash, _check_hash(keys, delivery.id, "code", answer)))
    return link.request is not None and hmac.compare_digest(_fold(answer), _fold(link.request.reference))


def download(session: Session, settings: Settings, keys: KeyRing, token: str, answer: str) -> tuple[Link, bytes]:
    """The package's zip for a correct answer on an open link: counted and audited. A closed link or a wrong
    answer is audited too and raises (PolicyDenied, or CheckFailed naming the field)."""
    link = find_link(session, token)
    if not link.open:
        _audit_attempt(session, link, link.state, allowed=False)
        raise PolicyDenied(f"this link is {link.state.replace('_', ' ')}")
    if not answer or not _answer_ok(keys, link, answer):
        link.delivery.failed_checks += 1
        _audit_attempt(session, link, "wrong_answer", allowed=False)
        left = MAX_FAILED_CHECKS - link.delivery.failed_checks
        raise CheckFailed("that does not match our records" + (f"; {left} tries left" if left > 0 else
                                                                "; the link is now closed"), field="answer")
    data = records.read_package(settings, link.package)
    link.delivery.downloads += 1
    if link.delivery.verification is Verification.code:
        link.delivery.code_hash = None  # a code works once
        link.delivery.code_expires_at = None
    _audit_attempt(session, link, "downloaded", allowed=True)
    session.flush()
    return link, data


def renew(session: Session, settings: Settings, keys: KeyRing, token: str) -> bool:
    """Have a new link to the newest package sent to the address on file; False when one was already sent."""
    link = find_link(session, token)
    if link.open:
        return False
    if link.state == "closed" or link.request is None:
        raise PolicyDenied("this link was closed; contact us to have the records sent again")
    request = link.request
    newest = records.current_package(session, request.id)
    newer = session.scalar(select(RecordsDelivery).where(
        RecordsDelivery.id > link.delivery.id, RecordsDelivery.recipient == link.delivery.recipient,
        RecordsDelivery.channel == DeliveryChannel.link, RecordsDelivery.address == link.delivery.address,
        RecordsDelivery.package_id == (newest.id if newest else link.package.id)))
    if newer is not None:
        return False
    link.delivery.status = DeliveryStatus.expired
    _audit_attempt(session, link, "renewal_asked", allowed=False)
    if link.delivery.recipient is RecipientKind.agency and link.delivery.authorisation_id is not None:
        deliver_to_agency(session, settings, keys, request, link.delivery.authorisation_id, actor=None,
                          address=link.delivery.address or "")
    else:
        deliver_to_victim(session, settings, keys, request, actor=None,
                          verification=link.delivery.verification or Verification.reference)
    return True
