"""Console pages of notice wording: an incident's own wording and the retailer's default, edited, previewed on one
real affected customer per jurisdiction (name masked), and saved as a new audited version after a clean preview.

Preview and a refused save re-render the page with the draft kept, so nothing typed is lost; a save that renders
everywhere redirects (post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.errors import OmbudError
from ombud.incidents import service, wording
from ombud.incidents.models import Incident, IncidentStatus
from ombud.staff.models import Role
from ombud.web.templating import flash, render

router = APIRouter(tags=["pages"], include_in_schema=False)
Responder = Annotated[Staff, Depends(require_roles(Role.security_analyst, Role.privacy_officer, Role.admin))]
Field = Annotated[str, Form(max_length=80_000)]
Optional = Annotated[str, Form(max_length=80_000)]

#: What a notice's wording may name, as the console explains it (the context of ombud.incidents.notices).
FIELDS: dict[str, str] = {
    "name": "the customer's name (masked in previews)",
    "title": "the notice title the jurisdiction requires, e.g. Notice of Data Breach",
    "headings": "the headings the jurisdiction requires (each must appear in the text)",
    "jurisdiction": "the customer's jurisdiction by name",
    "items": "the customer's own exposed information, in plain words (a list)",
    "data_classes": "the kinds of data exposed (a list)",
    "first_date": "the first day of the customer's exposure",
    "last_date": "the last day of the customer's exposure",
    "discovered_date": "the day the incident was discovered",
    "what_happened": "the incident's own words: what happened",
    "what_we_are_doing": "the incident's own words: what we are doing",
    "law_enforcement_delay": "true when notice was delayed at law enforcement's request",
    "credit_bureaus": "the credit bureaus' contacts where identifying numbers were exposed (a list, else empty)",
    "incident_reference": "the reference customers quote, e.g. INC-12",
    "retailer": "the retailer's name",
    "contact": "the privacy team's contact",
    "min_font_pt": "the smallest type size the jurisdiction allows",
}


def _incident(session: Session, incident_id: int | None) -> Incident | None:
    return service.get_incident(session, incident_id) if incident_id is not None else None


def _page(request: Request, session: Session, staff: Staff, incident: Incident | None, *,
          draft: wording.Wording | None = None, previews: list[wording.PreviewItem] | None = None,
          customer: str = "", note: str = "", error: str | None = None, status_code: int = 200) -> Response:
    settings = get_context(request).settings
    current = wording.effective(session, incident, settings)
    history = wording.versions(session, incident.id if incident else None)
    approved = incident.approved_template_id if incident is not None else None
    if incident is None:
        editable = staff.has_role(Role.privacy_officer)
    else:
        editable = incident.status not in (IncidentStatus.notifying, IncidentStatus.closed)
    base = f"/incidents/{incident.id}/notice-wording" if incident else "/incidents/notice-wording"
    return render(request, "incidents/wording.html", staff, status_code=status_code, incident=incident,
                  current=current, draft=draft or current, previews=previews, history=history, approved=approved,
                  customer=customer, note=note, error=error, editable=editable, base=base, fields=FIELDS,
                  flash_now=[("error", error)] if error else [])


def _draft(subject: str, text: str, html: str) -> wording.Wording:
    return wording.Wording(subject, text.replace("\r\n", "\n"), html.replace("\r\n", "\n") or None)


def _preview(request: Request, session: Session, staff: Staff, incident: Incident | None, subject: str, text: str,
             html: str, customer: str, note: str) -> Response:
    draft = _draft(subject, text, html)
    try:
        previews = wording.preview(session, incident, draft, get_context(request).settings, customer.strip() or None)
    except OmbudError as exc:
        return _page(request, session, staff, incident, draft=draft, customer=customer, note=note,
                     error=exc.message, status_code=422)
    failed = [p for p in previews if p.error]
    return _page(request, session, staff, incident, draft=draft, previews=previews, customer=customer, note=note,
                 error=f"{len(failed)} jurisdiction(s) do not render: fix the wording before saving" if failed
                 else None, status_code=422 if failed else 200)


def _save(request: Request, session: Session, staff: Staff, incident: Incident | None, subject: str, text: str,
          html: str, note: str) -> Response:
    settings = get_context(request).settings
    try:
        with session.begin_nested():
            row = wording.save(session, incident, staff.employee, settings, subject=subject, text=text,
                               html=html, note=note)
    except OmbudError as exc:
        draft = _draft(subject, text, html)
        previews = wording.preview(session, incident, draft, settings) if exc.field == "template" else None
        return _page(request, session, staff, incident, draft=draft, previews=previews, note=note,
                     error=f"Not saved: {exc.message}", status_code=422)
    back = f"/incidents/{incident.id}/notice-wording" if incident else "/incidents/notice-wording"
    return flash(request, RedirectResponse(back, status_code=303), f"Wording version {row.version} saved", "success")


@router.get("/incidents/notice-wording")
def default_wording(request: Request, session: DbSession, staff: Responder) -> Response:
    """The retailer's default notice wording (every incident without its own), its versions, and its editor."""
    return _page(request, session, staff, None)


@router.post("/incidents/notice-wording/preview")
def default_preview(request: Request, session: DbSession, staff: Responder, subject: Field, text: Field,
                    html: Optional = "", note: Optional = "") -> Response:
    return _preview(request, session, staff, None, subject, text, html, "", note)


@router.post("/incidents/notice-wording")
def default_save(request: Request, session: DbSession, staff: Responder, subject: Field, text: Field,
                 html: Optional = "", note: Optional = "") -> Response:
    return _save(request, session, staff, None, subject, text, html, note)


@router.get("/incidents/{incident_id}/notice-wording")
def incident_wording(request: Request, session: DbSession, staff: Responder, incident_id: int) -> Response:
    """An incident's notice wording: what its notices use now, its versions, the editor."""
    return _page(request, session, staff, _incident(session, incident_id))


@router.post("/incidents/{incident_id}/notice-wording/preview")
def incident_preview(request: Request, session: DbSession, staff: Responder, incident_id: int, subject: Field,
                     text: Field, html: Optional = "", customer: Optional = "", note: Optional = "") -> Response:
    """The draft rendered for one real affected customer per jurisdiction (and a chosen customer); nothing saved."""
    return _preview(request, session, staff, _incident(session, incident_id), subject, text, html, customer, note)


@router.post("/incidents/{incident_id}/notice-wording")
def incident_save(request: Request, session: DbSession, staff: Responder, incident_id: int, subject: Field,
                  text: Field, html: Optional = "", note: Optional = "") -> Response:
    """Save the draft as a new version if it renders for every jurisdiction; a change after approval lapses it."""
    return _save(request, session, staff, _incident(session, incident_id), subject, text, html, note)

