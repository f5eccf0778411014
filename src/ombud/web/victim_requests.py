"""The victims' public portal: how to ask (/request/how), the request form (/request), the status page behind the
secret link (/request/status/<token>) and the retailer's own identity-theft affidavit (/request/affidavit).

No account, no JavaScript, plain language, labelled fields; a form with a mistake comes back with every field
named and what was typed kept (except an SSN and card numbers, which are never written back into a page); a
refused file writes nothing; the form carries an idempotency key, so sending it twice makes one request.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ombud.api.deps import DbSession, get_context
from ombud.errors import InvalidInput, NotFound
from ombud.victim_requests import service, views, workflow
from ombud.victim_requests.models import EvidenceKind
from ombud.victim_requests.schemas import RequestCreate
from ombud.victim_requests.states import GROUND_TEXT, Channel
from ombud.web.templating import flash, render

router = APIRouter(prefix="/request", tags=["pages"], include_in_schema=False)

TEXT_FIELDS = (
    "full_name", "other_names", "email", "other_emails", "phone", "other_phones", "line1", "line2", "city",
    "region", "postal_code", "prev_line1", "prev_line2", "prev_city", "prev_region", "prev_postal_code",
    "date_of_birth", "transaction_date", "account_or_transaction_number", "description", "agency_name",
    "agency_contact_person", "agency_email", "agency_phone", "agency_report_number", "contact_preference",
    "report_kind",
)
#: Never written back into a page.
SECRET_FIELDS = ("ssn", "card_numbers")
#: File inputs of the form and the kind of evidence each one is.
FILE_FIELDS = {"government_id": EvidenceKind.government_id, "report": EvidenceKind.police_report,
               "affidavit": EvidenceKind.affidavit}
#: Where a schema error's location shows on the form.
_PLACE = {("address",): "line1", ("previous_addresses",): "prev_line1", ("agency",): "agency_name"}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _address(form: dict[str, str], prefix: str = "") -> dict[str, Any] | None:
    if not form.get(prefix + "line1", "").strip():
        return None
    return {"line1": form[prefix + "line1"], "line2": form.get(prefix + "line2") or None,
            "city": form.get(prefix + "city") or None, "region": form.get(prefix + "region") or None,
            "postal_code": form.get(prefix + "postal_code") or None}


def to_request(form: dict[str, str]) -> dict[str, Any]:
    """The request the portal form describes, in the API's shape."""
    agency = None
    if any(form.get(k, "").strip() for k in ("agency_name", "agency_contact_person", "agency_email",
                                             "agency_phone", "agency_report_number")):
        agency = {"agency_name": form.get("agency_name", ""),
                  "contact_person": form.get("agency_contact_person") or None,
                  "email": form.get("agency_email") or None, "phone": form.get("agency_phone") or None,
                  "report_number": form.get("agency_report_number") or None}
    previous = _address(form, "prev_")
    return {
        "full_name": form.get("full_name", ""), "other_names": _lines(form.get("other_names", "")),
        "email": form.get("email") or None, "other_emails": _lines(form.get("other_emails", "")),
        "phone": form.get("phone") or None, "other_phones": _lines(form.get("other_phones", "")),
        "address": _address(form), "previous_addresses": [previous] if previous else [],
        "date_of_birth": form.get("date_of_birth") or None, "ssn": form.get("ssn") or None,
        "card_numbers": _lines(form.get("card_numbers", "")),
        "transaction_date": form.get("transaction_date") or None,
        "account_or_transaction_number": form.get("account_or_transaction_number") or None,
        "description": form.get("description") or None, "agency": agency,
        "contact_preference": form.get("contact_preference") or "email",
        "statement_true": form.get("statement_true") == "yes",
    }


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Each schema error under the name of the form field it belongs to (the first error per field)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if not loc:
            name = "form"
        elif loc[0] == "address" and len(loc) > 1:
            name = loc[1]
        elif loc[0] == "previous_addresses" and len(loc) > 2:
            name = "prev_" + loc[2]
        elif loc[0] == "agency" and len(loc) > 1:
            name = "agency_" + ("name" if loc[1] == "agency_name" else loc[1])
        else:
            name = _PLACE.get(loc[:1], loc[0])
        out.setdefault(name, message)
    return out


def _form_page(request: Request, form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Response:
    ctx = get_context(request)
    return render(request, "victim_requests/form.html", None, status_code=status_code, form=form, errors=errors,
                  settings=ctx.settings, max_mb=ctx.settings.requests_max_upload_mb,
                  idempotency_key=form.get("idempotency_key") or secrets.token_urlsafe(24))


@router.get("")
def request_form(request: Request) -> Response:
    """The request form."""
    return _form_page(request, {}, {})


@router.post("")
async def submit_request(request: Request, session: DbSession) -> Response:
    """Take the request in; on success, go to its status page (the link is the requester's to keep)."""
    ctx = get_context(request)
    raw = await request.form(max_files=len(FILE_FIELDS), max_fields=100)
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    kept = {k: form.get(k, "") for k in (*TEXT_FIELDS, "idempotency_key", "statement_true")}
    try:
        data = RequestCreate.model_validate(to_request(form))
    except ValidationError as exc:
        return _form_page(request, kept, field_errors(exc), status_code=422)
    uploads = []
    for name, kind in FILE_FIELDS.items():
        file = raw.get(name)
        if isinstance(file, UploadFile) and file.filename:
            content = await file.read(ctx.settings.requests_max_upload_mb * 1024 * 1024 + 1)
            if name == "report" and form.get("report_kind") == "ftc":
                kind = EvidenceKind.ftc_report
            uploads.append(service.Upload(kind, file.filename, content, field=name))
    try:
        with session.begin_nested():
            intake = service.submit(session, ctx.keys, ctx.settings, data, channel=Channel.portal,
                                    idempotency_key=form.get("idempotency_key") or None, uploads=uploads)
            if intake.created:
                workflow.send_receipt(session, ctx.keys, ctx.settings, intake.request, intake.token)
    except InvalidInput as exc:
        return _form_page(request, kept, {exc.field or "form": exc.message}, status_code=422)
    response = RedirectResponse(f"/request/status/{intake.token}", status_code=303)
    return flash(request, response, f"We received your request. Your reference is {intake.request.reference}. "
                                    "Keep the address of this page: it is your private link to follow the request.",
                 "success")


@router.get("/how")
def how_to_ask(request: Request) -> Response:
    """How to ask for the records: the designated channels, what to send, what you get, the deadline."""
    return render(request, "victim_requests/how.html", None, settings=get_context(request).settings,
                  grounds=list(GROUND_TEXT.values()))


@router.get("/affidavit")
def affidavit(request: Request) -> Response:
    """The retailer's own identity-theft affidavit, to print, complete and sign (the FTC's form serves as well)."""
    return render(request, "victim_requests/affidavit.html", None, settings=get_context(request).settings)


@router.get("/status/{token}")
def status_page(token: str, request: Request, session: DbSession) -> Response:
    """The requester's status page: the stage, the due date, what we asked for, a place to send more."""
    ctx = get_context(request)
    found = service.by_token(session, token)
    return render(request, "victim_requests/status.html", None, token=token,
                  status=views.public_status(ctx.settings, found, session),
                  max_mb=ctx.settings.requests_max_upload_mb)


@router.post("/status/{token}/files")
async def send_more(token: str, request: Request, session: DbSession) -> Response:
    """The requester sends another document through their link (it answers a request for more information)."""
    ctx = get_context(request)
    found = service.by_token(session, token)
    raw = await request.form(max_files=1, max_fields=5)
    file = raw.get("file")
    back = RedirectResponse(f"/request/status/{token}", status_code=303)
    if not isinstance(file, UploadFile) or not file.filename:
        return flash(request, back, "Choose a file to send.", "error")
    try:
        kind = EvidenceKind(str(raw.get("kind") or "other"))
    except ValueError:
        kind = EvidenceKind.other
    content = await file.read(ctx.settings.requests_max_upload_mb * 1024 * 1024 + 1)
    try:
        with session.begin_nested():
            service.add_evidence(session, ctx.keys, ctx.settings, found, service.Upload(kind, file.filename, content),
                                 actor="victim")
            workflow.information_received(session, found)
    except InvalidInput as exc:
        return flash(request, back, exc.message.removeprefix("file: "), "error")
    return flash(request, back, "Thank you: we received your file.", "success")


__all__ = ["NotFound", "router"]
