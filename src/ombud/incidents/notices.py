"""Customer notices of an incident: what each customer is told, previewed, approved, then queued exactly once.

The wording is the incident's (or the retailer's default) stored wording version, edited in the console
(wording.py), else the mail template `incident_notice` (shipped files the retailer overrides in
OMBUD_MAIL_TEMPLATES_DIR); rendered strictly in a sandbox: a field the template names that the context lacks fails the
preview, and a notice that lacks a heading its jurisdiction requires fails it too. Each customer's context holds
*their* exposed items, not a generic list. Email goes through the outbox in the approving transaction's
successor (one transaction for every notice of a send), letters wait for the print run (letters.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import guard
from ombud.access.classes import DESCRIPTIONS, FIELDS, DataClass
from ombud.access.masking import mask_name
from ombud.config import Settings
from ombud.errors import Conflict, InvalidInput, InvalidTransition, PolicyDenied
from ombud.incidents import rules as rules_mod
from ombud.incidents.models import (
    DeadlineKind,
    Exposure,
    Incident,
    IncidentDeadline,
    IncidentScope,
    IncidentStatus,
    Notice,
    NoticeChannel,
    NoticeStatus,
)
from ombud.incidents.service import audit, note_entry, transition
from ombud.staff.models import Employee, Role

if TYPE_CHECKING:
    from ombud.incidents.wording import Wording

TEMPLATE = "incident_notice"
CREDIT_BUREAUS = (
    "Equifax, P.O. Box 105788, Atlanta, GA 30348, 1-800-685-1111, equifax.com",
    "Experian, P.O. Box 9554, Allen, TX 75013, 1-888-397-3742, experian.com",
    "TransUnion, P.O. Box 2000, Chester, PA 19016, 1-888-909-8872, transunion.com",
)


#: Broker fields as a customer reads them in a notice (the access domain's descriptions are for staff).
ITEM_WORDS: dict[str, str] = {
    "name": "your name",
    "email": "your email address",
    "phone": "your phone number",
    "addresses": "your shipping and billing addresses",
    "payment_methods": "the cards on your account (brand, last four digits, expiry)",
    "ssn_last4": "the last four digits of your Social Security number",
    "date_of_birth": "your date of birth",
    "orders": "your orders (items, totals and dates)",
    "logins": "your recent sign-ins (dates, IP addresses and devices)",
    "signup": "the IP address and device you signed up with",
    "support_notes": "the notes of your contacts with customer service",
    "credit_applications": "your store-card and financing applications",
}
PART_WORDS: dict[str, str] = {
    "ip": "IP address", "device": "device", "applicant_name": "name", "email": "email address",
    "phone": "phone number", "address": "address", "ssn_last4": "last four digits of your Social Security number",
    "date_of_birth": "date of birth", "annual_income_cents": "stated income",
}


def describe_item(item: str, data_class: str) -> str:
    """An exposed item in plain words: a broker field, a part of a record, or an imported data class."""
    field, _, part = item.partition(".")
    spec = FIELDS.get(field)
    if spec is not None and not part:
        return ITEM_WORDS.get(field, spec.description)
    if spec is not None:
        return f"the {PART_WORDS.get(part, part.replace('_', ' '))} on your {field.replace('_', ' ')}"
    try:
        return DESCRIPTIONS[DataClass(data_class)]
    except ValueError:
        return f"data of the kind {data_class.replace('_', ' ')!r}"


@dataclass
class Recipient:
    """One affected customer as the notice sees them (the name and contact details stay out of every log)."""

    customer_id: str
    jurisdiction: str
    items: list[tuple[str, str]]  # (item, class)
    first_at: datetime
    last_at: datetime
    name: str = ""
    email: str | None = None
    postal: list[str] | None = None


def recipients(session: Session, scope: IncidentScope, customer_ids: Sequence[str] | None = None
               ) -> list[Recipient]:
    """The scope's affected customers with their items and the contact details a notice needs."""
    query = select(Exposure.customer_id, Exposure.jurisdiction, Exposure.item, Exposure.data_class,
                   Exposure.first_at, Exposure.last_at).where(Exposure.scope_id == scope.id)
    if customer_ids is not None:
        query = query.where(Exposure.customer_id.in_(customer_ids))
    by_customer: dict[str, Recipient] = {}
    for cid, place, item, cls, first, last in session.execute(query.order_by(Exposure.customer_id, Exposure.item)):
        r = by_customer.get(cid)
        if r is None:
            by_customer[cid] = Recipient(cid, place, [(item, cls)], first, last)
        else:
            r.items.append((item, cls))
            r.first_at, r.last_at = min(r.first_at, first), max(r.last_at, last)
    ids = list(by_customer)
    # A system job: the notice must reach the customer, so it reads their name and addresses with no staff member
    # behind the read (staff see previews with the name masked, and never the addresses).
    with guard.system_scope("incident notices: the affected customers' names and addresses"):
        _contact_details(session, by_customer, ids)
    return list(by_customer.values())


def _contact_details(session: Session, by_customer: dict[str, Recipient], ids: list[str]) -> None:
    from ombud.retail.models import Account, Address

    for i in range(0, len(ids), 900):
        part = ids[i:i + 900]
        for external_id, name, email in session.execute(
            select(Account.external_id, Account.name, Account.email).where(Account.external_id.in_(part))
        ):
            by_customer[external_id].name, by_customer[external_id].email = name, email
        rows = session.execute(
            select(Account.external_id, Address.kind, Address.created_at, Address.name, Address.line1, Address.line2,
                   Address.city, Address.region, Address.postal_code, Address.country)
            .join(Address, Address.account_id == Account.id).where(Account.external_id.in_(part))
        ).all()
        best: dict[str, tuple[Any, ...]] = {}
        for row in rows:
            rank = (str(getattr(row[1], "value", row[1])) == "billing", row[2])
            if row[0] not in best or rank > best[row[0]][0]:
                best[row[0]] = (rank, row)
        for cid, (_rank, row) in best.items():
            by_customer[cid].postal = [v for v in (row[3] or by_customer[cid].name, row[4], row[5],
                                                   f"{row[6]}, {row[7]} {row[8]}", row[9]) if v]


def context_for(incident: Incident, recipient: Recipient, settings: Settings, *, masked: bool = False
                ) -> dict[str, Any]:
    """The template's context for one customer (`masked`: the name masked, for staff previews)."""
    table = rules_mod.load_rules()
    rule = table.get(recipient.jurisdiction, table[rules_mod.DEFAULT])
    classes = sorted({cls for _, cls in recipient.items})
    described = sorted({describe_item(item, cls) for item, cls in recipient.items})
    name = recipient.name or "Customer"
    return {
        "name": (mask_name(name) or "Customer") if masked else name,
        "retailer": getattr(settings, "retailer_name", "Example Retail, Inc."),
        "contact": settings.privacy_contact,
        "title": rule.title,
        "headings": list(rule.headings),
        "jurisdiction": rule.name,
        "min_font_pt": rule.min_font_pt or 10,
        "incident_reference": f"INC-{incident.id}",
        "what_happened": incident.what_happened or incident.description,
        "what_we_are_doing": incident.what_we_are_doing,
        "items": described,
        "data_classes": classes,
        "first_date": recipient.first_at.date().isoformat(),
        "last_date": recipient.last_at.date().isoformat(),
        "discovered_date": incident.discovered_at.date().isoformat(),
        "law_enforcement_delay": incident.law_enforcement_delay,
        "credit_bureaus": list(CREDIT_BUREAUS) if rules_mod.credit_bureaus_needed(rule, classes) else [],
    }


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    text: str
    html: str | None


def render(context: dict[str, Any], source: Wording) -> RenderedNotice:
    """Render the notice strictly; InvalidInput when a field is missing or a required heading is absent."""
    from ombud.incidents.wording import render as render_wording

    out = render_wording(source, context)
    missing = [h for h in [context["title"], *context["headings"]] if h not in out.text]
    if missing:
        raise InvalidInput(f"the notice for {context['jurisdiction']} lacks the required heading(s) "
                           f"{', '.join(repr(m) for m in missing)}", field="template")
    return RenderedNotice(out.subject, out.text, out.html)


# --- preview and dry run --------------------------------------------------------------------------------------


@dataclass
class DryRun:
    """What sending would do: counts per jurisdiction and channel, and one rendered sample per jurisdiction."""

    scope_version: int
    customers: int
    by_jurisdiction: dict[str, dict[str, int]]
    samples: dict[str, RenderedNotice]
    already_notified: int
    problems: list[str]
    wording: str = ""


def channel_of(recipient: Recipient) -> NoticeChannel | None:
    """Email where the customer has an address, else a letter where they have a postal address."""
    if recipient.email:
        return NoticeChannel.email
    if recipient.postal:
        return NoticeChannel.letter
    return None


def _notified(session: Session, incident_id: int) -> set[str]:
    return set(session.scalars(select(Notice.customer_id).where(Notice.incident_id == incident_id)))


def dry_run(session: Session, incident: Incident, scope: IncidentScope, settings: Settings,
            source: Wording | None = None) -> DryRun:
    """Render every notice (nothing queued): counts, a masked sample per jurisdiction, every problem named.

    `source`: the wording to render (default: what the incident would use now, or the approved version once approved).
    """
    from ombud.incidents import wording

    if source is None:
        source = wording.for_sending(session, incident, settings) if incident.status is IncidentStatus.approved \
            else wording.effective(session, incident, settings)
    people = recipients(session, scope)
    done = _notified(session, incident.id)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    samples: dict[str, RenderedNotice] = {}
    problems: list[str] = []
    for r in people:
        channel = channel_of(r)
        counts[r.jurisdiction]["customers"] += 1
        if r.customer_id in done:
            counts[r.jurisdiction]["already notified"] += 1
            continue
        if channel is None:
            counts[r.jurisdiction]["no address"] += 1
            problems.append(f"customer {r.customer_id}: no email or postal address")
            continue
        counts[r.jurisdiction][channel.value] += 1
        try:
            rendered = render(context_for(incident, r, settings, masked=True), source)
        except InvalidInput as exc:
            problems.append(f"{r.jurisdiction} (customer {r.customer_id}): {exc.message}")
            continue
        samples.setdefault(r.jurisdiction, rendered)
    return DryRun(scope.version, len(people), {k: dict(v) for k, v in sorted(counts.items())}, samples,
                  len(done), problems[:100], source.label)


# --- approval and sending -------------------------------------------------------------------------------------


def approve(session: Session, incident: Incident, by: Employee, settings: Settings) -> None:
    """A privacy officer approves the notices of the current scope, after a clean dry run."""
    if by.role not in (Role.privacy_officer, Role.admin):
        raise PolicyDenied("only a privacy officer approves breach notices", field="role")
    if incident.status is not IncidentStatus.scoped or incident.current_scope_id is None:
        raise InvalidTransition(f"a {incident.status.value} incident has no fresh scope to approve", field="status")
    if not (incident.what_happened or incident.description).strip() or not incident.what_we_are_doing.strip():
        raise InvalidInput("write what happened and what we are doing before approving", field="what_we_are_doing")
    from ombud.incidents import wording
    from ombud.incidents.scope import current_scope

    scope = current_scope(session, incident)
    assert scope is not None
    preview = dry_run(session, incident, scope, settings, wording.effective(session, incident, settings))
    template_problems = [p for p in preview.problems if not p.startswith("customer ")]
    if template_problems:
        raise InvalidInput(f"the notices do not render: {template_problems[0]}", field="template")
    pinned = wording.pin_for_approval(session, incident, by, settings)  # the same texts, now a stored version
    incident.approved_scope_id = scope.id
    incident.approved_template_id = pinned.template_id
    incident.approved_by_id = by.id
    incident.approved_at = clock.now()
    transition(session, incident, IncidentStatus.approved, by,
               f"notices of scope v{scope.version} approved, worded as {pinned.label}")


@dataclass(frozen=True)
class SendResult:
    emails: int
    letters: int
    skipped: int
    no_address: int


def _dedupe_key(incident_id: int, customer_id: str, channel: NoticeChannel, send: int = 1) -> str:
    return f"incident:{incident_id}:{customer_id}:{channel.value}:{send}"


def send(session: Session, incident: Incident, by: Employee, settings: Settings) -> SendResult:
    """Queue every approved notice not yet queued, in this one transaction; a repeat queues nothing twice."""
    from ombud.incidents import wording
    from ombud.notify.outbox import MailItem, enqueue_mail_many

    if incident.status is not IncidentStatus.approved or incident.approved_scope_id != incident.current_scope_id:
        raise PolicyDenied("notices go out only after a privacy officer approves the current scope", field="status")
    scope = session.get(IncidentScope, incident.approved_scope_id)
    assert scope is not None
    source = wording.for_sending(session, incident, settings)
    done = _notified(session, incident.id)
    now = clock.now()
    mails: list[MailItem] = []
    rows: list[dict[str, Any]] = []
    emails = letters = skipped = missing = 0
    for r in recipients(session, scope):
        if r.customer_id in done:
            skipped += 1
            continue
        channel = channel_of(r)
        if channel is None:
            missing += 1
            continue
        key = _dedupe_key(incident.id, r.customer_id, channel)
        if channel is NoticeChannel.email:
            # Rendered with exactly the approved version (the approval's dry run checked it renders).
            context = context_for(incident, r, settings)
            mails.append(MailItem(r.email or "", TEMPLATE, context, key, f"incident:{incident.id}",
                                  render(context, source)))
            emails += 1
        else:
            letters += 1
        rows.append({"incident_id": incident.id, "scope_id": scope.id, "customer_id": r.customer_id,
                     "channel": channel, "jurisdiction": r.jurisdiction, "status": NoticeStatus.queued,
                     "items": [i for i, _ in r.items], "dedupe_key": key, "outbox_id": None, "sends": 1,
                     "template_id": source.template_id,
                     "queued_at": now, "updated_at": now})
    if mails:
        enqueue_mail_many(session, mails, settings=settings)
    for i in range(0, len(rows), 5000):
        session.execute(Notice.__table__.insert(), rows[i:i + 5000])
    if incident.notices_sent_at is None:
        incident.notices_sent_at = now
    _mark_individual_deadlines(session, incident, now)
    index = audit(session, "incident.notify", by, incident.id, detail={
        "emails": emails, "letters": letters, "scope": scope.version})
    note_entry(session, incident, "notices", by,
               f"Queued {emails:,} email(s) and {letters:,} letter(s); {skipped:,} already notified; "
               f"{missing:,} without any address", index)
    transition(session, incident, IncidentStatus.notifying, by)
    return SendResult(emails, letters, skipped, missing)


def _mark_individual_deadlines(session: Session, incident: Incident, now: datetime) -> None:
    """A jurisdiction's individuals deadline is met once each of its customers has a notice queued."""
    from ombud.incidents.scope import refresh_deadlines

    assert incident.current_scope_id is not None
    counts = dict(session.execute(
        select(Exposure.jurisdiction, func.count(distinct(Exposure.customer_id)))
        .where(Exposure.scope_id == incident.current_scope_id).group_by(Exposure.jurisdiction)).all())
    notified = dict(session.execute(
        select(Notice.jurisdiction, func.count(distinct(Notice.customer_id)))
        .where(Notice.incident_id == incident.id).group_by(Notice.jurisdiction)).all())
    refresh_deadlines(session, incident, dict(counts))  # a rule counted from the notices now has its date
    for deadline in session.scalars(select(IncidentDeadline).where(
            IncidentDeadline.incident_id == incident.id, IncidentDeadline.kind == DeadlineKind.individuals,
            IncidentDeadline.met_at.is_(None))):
        if notified.get(deadline.jurisdiction, 0) >= counts.get(deadline.jurisdiction, 0):
            deadline.met_at = now
    session.flush()


def resend(session: Session, incident: Incident, customer_id: str, by: Employee, settings: Settings,
           channel: NoticeChannel | None = None) -> Notice:
    """Send a customer's notice again (a bounced email, a returned letter), by the same or another channel."""
    from ombud.incidents import wording
    from ombud.notify.models import OutboxMessage
    from ombud.notify.outbox import MailItem, enqueue_mail_many

    notices = list(session.scalars(select(Notice).where(Notice.incident_id == incident.id,
                                                        Notice.customer_id == customer_id)))
    if not notices:
        raise Conflict(f"customer {customer_id} has no notice of this incident to resend", field="customer_id")
    scope = session.get(IncidentScope, notices[0].scope_id)
    assert scope is not None
    [recipient] = recipients(session, scope, [customer_id]) or [None]
    if recipient is None:
        raise Conflict(f"customer {customer_id} is not in the notified scope", field="customer_id")
    channel = channel or notices[0].channel
    # The wording the customer was sent before (else the approved one): a resend says the same thing.
    pinned = notices[0].template_id or incident.approved_template_id
    source = wording.by_id(session, pinned) if pinned else wording.effective(session, incident, settings)
    if channel is NoticeChannel.email and not recipient.email:
        raise InvalidInput(f"customer {customer_id} has no email address", field="channel")
    if channel is NoticeChannel.letter and not recipient.postal:
        raise InvalidInput(f"customer {customer_id} has no postal address", field="channel")
    notice = next((n for n in notices if n.channel is channel), None)
    now = clock.now()
    if notice is None:
        notice = Notice(incident_id=incident.id, scope_id=scope.id, customer_id=customer_id, channel=channel,
                        jurisdiction=recipient.jurisdiction, status=NoticeStatus.queued,
                        items=[i for i, _ in recipient.items], dedupe_key=_dedupe_key(incident.id, customer_id,
                                                                                       channel),
                        sends=1, queued_at=now, updated_at=now, template_id=source.template_id)
        session.add(notice)
    else:
        notice.sends += 1
        notice.dedupe_key = _dedupe_key(incident.id, customer_id, channel, notice.sends)
        notice.status, notice.updated_at = NoticeStatus.queued, now
    if channel is NoticeChannel.email and recipient.email:
        context = context_for(incident, recipient, settings)
        enqueue_mail_many(session, [MailItem(recipient.email, TEMPLATE, context, notice.dedupe_key,
                                             f"incident:{incident.id}", render(context, source))], settings=settings)
        notice.outbox_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == notice.dedupe_key))
    session.flush()
    index = audit(session, "incident.notice.resend", by, incident.id, customer_id=customer_id,
                  detail={"channel": channel.value, "send": notice.sends})
    note_entry(session, incident, "resend", by, f"Notice to {customer_id} sent again by {channel.value}", index)
    return notice


#: The outbox's states as a customer's delivery state (the outbox message is the one home of an email's fate).
DELIVERY = {"pending": "queued", "sending": "queued", "sent": "sent", "dead": "bounced"}


def delivery_counts(session: Session, incident_id: int) -> dict[str, int]:
    """Notices by channel and delivery state: emails as their outbox messages stand, letters queued or printed."""
    from ombud.notify.models import OutboxMessage

    rows = session.execute(
        select(Notice.channel, Notice.status, OutboxMessage.status, func.count())
        .join(OutboxMessage, OutboxMessage.dedupe_key == Notice.dedupe_key, isouter=True)
        .where(Notice.incident_id == incident_id)
        .group_by(Notice.channel, Notice.status, OutboxMessage.status)
    ).all()
    out: Counter[str] = Counter()
    for channel, own, mail, n in rows:
        state = DELIVERY.get(str(getattr(mail, "value", mail)), own.value) if channel is NoticeChannel.email \
            else own.value
        out[f"{channel.value} {state}"] += n
    return dict(sorted(out.items()))


def delivery_of(session: Session, notices: Sequence[Notice]) -> dict[int, str]:
    """Each notice's delivery state (see delivery_counts)."""
    from ombud.notify.models import OutboxMessage

    keys = [n.dedupe_key for n in notices if n.channel is NoticeChannel.email]
    mail = dict(session.execute(select(OutboxMessage.dedupe_key, OutboxMessage.status)
                                .where(OutboxMessage.dedupe_key.in_(keys))).all()) if keys else {}
    return {n.id: DELIVERY.get(str(getattr(mail.get(n.dedupe_key), "value", "")), n.status.value)
            if n.channel is NoticeChannel.email else n.status.value for n in notices}


def customer_notices(session: Session, customer_id: str) -> list[Notice]:
    """Every notice a customer was sent, newest first."""
    return list(session.scalars(select(Notice).where(Notice.customer_id == customer_id)
                                .order_by(Notice.queued_at.desc())))


def items_of(notices: Iterable[Notice]) -> list[str]:
    return sorted({i for n in notices for i in n.items})
