"""The look-back: import past contacts, plan who gets a letter, send the campaign, track each person.

Who is a candidate: contacted since the cut-off (default 2024-04-01, OMBUD_LOOKBACK_SINCE), did not get the
records then, and has no request on file that delivered them (matched by the keyed hash of their email, the same
hash a victim's request keeps). Each gets the `lookback_letter` through the outbox (dedupe key per person), or a
printed letter when only a postal address is known. Their status follows: queued → sent or bounced (from the mail
worker), and responded once a new request from the same email address arrives (linked to it).
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.config import Settings
from ombud.crypto import keyed_hash
from ombud.errors import Conflict
from ombud.identity.normalize import normalize_email
from ombud.keys import KeyRing
from ombud.lookback.importer import RowError, read_contacts
from ombud.lookback.models import ContactStatus, LookbackCampaign, LookbackContact
from ombud.notify import templates
from ombud.notify.models import MailStatus
from ombud.notify.outbox import MailItem, enqueue_mail_many, register_outcome_handler
from ombud.victim_requests.models import VictimRequest
from ombud.victim_requests.protect import open_json, seal_json
from ombud.victim_requests.states import Status

CONTEXT = "lookback.contact"
DEFAULT_SINCE = date(2024, 4, 1)
#: A request in one of these states has provided the records.
PROVIDED = (Status.delivered, Status.remediating, Status.closed)
_PLANNABLE = (ContactStatus.imported, ContactStatus.candidate, ContactStatus.excluded)


def email_hash(keys: KeyRing, email: str | None) -> str | None:
    """The keyed hash a victim's request keeps of its email (so the two can be matched without the address)."""
    normal = normalize_email(email) if email else None
    return keyed_hash(keys.identifier_hash_key, "vr-email", normal) if normal else None


@dataclass
class ImportResult:
    imported: int = 0
    already_held: int = 0
    errors: list[RowError] = field(default_factory=list)


def _reference(session: Session) -> str:
    while True:
        candidate = "LB-" + "".join(secrets.choice("23456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(8))
        if session.scalar(select(LookbackContact.id).where(LookbackContact.reference == candidate)) is None:
            return candidate


def import_contacts(session: Session, keys: KeyRing, data: bytes, *, actor: str, skip_bad: bool = False,
                    batch: str | None = None) -> ImportResult:
    """Import a CSV of past contacts. Any bad row: nothing is written and every bad row is named (or, with
    skip_bad, the good rows are imported and the bad ones named). Ids already held are skipped."""
    rows, errors = read_contacts(data)
    result = ImportResult(errors=errors)
    if errors and not skip_bad:
        return result
    held = set()
    ids = [r.contact_id for r in rows]
    for start in range(0, len(ids), 1000):
        held |= set(session.scalars(select(LookbackContact.source_ref).where(
            LookbackContact.source_ref.in_(ids[start : start + 1000]))))
    now = clock.now()
    batch = batch or now.strftime("%Y%m%dT%H%M%S")
    for row in rows:
        if row.contact_id in held:
            result.already_held += 1
            continue
        session.add(LookbackContact(
            reference=_reference(session), source_ref=row.contact_id, channel=row.channel,
            contacted_at=row.contacted_at, contact_enc=seal_json(keys, {
                "name": row.name, "email": row.email, "postal_address": row.postal_address}, CONTEXT),
            email_hash=email_hash(keys, row.email), has_email=row.email is not None,
            has_postal=row.postal_address is not None, records_sent=row.records_provided, import_batch=batch,
            imported_at=now, status=ContactStatus.imported, updated_at=now,
        ))
        result.imported += 1
    session.flush()
    append_event(session, AuditEvent(action="lookback.import", actor_type="employee" if actor != "cli" else "system",
                                     actor_id=actor, subject_type="lookback_batch", subject_id=batch,
                                     detail={"imported": result.imported, "already_held": result.already_held,
                                             "bad_rows": len({e.line for e in errors})}))
    return result


def link_responses(session: Session) -> int:
    """Mark people who made a new request since their letter as responded, linked to it; returns how many."""
    waiting = session.scalars(select(LookbackContact).where(
        LookbackContact.status.in_((ContactStatus.queued, ContactStatus.sent, ContactStatus.bounced)),
        LookbackContact.email_hash.is_not(None)))
    linked = 0
    for contact in waiting:
        request = session.scalar(select(VictimRequest).where(
            VictimRequest.email_hash == contact.email_hash,
            VictimRequest.received_at >= (contact.letter_at or contact.imported_at)).order_by(VictimRequest.id))
        if request is not None:
            contact.status, contact.request_id, contact.updated_at = ContactStatus.responded, request.id, clock.now()
            linked += 1
    session.flush()
    return linked


@dataclass
class Plan:
    since: date
    candidates: int = 0
    by_email: int = 0
    by_post: int = 0
    excluded: Counter[str] = field(default_factory=Counter)


def plan(session: Session, *, since: date = DEFAULT_SINCE) -> Plan:
    """Decide who is a candidate (and why anyone is not); changes only contacts not yet written to."""
    link_responses(session)
    result = Plan(since)
    cutoff = datetime.combine(since, time(0), tzinfo=UTC)
    provided: dict[str, str] = {}
    for email_key, reference in session.execute(select(VictimRequest.email_hash, VictimRequest.reference).where(
            VictimRequest.status.in_(PROVIDED), VictimRequest.email_hash.is_not(None))):
        provided.setdefault(email_key, reference)
    now = clock.now()
    for contact in session.scalars(select(LookbackContact).where(LookbackContact.status.in_(_PLANNABLE))):
        reason = None
        if contact.contacted_at < cutoff:
            reason = f"contacted before {since.isoformat()}"
        elif contact.records_sent:
            reason = "records were provided at the time"
        elif contact.email_hash and contact.email_hash in provided:
            reason = f"records provided under request {provided[contact.email_hash]}"
        contact.status = ContactStatus.excluded if reason else ContactStatus.candidate
        contact.excluded_reason = reason
        contact.updated_at = now
        if reason:
            result.excluded[reason.split(" under ")[0]] += 1
        else:
            result.candidates += 1
            result.by_email += contact.has_email
            result.by_post += not contact.has_email
    session.flush()
    return result


def contact_details(keys: KeyRing, contact: LookbackContact) -> dict[str, Any]:
    return open_json(keys, contact.contact_enc, CONTEXT)


def letter_context(settings: Settings, contact: LookbackContact, details: dict[str, Any]) -> dict[str, Any]:
    return {"name": details.get("name") or "customer", "contacted_on": contact.contacted_at.date().isoformat(),
            "portal_url": settings.public_base_url.rstrip("/") + "/request", "contact": settings.records_contact,
            "reference": contact.reference, "retailer": settings.retailer_name}


@dataclass
class Sent:
    campaign: LookbackCampaign
    emails: int
    letters_file: Path | None


def send(session: Session, settings: Settings, keys: KeyRing, *, actor: str, since: date = DEFAULT_SINCE) -> Sent:
    """Queue the letter to every candidate (email through the outbox; a printable file for postal-only ones)."""
    plan(session, since=since)
    candidates = list(session.scalars(select(LookbackContact).where(LookbackContact.status == ContactStatus.candidate)
                                      .order_by(LookbackContact.id)))
    if not candidates:
        # The request is fine; the store is not ready for it (a state, not bad input).
        raise Conflict("nobody to write to: import contacts and plan first (ombud lookback import / plan)",
                       field="candidates")
    now = clock.now()
    campaign = LookbackCampaign(since=since, created_at=now, created_by=actor, queued=0, postal=0)
    session.add(campaign)
    session.flush()
    items, postal = [], []
    for contact in candidates:
        details = contact_details(keys, contact)
        context = letter_context(settings, contact, details)
        if details.get("email"):
            items.append((contact, MailItem(details["email"], "lookback_letter", context,
                                            f"lookback:contact:{contact.id}", f"lookback:{contact.id}")))
        else:
            postal.append((contact, details, context))
    enqueue_mail_many(session, [item for _, item in items], settings=settings)
    from ombud.notify.models import OutboxMessage

    ids = dict(session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.id).where(
        OutboxMessage.dedupe_key.in_([item.dedupe_key for _, item in items]))).all()) if items else {}
    for contact, item in items:
        contact.status, contact.campaign_id = ContactStatus.queued, campaign.id
        contact.outbox_message_id, contact.letter_at, contact.updated_at = ids.get(item.dedupe_key), now, now
    letters_file = None
    if postal:
        folder = settings.data_dir / "lookback"
        folder.mkdir(parents=True, exist_ok=True)
        letters_file = folder / f"letters-campaign-{campaign.id}.txt"
        pages = []
        for contact, details, context in postal:
            rendered = templates.render("lookback_letter", context, settings.mail_templates_dir)
            pages.append(f"{details.get('name')}\n{details.get('postal_address')}\n\n{rendered.text}")
            contact.status, contact.campaign_id, contact.letter_at, contact.updated_at = (
                ContactStatus.sent, campaign.id, now, now)
        letters_file.write_text("\f\n".join(pages), encoding="utf-8")
    campaign.queued, campaign.postal = len(items), len(postal)
    session.flush()
    append_event(session, AuditEvent(action="lookback.send", actor_type="employee" if actor != "cli" else "system",
                                     actor_id=actor, subject_type="lookback_campaign", subject_id=str(campaign.id),
                                     detail={"emails": len(items), "letters": len(postal),
                                             "since": since.isoformat()}))
    return Sent(campaign, len(items), letters_file)


def on_mail_outcome(session: Session, message_ids: list[int], status: MailStatus) -> None:
    """The mail worker's word on look-back letters: sent, or bounced (refused for good)."""
    target = ContactStatus.sent if status is MailStatus.sent else ContactStatus.bounced
    now = clock.now()
    for contact in session.scalars(select(LookbackContact).where(
            LookbackContact.outbox_message_id.in_(message_ids), LookbackContact.status != ContactStatus.responded)):
        contact.status, contact.updated_at = target, now


register_outcome_handler("lookback", on_mail_outcome)


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(LookbackContact.status, func.count()).group_by(LookbackContact.status))
    result = {s.value: 0 for s in ContactStatus}
    result.update({str(getattr(s, "value", s)): n for s, n in rows})
    return result


def list_contacts(session: Session, *, status: ContactStatus | None = None, limit: int = 200) -> list[LookbackContact]:
    query = select(LookbackContact)
    if status is not None:
        query = query.where(LookbackContact.status == status)
    return list(session.scalars(query.order_by(LookbackContact.contacted_at.desc()).limit(limit)))
