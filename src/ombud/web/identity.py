"""The discovery page: an agent enters a victim's own identifiers and sees every account that used them,
ranked and explained (references only; details of an account are read through the access broker)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.errors import InvalidInput
from ombud.identity.workflow import discover_for_employee
from ombud.staff.models import Role
from ombud.web.templating import NavItem, register_nav, render

router = APIRouter(tags=["pages"], include_in_schema=False)

_ROLES = (Role.agent, Role.privacy_officer, Role.security_analyst, Role.admin)
Investigator = Annotated[Staff, Depends(require_roles(*_ROLES))]

register_nav(NavItem("Discover", ("/identity/discover",), roles=_ROLES))

_EMPTY = {"names": "", "emails": "", "phones": "", "line1": "", "line2": "", "city": "", "region": "",
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


@router.get("/identity/discover")
def discover_page(request: Request, staff: Investigator) -> Response:
    """The empty discovery form."""
    return render(request, "identity/discover.html", staff, form=dict(_EMPTY), result=None, error=None)


@router.post("/identity/discover")
def discover_submit(
    request: Request,
    session: DbSession,
    staff: Investigator,
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
    """Run discovery for the entered identifiers; the SSN and card numbers are not echoed back."""
    form = {"names": names, "emails": emails, "phones": phones, "line1": line1, "line2": line2, "city": city,
            "region": region, "postal_code": postal_code, "date_of_birth": date_of_birth, "ssn": "",
            "card_numbers": ""}
    ctx = get_context(request)
    try:
        profile = _profile(form | {"ssn": ssn, "card_numbers": card_numbers})
        result = discover_for_employee(session, ctx.keys, staff.employee, profile)
    except InvalidInput as exc:
        return render(request, "identity/discover.html", staff, status_code=422, form=form, result=None,
                      error=exc.message)
    return render(request, "identity/discover.html", staff, form=form, result=result, error=None)
