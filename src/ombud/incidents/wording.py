"""Notice wording the retailer edits in the console: versioned, audited, previewed on real affected customers.

Wording is three texts (subject, plain text, optional HTML) in the mail templates' sandboxed Jinja, rendered
strictly. An incident uses its own newest version, else the retailer's default newest version, else the mail
template files `incident_notice` (shipped, or the retailer's in OMBUD_MAIL_TEMPLATES_DIR). A version is saved only
when it renders for one real affected customer of every jurisdiction in the scope (and for the sample context), so
a field the wording names that a notice lacks fails here, with the field named, never at send. The approval pins
the version it approved (the files are stored as a version first when no version exists); sending renders that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.errors import InvalidInput, NotFound, PolicyDenied
from ombud.incidents.models import DEFAULT_TEMPLATE_OWNER, Exposure, Incident, IncidentStatus, NoticeTemplate
from ombud.incidents.service import audit, note_entry, transition
from ombud.notify import templates as mail_templates
from ombud.staff.models import Employee, Role

FILE_TEMPLATE = "incident_notice"
MAX_CHARS = {"subject": 500, "text": 40_000, "html": 80_000}


@dataclass(frozen=True)
class Wording:
    """The texts a notice is rendered from, and where they come from (a stored version, or the files)."""

    subject: str
    text: str
    html: str | None
    template_id: int | None = None
    version: int | None = None
    owner: str = "files"
    created_at: datetime | None = None
    created_by: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        if self.template_id is None:
            return "the mail template files (incident_notice)"
        whose = "the retailer's default" if self.owner == DEFAULT_TEMPLATE_OWNER else "this incident's wording"
        return f"{whose}, version {self.version}"


def owner_key(incident_id: int | None) -> str:
    return DEFAULT_TEMPLATE_OWNER if incident_id is None else f"incident:{incident_id}"


def _as_wording(session: Session, row: NoticeTemplate) -> Wording:
    who = session.get(Employee, row.created_by_id) if row.created_by_id else None
    return Wording(row.subject, row.body_text, row.body_html, row.id, row.version, row.owner, row.created_at,
                   who.external_id if who else None, row.note)


def files_wording(settings: Settings) -> Wording:
    """The wording of the mail template files, as a starting point and when nothing is stored."""
    subject, text, html = mail_templates.source_of(FILE_TEMPLATE, settings.mail_templates_dir)
    return Wording(subject.strip(), text, html)


def latest(session: Session, incident_id: int | None) -> NoticeTemplate | None:
    """The newest stored version of an incident's wording (or of the default, for None)."""
    return session.scalar(select(NoticeTemplate).where(NoticeTemplate.owner == owner_key(incident_id))
                          .order_by(NoticeTemplate.version.desc()).limit(1))


def versions(session: Session, incident_id: int | None) -> list[Wording]:
    """Every stored version, newest first."""
    rows = session.scalars(select(NoticeTemplate).where(NoticeTemplate.owner == owner_key(incident_id))
                           .order_by(NoticeTemplate.version.desc()))
    return [_as_wording(session, r) for r in rows]


def effective(session: Session, incident: Incident | None, settings: Settings) -> Wording:
    """What the incident's notices would be rendered with now (or the default's, for None)."""
    row = (latest(session, incident.id) if incident is not None else None) or latest(session, None)
    return _as_wording(session, row) if row is not None else files_wording(settings)


def by_id(session: Session, template_id: int) -> Wording:
    row = session.get(NoticeTemplate, template_id)
    if row is None:
        raise NotFound(f"no notice wording version {template_id}", field="template_id")
    return _as_wording(session, row)


def for_sending(session: Session, incident: Incident, settings: Settings) -> Wording:
    """The approved version (notices approved before versions existed fall back to the current wording)."""
    if incident.approved_template_id is not None:
        return by_id(session, incident.approved_template_id)
    return effective(session, incident, settings)


def render(wording: Wording, context: dict[str, Any]) -> mail_templates.Rendered:
    """One notice from this wording, strictly (InvalidInput names the part and the missing field)."""
    return mail_templates.render_source(wording.subject, wording.text, wording.html, context)


# --- preview --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewItem:
    """The wording rendered for one real affected customer of a jurisdiction (name masked), or what failed."""

    jurisdiction: str
    customer_id: str | None
    subject: str | None
    text: str | None
    html: str | None
    error: str | None


def preview(session: Session, incident: Incident | None, wording: Wording, settings: Settings,
            customer_id: str | None = None) -> list[PreviewItem]:
    """Render the wording for one real affected customer per jurisdiction of the current scope (a chosen one first).

    Without a scope (or for the default wording) the template's sample context stands in, so the check still runs.
    """
    from ombud.incidents import notices
    from ombud.incidents.scope import current_scope

    out: list[PreviewItem] = []
    scope = current_scope(session, incident) if incident is not None else None
    if incident is not None and scope is not None:
        picks = [str(c) for c in session.scalars(
            select(func.min(Exposure.customer_id)).where(Exposure.scope_id == scope.id)
            .group_by(Exposure.jurisdiction))]
        if customer_id:
            if not session.scalar(select(func.count()).select_from(Exposure).where(
                    Exposure.scope_id == scope.id, Exposure.customer_id == customer_id)):
                raise InvalidInput(f"customer {customer_id} is not in this incident's scope", field="customer")
            picks.insert(0, customer_id)
        people = notices.recipients(session, scope, list(dict.fromkeys(picks)))
        people.sort(key=lambda p: (p.customer_id != customer_id, p.jurisdiction))  # the chosen customer first
        seen: set[str] = set()
        for person in people:
            if person.jurisdiction in seen:  # one per jurisdiction: the chosen customer stands for theirs
                continue
            seen.add(person.jurisdiction)
            context = notices.context_for(incident, person, settings, masked=True)
            out.append(_try(person.jurisdiction, person.customer_id, wording, context))
    else:
        context = mail_templates.sample_context(FILE_TEMPLATE, settings.mail_templates_dir)
        out.append(_try(str(context.get("jurisdiction", "sample")), None, wording, context))
    return out


def _try(jurisdiction: str, customer_id: str | None, wording: Wording, context: dict[str, Any]) -> PreviewItem:
    from ombud.incidents import notices

    try:
        rendered = notices.render(context, wording)
    except InvalidInput as exc:
        return PreviewItem(jurisdiction, customer_id, None, None, None, exc.message)
    return PreviewItem(jurisdiction, customer_id, rendered.subject, rendered.text, rendered.html, None)


# --- saving ---------------------------------------------------------------------------------------------------


def _check_texts(subject: str, text: str, html: str | None) -> tuple[str, str, str | None]:
    subject, text = (subject or "").strip(), (text or "").replace("\r\n", "\n")
    html = (html or "").replace("\r\n", "\n") or None
    for field, value in (("subject", subject), ("text", text)):
        if not value.strip():
            raise InvalidInput(f"the {field} is empty", field=field)
    for field, value in (("subject", subject), ("text", text), ("html", html or "")):
        if len(value) > MAX_CHARS[field]:
            raise InvalidInput(f"the {field} is longer than {MAX_CHARS[field]:,} characters", field=field)
    return subject, text, html if html and html.strip() else None


def save(session: Session, incident: Incident | None, by: Employee, settings: Settings, *, subject: str, text: str,
         html: str | None, note: str = "") -> NoticeTemplate:
    """Store a new version after a clean preview; audited; a change after approval lets the approval lapse.

    InvalidInput (the part, the jurisdiction and the field named) when the wording does not render for a customer.
    """
    if incident is None and by.role not in (Role.privacy_officer, Role.admin):
        raise PolicyDenied("only a privacy officer changes the retailer's default notice wording", field="role")
    if incident is not None and incident.status in (IncidentStatus.notifying, IncidentStatus.closed):
        raise PolicyDenied("the notices have gone out; their wording is fixed", field="status")
    subject, text, html = _check_texts(subject, text, html)
    draft = Wording(subject, text, html)
    for item in preview(session, incident, draft, settings):
        if item.error:
            who = f" (customer {item.customer_id})" if item.customer_id else ""
            raise InvalidInput(f"{item.jurisdiction}{who}: {item.error}", field="template")
    current = latest(session, incident.id if incident else None)
    row = NoticeTemplate(owner=owner_key(incident.id if incident else None),
                         incident_id=incident.id if incident else None,
                         version=(current.version + 1) if current else 1, subject=subject, body_text=text,
                         body_html=html, note=(note or "").strip()[:300], created_at=clock.now(), created_by_id=by.id)
    session.add(row)
    session.flush()
    digest = hashlib.sha256("\0".join([subject, text, html or ""]).encode()).hexdigest()
    row.audit_index = audit(session, "incident.wording.version", by, incident.id if incident else None, detail={
        "owner": row.owner, "version": row.version, "template": str(row.id), "sha256": digest})
    if incident is not None:
        note_entry(session, incident, "wording", by, f"Notice wording version {row.version} saved"
                   + (f": {row.note}" if row.note else ""), row.audit_index)
        lapse_approval(session, incident, by, f"the notice wording changed (version {row.version})")
    return row


def pin_for_approval(session: Session, incident: Incident, by: Employee, settings: Settings) -> Wording:
    """The wording an approval is of, as a stored version (the files are stored first, so later edits can't move it)."""
    wording = effective(session, incident, settings)
    if wording.template_id is not None:
        return wording
    row = NoticeTemplate(owner=owner_key(incident.id), incident_id=incident.id, version=1, subject=wording.subject,
                         body_text=wording.text, body_html=wording.html,
                         note="the mail template files as approved", created_at=clock.now(), created_by_id=by.id)
    session.add(row)
    session.flush()
    row.audit_index = audit(session, "incident.wording.version", by, incident.id, detail={
        "owner": row.owner, "version": 1, "template": str(row.id), "from": "files"})
    return _as_wording(session, row)


def lapse_approval(session: Session, incident: Incident, by: Employee, why: str) -> None:
    """An approval was of the old scope and wording: a change sends the incident back for a new one."""
    if incident.status is IncidentStatus.approved:
        incident.approved_scope_id = None
        incident.approved_template_id = None
        transition(session, incident, IncidentStatus.scoped, by, why)


def of_notice(session: Session, template_id: int | None, incident: Incident, settings: Settings) -> Wording:
    """The wording a queued notice was (or is to be) rendered with: its own version, else the approved one."""
    return by_id(session, template_id) if template_id else for_sending(session, incident, settings)
