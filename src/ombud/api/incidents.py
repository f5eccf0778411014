"""Incidents API: open, scope (verify first), exposure with proofs and exports, notices, regulator reports.

For security analysts, privacy officers and admins; approving notices is a privacy officer's.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ombud.api.deps import CustomerIdPath, CustomerIdQuery, DbSession, Staff, get_context, require_roles
from ombud.incidents import notices, reports, service, workflow
from ombud.incidents import scope as scoping
from ombud.incidents.models import Incident, NoticeChannel
from ombud.incidents.schemas import (
    DeadlineRead,
    DryRunRead,
    ExposurePage,
    ExposureRow,
    IncidentCreate,
    IncidentRead,
    ProofRead,
    ProofsRead,
    Resend,
    ScopeChange,
    ScopeRead,
    SendRead,
    Wording,
)
from ombud.incidents.views import incident_summary
from ombud.staff.models import Role

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
Responder = Annotated[Staff, Depends(require_roles(Role.security_analyst, Role.privacy_officer, Role.admin))]


def _read(session: DbSession, incident: Incident) -> IncidentRead:
    summary = incident_summary(session, incident.id)
    out = IncidentRead.model_validate(incident)
    out.kind, out.status = incident.kind.value, incident.status.value
    out.scope = ScopeRead.model_validate(summary.scope) if summary.scope else None
    out.deadlines = []
    for d in summary.deadlines:
        row = DeadlineRead.model_validate(d)
        row.kind, row.state = d.kind.value, summary.state_of(d)
        out.deadlines.append(row)
    out.notices = summary.notices
    return out


@router.get("", response_model=list[IncidentRead])
def list_incidents(session: DbSession, staff: Responder) -> list[IncidentRead]:
    """Incidents, newest first."""
    return [_read(session, i) for i in service.list_incidents(session)]


@router.post("", response_model=IncidentRead, status_code=201)
def open_incident(body: IncidentCreate, session: DbSession, staff: Responder) -> IncidentRead:
    """Open an incident by hand (or for an escalated alert: `source_alert_id`, idempotent)."""
    incident = service.open_incident(
        session, title=body.title, description=body.description, actors=body.actors, window_start=body.window_start,
        window_end=body.window_end, discovered_at=body.discovered_at, by=staff.employee, kind=body.kind,
        source_alert_id=body.source_alert_id)
    return _read(session, incident)


@router.post("/from-alert/{alert_id}", response_model=IncidentRead, status_code=201)
def open_from_alert(alert_id: int, session: DbSession, staff: Responder) -> IncidentRead:
    """Open the incident of an escalated insider alert (idempotent: the same incident again); 409 if not escalated."""
    return _read(session, workflow.open_from_alert(session, alert_id, staff.employee))


@router.get("/{incident_id}", response_model=IncidentRead)
def get_incident(incident_id: int, session: DbSession, staff: Responder) -> IncidentRead:
    return _read(session, service.get_incident(session, incident_id))


@router.post("/{incident_id}/scope", response_model=ScopeRead)
def scope_incident(incident_id: int, request: Request, session: DbSession, staff: Responder,
                   body: ScopeChange | None = None) -> ScopeRead:
    """Change actors or window if given; verify the whole audit log (409 naming the problem when it fails), then
    compute and store the exposure; the answer carries the difference from the previous scope."""
    incident = service.get_incident(session, incident_id)
    if body is not None and (body.actors is not None or body.window_start or body.window_end):
        workflow.change_scope(session, incident, staff.employee, actors=body.actors,
                              window_start=body.window_start, window_end=body.window_end)
    session.commit()  # scoping signs, verifies and stores in transactions of its own
    return ScopeRead.model_validate(scoping.scope_incident(get_context(request), incident_id, staff.employee.id))


@router.get("/{incident_id}/exposure", response_model=ExposurePage)
def exposure(incident_id: int, session: DbSession, staff: Responder,
             version: Annotated[int | None, Query(ge=1)] = None,
             customer_id: CustomerIdQuery = None,
             offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=5000)] = 500
             ) -> ExposurePage:
    """A scope's rows: customer x item, first and last exposure, events, audit leaves and imported events."""
    chosen = scoping.get_scope(session, service.get_incident(session, incident_id), version)
    frame = scoping.exposure_frame(session, chosen, customer_id)
    page = frame.slice(offset, limit).to_dicts()
    return ExposurePage(version=chosen.version, total=frame.height, offset=offset,
                        items=[ExposureRow(**row) for row in page])


def _export(incident_id: int, session: DbSession, fmt: str, version: int | None) -> Response:
    chosen = scoping.get_scope(session, service.get_incident(session, incident_id), version)
    frame = scoping.exposure_frame(session, chosen)
    buffer = io.BytesIO()
    scoping.export(frame, buffer, fmt)  # type: ignore[arg-type]
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    name = f"incident-{incident_id}-exposure-v{chosen.version}.{fmt}"
    return Response(buffer.getvalue(), media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"})


@router.get("/{incident_id}/exposure.csv")
def exposure_csv(incident_id: int, session: DbSession, staff: Responder,
                 version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """The whole exposure as CSV (leaves and imported ids space-separated)."""
    return _export(incident_id, session, "csv", version)


@router.get("/{incident_id}/exposure.parquet")
def exposure_parquet(incident_id: int, session: DbSession, staff: Responder,
                     version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """The whole exposure as Parquet."""
    return _export(incident_id, session, "parquet", version)


@router.get("/{incident_id}/exposure/{customer_id}/proofs", response_model=ProofsRead)
def proofs(incident_id: int, customer_id: CustomerIdPath, session: DbSession, staff: Responder) -> ProofsRead:
    """Inclusion proofs of the leaves behind one customer's exposure, against the scope's signed checkpoint."""
    chosen = scoping.get_scope(session, service.get_incident(session, incident_id))
    found = scoping.proofs(session, chosen, customer_id)
    return ProofsRead(tree_size=chosen.tree_size, root_hash=chosen.root_hash,
                      proofs=[ProofRead(index=p.index, leaf_hash=p.leaf_hash, proof=p.proof, verified=p.verified)
                              for p in found])


@router.put("/{incident_id}/wording", response_model=IncidentRead)
def wording(incident_id: int, body: Wording, session: DbSession, staff: Responder) -> IncidentRead:
    """The incident's own words for the notices (an approval lapses when they change)."""
    incident = service.get_incident(session, incident_id)
    service.update_wording(session, incident, staff.employee, what_happened=body.what_happened,
                           what_we_are_doing=body.what_we_are_doing, law_enforcement_delay=body.law_enforcement_delay)
    return _read(session, incident)


@router.get("/{incident_id}/notices/dry-run", response_model=DryRunRead)
def dry_run(incident_id: int, request: Request, session: DbSession, staff: Responder) -> DryRunRead:
    """Render every notice, send none: counts per jurisdiction and channel, a masked sample per jurisdiction."""
    incident = service.get_incident(session, incident_id)
    run = notices.dry_run(session, incident, scoping.get_scope(session, incident), get_context(request).settings)
    return DryRunRead(scope_version=run.scope_version, customers=run.customers, already_notified=run.already_notified,
                      by_jurisdiction=run.by_jurisdiction, problems=run.problems,
                      samples={k: {"subject": v.subject, "text": v.text, "html": v.html}
                               for k, v in run.samples.items()})


@router.post("/{incident_id}/notices/approve", response_model=IncidentRead)
def approve(incident_id: int, request: Request, session: DbSession, staff: Responder) -> IncidentRead:
    """A privacy officer approves the notices of the current scope (403 for anyone else)."""
    incident = service.get_incident(session, incident_id)
    notices.approve(session, incident, staff.employee, get_context(request).settings)
    return _read(session, incident)


@router.post("/{incident_id}/notices/send", response_model=SendRead)
def send(incident_id: int, request: Request, session: DbSession, staff: Responder) -> SendRead:
    """Queue every approved notice not yet queued; repeating it queues nothing twice."""
    incident = service.get_incident(session, incident_id)
    result = notices.send(session, incident, staff.employee, get_context(request).settings)
    return SendRead(emails=result.emails, letters=result.letters, skipped=result.skipped,
                    no_address=result.no_address)


@router.post("/{incident_id}/notices/resend", status_code=202)
def resend(incident_id: int, body: Resend, request: Request, session: DbSession, staff: Responder) -> dict[str, Any]:
    """Send one customer's notice again (a bounce, a returned letter), by the same or another channel."""
    incident = service.get_incident(session, incident_id)
    notice = notices.resend(session, incident, body.customer_id, staff.employee, get_context(request).settings,
                            NoticeChannel(body.channel) if body.channel else None)
    return {"customer_id": notice.customer_id, "channel": notice.channel.value, "send": notice.sends,
            "status": notice.status.value}


# Before the JSON route: "{jurisdiction}" would otherwise take "TX.pdf" too.
@router.get("/{incident_id}/reports/{jurisdiction}.pdf")
def report_pdf(incident_id: int, jurisdiction: str, request: Request, session: DbSession, staff: Responder
               ) -> Response:
    """The regulator report as PDF."""
    content = reports.report(session, service.get_incident(session, incident_id), jurisdiction.upper(),
                             get_context(request).settings)
    return Response(reports.report_pdf(content), media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="incident-{incident_id}-'
                                                    f'{jurisdiction.upper()}-report.pdf"', "cache-control": "no-store"})


@router.get("/{incident_id}/reports/{jurisdiction}")
def report_json(incident_id: int, jurisdiction: str, request: Request, session: DbSession, staff: Responder
                ) -> dict[str, Any]:
    """The regulator report for a jurisdiction over its threshold, as JSON."""
    return reports.report(session, service.get_incident(session, incident_id), jurisdiction.upper(),
                          get_context(request).settings)


@router.post("/{incident_id}/reports/{jurisdiction}/submitted", response_model=IncidentRead)
def report_submitted(incident_id: int, jurisdiction: str, session: DbSession, staff: Responder) -> IncidentRead:
    """Record that the report went to the regulator (its deadline is met)."""
    incident = service.get_incident(session, incident_id)
    reports.mark_submitted(session, incident, jurisdiction.upper(), staff.employee)
    return _read(session, incident)

