"""The audit page: the latest signed checkpoint, its status, recent events, and a full verification on request.

For privacy officers, security analysts and admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.audit import checkpoint as checkpoints
from ombud.audit import service
from ombud.audit.schemas import b64
from ombud.audit.verify import check_latest, verify_log
from ombud.staff.models import Employee, Role
from ombud.web.templating import NavItem, register_nav, render

router = APIRouter(tags=["pages"], include_in_schema=False)

_ROLES = (Role.privacy_officer, Role.security_analyst, Role.admin)
Auditor = Annotated[Staff, Depends(require_roles(*_ROLES))]

register_nav(NavItem("Audit", ("/audit",), roles=_ROLES))


#: Events shown on one page of the log.
PAGE = 50


def _staff_names(session: DbSession, events: list) -> dict[str, str]:
    """Names of the staff acting in these events, by employee id (one query for the page)."""
    ids = {e.actor_id for e in events if e.actor_type == "employee" and e.actor_id}
    ids |= {e.subject_id for e in events if e.subject_type == "employee" and e.subject_id}
    if not ids:
        return {}
    return dict(session.execute(select(Employee.external_id, Employee.name).where(Employee.external_id.in_(ids))).all())


def _page(request: Request, session: DbSession, staff: Staff, before: int | None = None, **extra: object) -> Response:
    ctx = get_context(request)
    params = request.query_params
    customer_id = params.get("customer_id") or None
    actor_id = params.get("actor_id") or None
    action = params.get("action") or None
    events = service.list_events(
        session, customer_id=customer_id, actor_id=actor_id, action_prefix=action, before_index=before,
        limit=PAGE, newest_first=True, one_more=True,
    )
    older = events[PAGE - 1].index if len(events) > PAGE else None
    events = events[:PAGE]
    latest = checkpoints.latest_checkpoint(session)
    verifier = checkpoints.verifier(ctx.keys, ctx.settings)
    return render(
        request,
        "audit/index.html",
        staff,
        latest=latest,
        latest_root=b64(bytes(latest.root_hash)) if latest else None,
        status=check_latest(session, [verifier], ctx.settings.audit_origin),
        size=service.log_size(session),
        verifier_key=verifier.text(),
        events=events,
        names=_staff_names(session, events),
        older=older,
        newest_shown=before is not None,
        filters={"customer_id": customer_id or "", "actor_id": actor_id or "", "action": action or ""},
        keep={k: v for k, v in (("customer_id", customer_id), ("actor_id", actor_id), ("action", action)) if v},
        **extra,
    )


@router.get("/audit")
def audit_home(
    request: Request,
    session: DbSession,
    staff: Auditor,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Show events older than this one.")] = None,
) -> Response:
    """The log at a glance: latest checkpoint and its status, the newest events (filterable, paged back)."""
    return _page(request, session, staff, before=before)


@router.post("/audit/verify")
def audit_verify(request: Request, session: DbSession, staff: Auditor) -> Response:
    """Run a full verification of the log now and show the outcome."""
    ctx = get_context(request)
    verifier = checkpoints.verifier(ctx.keys, ctx.settings)
    report = verify_log(session, [verifier], ctx.settings.audit_origin)
    return _page(request, session, staff, report=report)
