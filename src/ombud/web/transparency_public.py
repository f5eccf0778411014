"""The customer's public "who accessed my data and why" page and its JSON twin, reached by a signed link.

No account and no JavaScript: the retailer's site mints a link valid for minutes (ombud.incidents.links); a
forged, tampered or expired one gets the same 403 page, which says nothing about why or about whom. The page
shows when, which kind of data, for what kind of purpose, and the team and region of whoever looked — never
their name — and the incidents that touched this customer, with the notice they were sent.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ombud.api.deps import DbSession, get_context
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.incidents import links
from ombud.incidents.customer import CustomerView, customer_view
from ombud.web.templating import PAGE_HEADERS, templates

router = APIRouter(tags=["customer transparency"])
log = logging.getLogger(__name__)

#: The token is a credential in the URL: never sent on as a referrer, never cached.
PUBLIC_HEADERS = {**PAGE_HEADERS, "referrer-policy": "no-referrer", "cache-control": "no-store, max-age=0"}
Token = Annotated[str, Query(max_length=400, description="The signed link's token (from the retailer's site).")]


def _customer(request: Request, token: str) -> str | None:
    ctx = get_context(request)
    try:
        return links.verify(links.link_key(ctx.settings), token,
                            max_minutes=ctx.settings.transparency_link_max_minutes)
    except links.LinkRefused as exc:
        log.info("transparency link refused (%s)", exc)  # the cause only: no token, no customer id
        return None


def _record_view(session: DbSession, customer_id: str, face: str) -> None:
    append_event(session, AuditEvent(action="transparency.view", actor_type="customer", actor_id=None,
                                     customer_id=customer_id, detail={"face": face}))


def _refused_page(request: Request) -> HTMLResponse:
    response = templates.TemplateResponse(request, "transparency/refused.html", {"nav": [], "viewer": None},
                                          status_code=403)
    response.headers.update(PUBLIC_HEADERS)
    return response


@router.get("/my-data", response_class=HTMLResponse, include_in_schema=False)
def my_data_page(request: Request, session: DbSession, token: Token = "") -> Response:
    """The customer's page."""
    customer_id = _customer(request, token)
    if customer_id is None:
        return _refused_page(request)
    view = customer_view(session, customer_id, get_context(request).settings)
    _record_view(session, customer_id, "page")
    response = templates.TemplateResponse(request, "transparency/my_data.html",
                                          {"view": view, "nav": [], "viewer": None})
    response.headers.update(PUBLIC_HEADERS)
    return response


def _json(view: CustomerView) -> dict[str, Any]:
    return {
        "accesses": [
            {"at": e.at.isoformat(), "data": e.described, "data_classes": [c.value for c in e.data_classes],
             "purpose_category": e.purpose_category, "purpose": e.purpose_label, "team": e.team,
             "region": e.region}
            for e in view.accesses
        ],
        "incidents": [
            {"reference": i.reference, "title": i.title, "notified_at": i.notified_at.isoformat(),
             "channels": list(i.channels), "delivery": list(i.delivery), "information_involved": list(i.items),
             "notice": None if i.notice_text is None else {"subject": i.notice_subject, "text": i.notice_text}}
            for i in view.incidents
        ],
    }


@router.get("/api/public/my-data")
def my_data_api(request: Request, session: DbSession, token: Token = "") -> Response:
    """Who accessed the customer's data and why, and the incidents that touched them (JSON); 403 for a bad link."""
    customer_id = _customer(request, token)
    if customer_id is None:
        return JSONResponse({"detail": "this link is not valid"}, status_code=403, headers=PUBLIC_HEADERS)
    view = customer_view(session, customer_id, get_context(request).settings)
    _record_view(session, customer_id, "api")
    return JSONResponse(_json(view), headers=PUBLIC_HEADERS)
