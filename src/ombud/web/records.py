"""Pages of the records domain.

Console (agents and privacy officers): /records lists requests with a package, a delivery or remediation under
way; /requests/<ref>/records is one request's package, deliveries and downloads, agency authorisations and
remediation steps, with the forms that act on them. Privacy officers: /lookback, the look-back campaign.

Public (no account, no JavaScript): /portal/records/<token> is the download link a victim or an agency received:
a check (reference, one-time code or case number), the download, and a readable page when the link has expired
with a way to have a new one sent to the address on file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.errors import InvalidInput, NotFound, OmbudError, PolicyDenied
from ombud.lookback import service as lookback
from ombud.lookback.models import ContactStatus, LookbackContact
from ombud.records import service as records
from ombud.records.models import AuthorisationBasis, StepStatus, Verification
from ombud.staff.models import Role
from ombud.victim_requests import agency, delivery, remediation, service
from ombud.victim_requests.models import VictimRequest
from ombud.victim_requests.package import package_request
from ombud.victim_requests.states import Status
from ombud.web.tables import Column, Filter, Page, TableSpec, enum_choices
from ombud.web.templating import NavItem, flash, register_nav, render

router = APIRouter(tags=["pages"], include_in_schema=False)
_ROLES = (Role.agent, Role.privacy_officer)
Worker = Annotated[Staff, Depends(require_roles(*_ROLES))]
Officer = Annotated[Staff, Depends(require_roles(Role.privacy_officer))]
register_nav(NavItem("Records", ("/records",), roles=_ROLES))
register_nav(NavItem("Look-back", ("/lookback",), roles=(Role.privacy_officer,)))

_ACTIVE = (Status.package, Status.delivered, Status.remediating)


def _attempt(request: Request, session: Session, back: str, action: Callable[[], Any], done: str) -> Response:
    """Run a form's action in a savepoint: a refusal is rolled back and shown, success is announced."""
    try:
        with session.begin_nested():
            result = action()
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        return flash(request, RedirectResponse(back, status_code=303), exc.message + where, "error")
    return flash(request, RedirectResponse(back, status_code=303), done.format(result=result), "success")


def _request(session: Session, ref: str, staff: Staff) -> VictimRequest:
    found = service.find_request(session, ref)
    service.require_worker(found, staff.employee)
    return found


@router.get("/records")
def records_home(request: Request, session: DbSession, staff: Worker) -> Response:
    """Requests whose records are being packaged, delivered or remediated."""
    rows = []
    for r in session.scalars(select(VictimRequest).where(VictimRequest.status.in_(_ACTIVE))
                             .order_by(VictimRequest.due_at)):
        steps = remediation.sync(session, r.id)
        rows.append({"r": r, "package": records.current_package(session, r.id),
                     "steps": len(steps), "open_steps": sum(s.status is not StepStatus.confirmed for s in steps),
                     "failed": sum(s.status is StepStatus.failed for s in steps)})
    return render(request, "records/home.html", staff, rows=rows)


@router.get("/requests/{ref}/records")
def request_records(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    """One request's package, deliveries, downloads, agencies and remediation."""
    found = _request(session, ref, staff)
    packages = records.packages_of(session, found.id)
    deliveries = delivery.deliveries_of(session, found.id)
    downloads = delivery.downloads_of(session, [d.id for d in deliveries])
    steps = remediation.sync(session, found.id)
    ctx = get_context(request)
    named = service.agency_of(ctx.keys, found)
    return render(request, "records/request.html", staff, r=found, packages=packages, deliveries=deliveries,
                  downloads=downloads, authorisations=agency.authorisations_of(session, found.id), steps=steps,
                  labels=remediation.LABELS, named_agency=named, legal_text=agency.LEGAL_PROCESS_TEXT,
                  can_close=bool(steps) and all(s.status is StepStatus.confirmed for s in steps)
                  and found.status is Status.remediating,
                  webhook_mode=ctx.settings.webhook_url is not None)


def _back(ref: str) -> str:
    return f"/requests/{ref}/records"


@router.post("/requests/{ref}/records/package")
def make_package(ref: str, request: Request, session: DbSession, staff: Worker,
                 navigational: Annotated[bool, Form()] = False) -> Response:
    found = _request(session, ref, staff)
    settings = get_context(request).settings
    return _attempt(request, session, _back(ref), lambda: package_request(
        session, settings, found, actor=staff.employee, include_navigational=navigational).file_name,
        "Package {result} generated; its manifest hash is in the audit log.")


@router.post("/requests/{ref}/records/deliver")
def deliver_victim(ref: str, request: Request, session: DbSession, staff: Worker,
                   verification: Annotated[str, Form()] = "reference",
                   days: Annotated[int, Form(ge=1, le=delivery.MAX_DAYS)] = delivery.DEFAULT_DAYS,
                   downloads: Annotated[int, Form(ge=1, le=delivery.MAX_DOWNLOADS)] = delivery.DEFAULT_DOWNLOADS,
                   ) -> Response:
    found = _request(session, ref, staff)
    ctx = get_context(request)

    def act() -> int:
        try:
            method = Verification(verification)
        except ValueError:
            raise InvalidInput("the check is reference or code", field="verification") from None
        made, _token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, found, actor=staff.employee,
                                                  verification=method, days=days, max_downloads=downloads)
        return made.id

    return _attempt(request, session, _back(ref), act, "Delivery {result}: the link is in the outbox for the victim.")


@router.post("/requests/{ref}/records/postal")
def deliver_postal(ref: str, request: Request, session: DbSession, staff: Worker,
                   tracking: Annotated[str | None, Form()] = None) -> Response:
    found = _request(session, ref, staff)
    ctx = get_context(request)
    return _attempt(request, session, _back(ref), lambda: delivery.record_postal(
        session, ctx.settings, ctx.keys, found, actor=staff.employee, tracking=tracking).id,
        "Postal delivery {result} recorded.")


@router.post("/requests/{ref}/records/agencies")
def add_agency(ref: str, request: Request, session: DbSession, staff: Worker,
               agency_name: Annotated[str, Form()] = "", officer: Annotated[str, Form()] = "",
               badge_or_case: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
               phone: Annotated[str | None, Form()] = None, source: Annotated[str, Form()] = "letter",
               basis: Annotated[str, Form()] = "victim") -> Response:
    found = _request(session, ref, staff)
    legal = basis == AuthorisationBasis.legal_process.value
    return _attempt(request, session, _back(ref), lambda: agency.record_authorisation(
        session, found, agency=agency_name, officer=officer, badge_or_case=badge_or_case, email=email, phone=phone,
        source=source, actor=staff.employee,
        basis=AuthorisationBasis.legal_process if legal else AuthorisationBasis.victim).id,
        "Agency request {result} recorded: " + agency.LEGAL_PROCESS_TEXT if legal
        else "Authorisation {result} recorded.")


@router.post("/requests/{ref}/records/agencies/from-request")
def agency_from_request(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    found = _request(session, ref, staff)
    keys = get_context(request).keys
    return _attempt(request, session, _back(ref), lambda: agency.from_portal(
        session, keys, found, actor=staff.employee).id, "Authorisation {result} recorded from the request.")


@router.post("/requests/{ref}/records/agencies/{authorisation_id}/deliver")
def deliver_agency(ref: str, authorisation_id: int, request: Request, session: DbSession, staff: Worker,
                   address: Annotated[str, Form()] = "") -> Response:
    found = _request(session, ref, staff)
    ctx = get_context(request)
    return _attempt(request, session, _back(ref), lambda: delivery.deliver_to_agency(
        session, ctx.settings, ctx.keys, found, authorisation_id, actor=staff.employee, address=address)[0].id,
        "Delivery {result}: the agency's own link is in the outbox.")


@router.post("/requests/{ref}/records/remediation")
def start_remediation(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    found = _request(session, ref, staff)
    ctx = get_context(request)
    return _attempt(request, session, _back(ref), lambda: len(remediation.plan(
        session, ctx.settings, ctx.keys, found, actor=staff.employee)), "Remediation: {result} steps.")


@router.post("/requests/{ref}/records/remediation/{step_id}/retry")
def retry_step(ref: str, step_id: int, request: Request, session: DbSession, staff: Worker) -> Response:
    found = _request(session, ref, staff)
    ctx = get_context(request)
    return _attempt(request, session, _back(ref), lambda: remediation.retry(
        session, ctx.settings, ctx.keys, found, step_id, actor=staff.employee).id, "Step {result} sent again.")


@router.post("/requests/{ref}/records/close")
def close_request(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    found = _request(session, ref, staff)
    return _attempt(request, session, _back(ref), lambda: remediation.close(session, found, actor=staff.employee)
                    .reference, "Request {result} closed.")


# --- the public download link --------------------------------------------------------------------------------


def _link_page(request: Request, link: delivery.Link | None, token: str, *, error: str | None = None,
               notice: str | None = None, status_code: int = 200) -> Response:
    return render(request, "records/link.html", None, link=link, token=token, error=error, notice=notice,
                  status_code=status_code, state=link.state if link else "unknown",
                  agency=link is not None and link.delivery.recipient.value == "agency",
                  by_code=link is not None and link.delivery.verification is Verification.code)


@router.get("/portal/records/{token}")
def link_page(token: str, request: Request, session: DbSession) -> Response:
    """The link's page: the check to download, or why it no longer works and how to get a new one."""
    try:
        link = delivery.find_link(session, token)
    except NotFound:
        return _link_page(request, None, token, status_code=404)
    return _link_page(request, link, token, status_code=200 if link.open else 410)


@router.post("/portal/records/{token}")
def link_download(token: str, request: Request, session: DbSession,
                  answer: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Check the answer and send the zip; a wrong answer or a closed link is a page, never the file. Every attempt
    is committed with its audit leaf, a refused one too (so no savepoint here)."""
    ctx = get_context(request)
    try:
        link, data = delivery.download(session, ctx.settings, ctx.keys, token, answer)
    except NotFound:
        return _link_page(request, None, token, status_code=404)
    except delivery.CheckFailed as exc:
        return _link_page(request, delivery.find_link(session, token), token, error=exc.message, status_code=422)
    except PolicyDenied:
        return _link_page(request, delivery.find_link(session, token), token, status_code=410)
    return Response(data, media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="{link.package.file_name}"',
        "cache-control": "no-store", "x-content-type-options": "nosniff"})


@router.post("/portal/records/{token}/code")
def link_code(token: str, request: Request, session: DbSession) -> Response:
    """Mail a one-time code to the address on file."""
    ctx = get_context(request)
    try:
        with session.begin_nested():
            delivery.send_code(session, ctx.settings, ctx.keys, token)
    except NotFound:
        return _link_page(request, None, token, status_code=404)
    except PolicyDenied as exc:
        return _link_page(request, delivery.find_link(session, token), token, error=exc.message, status_code=409)
    return _link_page(request, delivery.find_link(session, token), token,
                      notice="We sent a code to the email address on your request. It works for 15 minutes.")


@router.post("/portal/records/{token}/renew")
def link_renew(token: str, request: Request, session: DbSession) -> Response:
    """Have a new link sent to the address on file."""
    ctx = get_context(request)
    try:
        with session.begin_nested():
            sent = delivery.renew(session, ctx.settings, ctx.keys, token)
    except NotFound:
        return _link_page(request, None, token, status_code=404)
    except PolicyDenied as exc:
        return _link_page(request, delivery.find_link(session, token), token, error=exc.message, status_code=409)
    notice = ("We sent a new link to the email address we have on file. It may take a few minutes to arrive."
              if sent else "A new link was already sent to the email address we have on file: please check it.")
    return _link_page(request, delivery.find_link(session, token), token, notice=notice)


# --- the look-back -----------------------------------------------------------------------------------------


PEOPLE_TABLE = TableSpec(
    name="people",
    columns=(
        Column("reference", "Reference", sort=LookbackContact.reference), Column("ticket", "Ticket"),
        Column("contacted", "Contacted", sort=LookbackContact.contacted_at),
        Column("channel", "Channel", sort=LookbackContact.channel),
        Column("status", "Status", sort=LookbackContact.status), Column("why", "Why not written to"),
        Column("request", "New request"),
    ),
    filters=(
        Filter("status", "Status", LookbackContact.status,
               choices=enum_choices(ContactStatus)),
        Filter("reference", "Reference", LookbackContact.reference),
    ),
    default_sort="-contacted",
    tiebreak=LookbackContact.id,
)


def _lookback_page(request: Request, session: Session, staff: Staff, *, people: Page | None,
                   errors: list[str] | None = None, status_code: int = 200) -> Response:
    return render(request, "records/lookback.html", staff, counts=lookback.counts(session), people=people,
                  since=lookback.DEFAULT_SINCE.isoformat(), errors=errors, status_code=status_code)


@router.get("/lookback")
def lookback_page(request: Request, session: DbSession, staff: Officer) -> Response:
    """The look-back: counts, each person's status (paged, sorted, filtered), import, plan and send."""
    lookback.link_responses(session)
    people = PEOPLE_TABLE.run(session, select(LookbackContact), request.query_params)
    return _lookback_page(request, session, staff, people=people)


@router.post("/lookback/import")
async def lookback_import(request: Request, staff: Officer) -> Response:
    """Import a CSV of past contacts; every bad row is named, and nothing is imported while any is bad."""
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    ctx = get_context(request)
    with ctx.sessions() as session, session.begin():
        result = lookback.import_contacts(session, ctx.keys, data, actor=staff.employee.external_id)
        if result.errors:  # nothing was written
            return _lookback_page(request, session, staff, people=None,
                                  errors=[str(e) for e in result.errors[:500]], status_code=422)
    return flash(request, RedirectResponse("/lookback", status_code=303),
                 f"Imported {result.imported}; {result.already_held} already held.", "success")


@router.post("/lookback/plan")
def lookback_plan(request: Request, session: DbSession, staff: Officer,
                  since: Annotated[str, Form()] = "2024-04-01") -> Response:
    def act() -> str:
        try:
            cutoff = date.fromisoformat(since)
        except ValueError:
            raise InvalidInput("the cut-off is a date like 2024-04-01", field="since") from None
        result = lookback.plan(session, since=cutoff)
        return f"{result.candidates} to write to ({result.by_email} by email, {result.by_post} by post)"

    return _attempt(request, session, "/lookback?status=candidate", act, "Planned: {result}.")


@router.post("/lookback/send")
def lookback_send(request: Request, session: DbSession, staff: Officer,
                  since: Annotated[str, Form()] = "2024-04-01") -> Response:
    ctx = get_context(request)

    def act() -> str:
        sent = lookback.send(session, ctx.settings, ctx.keys, actor=staff.employee.external_id,
                             since=date.fromisoformat(since))
        return f"campaign {sent.campaign.id}: {sent.emails} emails queued, {sent.campaign.postal} letters to print"

    return _attempt(request, session, "/lookback", act, "Sent: {result}.")

