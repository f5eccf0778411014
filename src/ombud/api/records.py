"""Records API: a request's package, deliveries, agency authorisations and remediation; package verification;
the look-back. Agents and privacy officers (the look-back: privacy officers)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.api.errors import error_json
from ombud.errors import InvalidInput
from ombud.lookback import service as lookback
from ombud.lookback.models import ContactStatus
from ombud.records import service as records
from ombud.records.models import AuthorisationBasis, Verification
from ombud.records.schemas import (
    AuthorisationIn,
    AuthorisationRead,
    DeliveryCreated,
    DeliveryIn,
    DeliveryRead,
    LookbackContactRead,
    LookbackImportRead,
    LookbackPlanRead,
    LookbackSendRead,
    PackageIn,
    PackageRead,
    RequestRecords,
    StepRead,
    VerifyRead,
)
from ombud.staff.models import Role
from ombud.victim_requests import agency, delivery, remediation, service
from ombud.victim_requests.models import VictimRequest
from ombud.victim_requests.package import package_request

router = APIRouter(tags=["records"])
Worker = Annotated[Staff, Depends(require_roles(Role.agent, Role.privacy_officer))]
Officer = Annotated[Staff, Depends(require_roles(Role.privacy_officer))]
_BASE = "/api/victim-requests/{ref}"


def _request(session: DbSession, ref: str, staff: Staff) -> VictimRequest:
    found = service.find_request(session, ref)
    service.require_worker(found, staff.employee)
    return found


def _records(session: DbSession, found: VictimRequest) -> RequestRecords:
    return RequestRecords(
        reference=found.reference, status=found.status.value,
        packages=[PackageRead.model_validate(p) for p in records.packages_of(session, found.id)],
        deliveries=[DeliveryRead.model_validate(d) for d in delivery.deliveries_of(session, found.id)],
        authorisations=[AuthorisationRead.model_validate(a) for a in agency.authorisations_of(session, found.id)],
        remediation=[StepRead.model_validate(s) for s in remediation.sync(session, found.id)],
    )


@router.get(_BASE + "/records", response_model=RequestRecords)
def request_records(ref: str, session: DbSession, staff: Worker) -> RequestRecords:
    """A request's packages, deliveries, agency authorisations and remediation steps."""
    return _records(session, _request(session, ref, staff))


@router.post(_BASE + "/package", response_model=PackageRead, status_code=201)
def make_package(ref: str, body: PackageIn, request: Request, session: DbSession, staff: Worker) -> PackageRead:
    """Generate (again) the package of the request's confirmed-fraud matches; its manifest hash is audited."""
    found = _request(session, ref, staff)
    made = package_request(session, get_context(request).settings, found, actor=staff.employee,
                           include_navigational=body.include_navigational)
    return PackageRead.model_validate(made)


@router.post(_BASE + "/deliveries", response_model=DeliveryCreated, status_code=201)
def deliver(ref: str, body: DeliveryIn, request: Request, session: DbSession, staff: Worker) -> DeliveryCreated:
    """Deliver the newest package: a link mailed to the victim, or to an authorised agency at its authorised
    address, or a posted copy recorded."""
    found = _request(session, ref, staff)
    ctx = get_context(request)
    if body.to == "postal":
        made = delivery.record_postal(session, ctx.settings, ctx.keys, found, actor=staff.employee,
                                      tracking=body.tracking)
        return DeliveryCreated.model_validate(made)
    if body.to == "agency":
        if body.authorisation_id is None or body.address is None:
            raise InvalidInput("an agency delivery needs authorisation_id and address", field="authorisation_id")
        made, token = delivery.deliver_to_agency(session, ctx.settings, ctx.keys, found, body.authorisation_id,
                                                 actor=staff.employee, address=str(body.address), days=body.days,
                                                 max_downloads=body.max_downloads)
    else:
        made, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, found, actor=staff.employee,
                                                 verification=Verification(body.verification), days=body.days,
                                                 max_downloads=body.max_downloads)
    result = DeliveryCreated.model_validate(made)
    result.link = delivery.link_for(ctx.settings, token)
    return result


@router.post(_BASE + "/agencies", response_model=AuthorisationRead, status_code=201)
def add_agency(ref: str, body: AuthorisationIn, session: DbSession, staff: Worker) -> AuthorisationRead:
    """Record an agency the victim authorised; basis legal_process records an agency's own request (no records
    are sent on that path: it needs a subpoena)."""
    found = _request(session, ref, staff)
    made = agency.record_authorisation(
        session, found, agency=body.agency, officer=body.officer, badge_or_case=body.badge_or_case,
        email=str(body.email), phone=body.phone, source=body.source, actor=staff.employee,
        basis=AuthorisationBasis(body.basis))
    return AuthorisationRead.model_validate(made)


@router.post(_BASE + "/remediation", response_model=list[StepRead])
def start_remediation(ref: str, request: Request, session: DbSession, staff: Worker) -> list[StepRead]:
    """Create and start the remediation steps (once each); the request moves to remediating."""
    found = _request(session, ref, staff)
    ctx = get_context(request)
    return [StepRead.model_validate(s) for s in remediation.plan(session, ctx.settings, ctx.keys, found,
                                                                  actor=staff.employee)]


@router.post(_BASE + "/remediation/{step_id}/retry", response_model=StepRead)
def retry_step(ref: str, step_id: int, request: Request, session: DbSession, staff: Worker) -> StepRead:
    """Send a failed step's command again (or apply it again to Ombud's copy)."""
    found = _request(session, ref, staff)
    ctx = get_context(request)
    return StepRead.model_validate(remediation.retry(session, ctx.settings, ctx.keys, found, step_id,
                                                     actor=staff.employee))


@router.post(_BASE + "/close", response_model=RequestRecords)
def close(ref: str, session: DbSession, staff: Worker) -> RequestRecords:
    """Close the request; 409 while a remediation step is unconfirmed."""
    found = _request(session, ref, staff)
    remediation.close(session, found, actor=staff.employee)
    return _records(session, found)


@router.post("/api/records/verify", response_model=VerifyRead)
def verify(session: DbSession, _staff: Worker,
           body: Annotated[bytes, Body(media_type="application/zip", description="The package's zip")]) -> VerifyRead:
    """Check a package zip against the audit log (files against the manifest, the manifest against its leaf)."""
    result = records.verify_package(session, body)
    return VerifyRead(ok=result.ok, name=result.name, manifest_sha256=result.manifest_sha256,
                      files_checked=result.files_checked, audit_index=result.audit_index,
                      in_checkpoint=result.in_checkpoint, problems=result.problems, notes=result.notes)


@router.post("/api/lookback/import", response_model=LookbackImportRead)
def lookback_import(request: Request, session: DbSession, staff: Officer,
                    body: Annotated[bytes, Body(media_type="text/csv", description="CSV of past contacts")],
                    skip_bad: bool = False) -> LookbackImportRead | Response:
    """Import past contacts (docs/records.md); with bad rows nothing is imported (422 naming each bad row's line
    and field) unless skip_bad (the good rows imported, the bad ones named; 422 still when no row was good)."""
    result = lookback.import_contacts(session, get_context(request).keys, body, actor=staff.employee.external_id,
                                      skip_bad=skip_bad)
    if result.errors and (not skip_bad or result.imported + result.already_held == 0):
        problems = [{"field": f"line {e.line}, {e.field}", "message": e.message} for e in result.errors[:20]]
        bad = len({e.line for e in result.errors})
        return error_json(422, f"nothing imported: {bad} bad row(s), first {result.errors[0]}", "body", problems)
    return LookbackImportRead(imported=result.imported, already_held=result.already_held,
                              errors=[str(e) for e in result.errors])


@router.post("/api/lookback/plan", response_model=LookbackPlanRead)
def lookback_plan(session: DbSession, _staff: Officer, since: date = lookback.DEFAULT_SINCE) -> LookbackPlanRead:
    """Decide who gets a letter."""
    result = lookback.plan(session, since=since)
    return LookbackPlanRead(since=since, candidates=result.candidates, by_email=result.by_email,
                            by_post=result.by_post, excluded=dict(result.excluded))


@router.post("/api/lookback/send", response_model=LookbackSendRead)
def lookback_send(request: Request, session: DbSession, staff: Officer,
                  since: date = lookback.DEFAULT_SINCE) -> LookbackSendRead:
    """Queue the letter to every candidate."""
    ctx = get_context(request)
    sent = lookback.send(session, ctx.settings, ctx.keys, actor=staff.employee.external_id, since=since)
    return LookbackSendRead(campaign=sent.campaign.id, emails=sent.emails, letters=sent.campaign.postal)


@router.get("/api/lookback/contacts", response_model=list[LookbackContactRead])
def lookback_contacts(session: DbSession, _staff: Officer, status: ContactStatus | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[LookbackContactRead]:
    """Past contacts and what the look-back did about each (references, not names)."""
    lookback.link_responses(session)
    return [LookbackContactRead.model_validate(c) for c in lookback.list_contacts(session, status=status,
                                                                                  limit=limit)]
