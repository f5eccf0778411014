"""The discovery page, bound to a purpose: a search runs only under a victim's request (from the request's own page,
on its verified identifiers) or an open investigation case the employee may work (with the identifiers entered
here). The free-form search without a purpose is gone; every search and what it revealed is on the audit log.
Results hold references only; details of an account are read through the access broker."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from ombud.access import cases
from ombud.access.models import CaseStatus
from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.errors import InvalidInput, OmbudError
from ombud.staff.models import Role
from ombud.victim_requests import discovery, service, states
from ombud.web.templating import NavItem, register_nav, render

router = APIRouter(tags=["pages"], include_in_schema=False)

_ROLES = (Role.agent, Role.privacy_officer, Role.security_analyst, Role.admin)
Investigator = Annotated[Staff, Depends(require_roles(*_ROLES))]

register_nav(NavItem("Discover", ("/identity/discover",), roles=_ROLES))

_EMPTY = {"purpose": "", "names": "", "emails": "", "phones": "", "line1": "", "line2": "", "city": "", "region": "",
          "postal_code": "", "date_of_birth": "", "ssn": "", "card_numbers": ""}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()] if text else []


def _profile(form: dict[str, str]) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "names": [n.strip() for n in form["names"].splitlines() if n.strip()],
        "emails": _lines(form["emails"]),
        "phones": [p.strip() for p in form["phones"].splitlines() if p.strip()],
        "card_numbers": [c.strip() for c in form["card_numbers"].splitlines() if c.strip()],
    }
    if form["line1"].strip():
        profile["addresses"] = [{"line1": form["line1"], "line2": form["line2"] or None, "city": form["city"] or None,
                                 "region": form["region"] or None, "postal_code": form["postal_code"] or None}]
    if form["date_of_birth"].strip():
        profile["date_of_birth"] = form["date_of_birth"].strip()
    if form["ssn"].strip():
        profile["ssn"] = form["ssn"].strip()
    return profile


def _purposes(session: Any, staff: Staff) -> dict[str, Any]:
    """The purposes this employee may search under: their open investigation cases and requests ready for it."""
    employee = staff.employee
    open_cases = [c for c in cases.list_cases(session, status=CaseStatus.open, limit=500)
                  if discovery.case_problem(c, employee) is None]
    ready, _ = service.list_requests(session, mine=employee, limit=200)
    requests = [r for r in ready if r.status in (states.Status.verified, states.Status.discovery,
                                                 states.Status.review)]
    return {"cases": open_cases, "requests": requests}


@router.get("/identity/discover")
def discover_page(request: Request, session: DbSession, staff: Investigator) -> Response:
    """The discovery form: choose the purpose first."""
    return render(request, "identity/discover.html", staff, form=dict(_EMPTY), result=None, error=None,
                  **_purposes(session, staff))


@router.post("/identity/discover")
def discover_submit(
    request: Request,
    session: DbSession,
    staff: Investigator,
    purpose: Annotated[str, Form(max_length=40)] = "",
    names: Annotated[str, Form(max_length=2000)] = "",
    emails: Annotated[str, Form(max_length=2000)] = "",
    phones: Annotated[str, Form(max_length=1000)] = "",
    line1: Annotated[str, Form(max_length=200)] = "",
    line2: Annotated[str, Form(max_length=200)] = "",
    city: Annotated[str, Form(max_length=100)] = "",
    region: Annotated[str, Form(max_length=50)] = "",
    postal_code: Annotated[str, Form(max_length=20)] = "",
    date_of_birth: Annotated[str, Form(max_length=40)] = "",
    ssn: Annotated[str, Form(max_length=20)] = "",
    card_numbers: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Run discovery under the chosen case for the entered identifiers; the SSN and card numbers are not echoed."""
    form = {"purpose": purpose,
            "names": names, "emails": emails, "phones": phones, "line1": line1, "line2": line2, "city": city,
            "region": region, "postal_code": postal_code, "date_of_birth": date_of_birth, "ssn": "",
            "card_numbers": ""}
    ctx = get_context(request)
    choices = _purposes(session, staff)
    try:
        profile = _profile(form | {"ssn": ssn, "card_numbers": card_numbers})
        with session.begin_nested():
            result = discovery.search_under_purpose(session, ctx.keys, staff.employee, purpose, profile)
    except OmbudError as exc:
        status = exc.status_code if isinstance(exc, InvalidInput) else 403
        return render(request, "identity/discover.html", staff, status_code=status, form=form, result=None,
                      error=exc.message, **choices)
    return render(request, "identity/discover.html", staff, form=form, result=result, error=None, **choices)
