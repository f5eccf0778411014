"""Incidents API: notice wording (an incident's own and the retailer's default): versions, preview, save.

Preview renders a draft for one real affected customer per jurisdiction (name masked); save stores a new version
only when every one renders (422 naming the part and the field otherwise). See docs/incidents.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.incidents import service, wording
from ombud.incidents.models import Incident
from ombud.incidents.schemas import WordingDraft, WordingRead, WordingVersion
from ombud.incidents.wording import PreviewItem
from ombud.staff.models import Role

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
Responder = Annotated[Staff, Depends(require_roles(Role.security_analyst, Role.privacy_officer, Role.admin))]


def _version(w: wording.Wording) -> WordingVersion:
    return WordingVersion(template_id=w.template_id, version=w.version, owner=w.owner, label=w.label,
                          subject=w.subject, text=w.text, html=w.html, created_at=w.created_at,
                          created_by=w.created_by, note=w.note)


def _read(request: Request, session: Session, incident: Incident | None) -> WordingRead:
    settings = get_context(request).settings
    return WordingRead(current=_version(wording.effective(session, incident, settings)),
                       versions=[_version(v) for v in wording.versions(session, incident.id if incident else None)],
                       approved_template_id=incident.approved_template_id if incident else None)


def _preview(request: Request, session: Session, incident: Incident | None, body: WordingDraft) -> list[PreviewItem]:
    draft = wording.Wording(body.subject, body.text, body.html)
    return wording.preview(session, incident, draft, get_context(request).settings, body.customer_id)


def _save(request: Request, session: Session, staff: Staff, incident: Incident | None,
          body: WordingDraft) -> WordingVersion:
    row = wording.save(session, incident, staff.employee, get_context(request).settings, subject=body.subject,
                       text=body.text, html=body.html, note=body.note)
    return _version(wording.by_id(session, row.id))


# The default's routes come first: "/{incident_id}" would otherwise take "notice-wording".
@router.get("/notice-wording", response_model=WordingRead)
def default_wording(request: Request, session: DbSession, staff: Responder) -> WordingRead:
    """The retailer's default notice wording and its versions."""
    return _read(request, session, None)


@router.post("/notice-wording/preview", response_model=list[PreviewItem])
def default_preview(body: WordingDraft, request: Request, session: DbSession, staff: Responder) -> list[PreviewItem]:
    """A draft of the default wording rendered with the sample customer; nothing saved."""
    return _preview(request, session, None, body)


@router.post("/notice-wording", response_model=WordingVersion, status_code=201)
def default_save(body: WordingDraft, request: Request, session: DbSession, staff: Responder) -> WordingVersion:
    """A new version of the default wording (privacy officers)."""
    return _save(request, session, staff, None, body)


@router.get("/{incident_id}/notice-wording", response_model=WordingRead)
def incident_wording(incident_id: int, request: Request, session: DbSession, staff: Responder) -> WordingRead:
    """The wording the incident's notices use now, its own versions, and the approved one."""
    return _read(request, session, service.get_incident(session, incident_id))


@router.post("/{incident_id}/notice-wording/preview", response_model=list[PreviewItem])
def incident_preview(incident_id: int, body: WordingDraft, request: Request, session: DbSession,
                     staff: Responder) -> list[PreviewItem]:
    """A draft rendered for one real affected customer per jurisdiction (and `customer_id`); nothing saved."""
    return _preview(request, session, service.get_incident(session, incident_id), body)


@router.post("/{incident_id}/notice-wording", response_model=WordingVersion, status_code=201)
def incident_save(incident_id: int, body: WordingDraft, request: Request, session: DbSession,
                  staff: Responder) -> WordingVersion:
    """A new version of the incident's wording, after a clean preview; a change after approval lapses it."""
    return _save(request, session, staff, service.get_incident(session, incident_id), body)
