"""The web application: `create_app(settings)` builds it; importing this module does nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from ombud import __version__
from ombud.api import access as access_api
from ombud.api import audit as audit_api
from ombud.api import contract, errors, health
from ombud.api import identity as identity_api
from ombud.api import incident_wording as incident_wording_api
from ombud.api import incidents as incidents_api
from ombud.api import insider as insider_api
from ombud.api import notify as notify_api
from ombud.api import records as records_api
from ombud.api import staff as staff_api
from ombud.api import victim_requests as victim_requests_api
from ombud.api.conform import check_request
from ombud.api.deps import csrf_protect
from ombud.api.limits import EdgeGuard, quiet_server_address_logs
from ombud.config import Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.errors import safe_traceback
from ombud.keys import check_production_ready
from ombud.notify.outbox import configure as configure_notify
from ombud.web import access as access_pages
from ombud.web import audit as audit_pages
from ombud.web import auth as auth_pages
from ombud.web import console as console_pages
from ombud.web import identity as identity_pages
from ombud.web import incident_wording as incident_wording_pages
from ombud.web import incidents as incident_pages
from ombud.web import insider as insider_pages
from ombud.web import notify as notify_pages
from ombud.web import records as records_pages
from ombud.web import transparency_public
from ombud.web import victim_requests as victim_request_pages
from ombud.web import victim_requests_console as victim_request_console
from ombud.web.templating import STATIC_DIR

#: Every router of the app, in one explicit list.
ROUTERS = [
    health.router,
    staff_api.router,
    audit_api.router,
    identity_api.router,
    victim_requests_api.router,
    access_api.router,
    notify_api.router,
    notify_api.public_router,
    records_api.router,
    auth_pages.router,
    console_pages.router,
    identity_pages.router,
    victim_request_pages.router,
    victim_request_console.router,
    access_pages.router,
    audit_pages.router,
    transparency_public.router,
    incident_wording_api.router,  # before incidents_api: /api/incidents/notice-wording is not an incident id
    incidents_api.router,
    insider_api.router,
    insider_pages.router,
    incident_wording_pages.router,  # before incident_pages: /incidents/notice-wording is not an incident id
    incident_pages.router,
    notify_pages.router,
    records_pages.router,
]


log = logging.getLogger("ombud.app")


def _sign_checkpoint_if_due(ctx: Context) -> None:
    from ombud.audit.checkpoint import maybe_checkpoint

    with transaction(ctx.sessions) as session:
        checkpoint = maybe_checkpoint(session, ctx.keys, ctx.settings)
    if checkpoint is not None:
        log.info("signed audit checkpoint at tree size %d", checkpoint.tree_size)


async def _checkpoint_schedule(ctx: Context) -> None:
    """Sign an audit checkpoint whenever the log has grown and the interval has passed."""
    interval = ctx.settings.audit_checkpoint_interval_seconds
    while True:
        try:
            await asyncio.to_thread(_sign_checkpoint_if_due, ctx)
        except Exception as exc:  # a failed round must not stop the schedule; the next one retries
            log.error("signing the scheduled audit checkpoint failed:\n%s", safe_traceback(exc))
        await asyncio.sleep(min(interval, 60))


def _lifespan(ctx: Context):
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_checkpoint_schedule(ctx)) if ctx.settings.audit_checkpoint_schedule else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    return lifespan


def _allow_uploads(settings: Settings) -> None:
    """Let the routes that take evidence files carry them: every file a form takes at the upload limit, plus
    its text (the portal and status page under /request, a letter's scan under /requests, the API's intake and
    evidence, a look-back import); every other route keeps the default body limit."""
    from ombud.api.limits import allow_body
    from ombud.web.victim_requests import FILE_FIELDS

    files = len(FILE_FIELDS) * settings.requests_max_upload_mb * 1024 * 1024
    limit = max(settings.request_max_bytes, files + 1024 * 1024)
    for prefix in ("/request", "/api/victim-requests", "/lookback/import"):
        allow_body(prefix, limit)
    # A declared exposure list (a leaked export, a vendor's breach) is a CSV of customer ids and data classes.
    allow_body("/incidents/declared/", max(settings.request_max_bytes, 64 * 1024 * 1024))


def create_app(settings: Settings | None = None, *, ctx: Context | None = None) -> FastAPI:
    """Build the app for these settings (or this context); refuses unsafe production settings."""
    ctx = ctx or Context(settings)
    check_production_ready(ctx.settings)
    app = FastAPI(
        title="Ombud",
        version=__version__,
        description="Identity-theft records requests and brokered, audited staff access to customer data.",
        docs_url=None,  # served offline by ombud.api.contract
        redoc_url=None,
        # One CSRF check for every route of every domain: a cookie-authenticated POST/PUT/PATCH/DELETE
        # without the session's token is refused (403); bearer-token calls are exempt. And one check that every
        # request is what the contract says (repeated parameters, 64-bit integers, dates, JSON types: see
        # ombud.api.conform).
        dependencies=[Depends(csrf_protect), Depends(check_request)],
        lifespan=_lifespan(ctx),
    )
    app.state.ctx = ctx
    configure_notify(ctx.settings)  # mail enqueued by any domain renders with these settings
    errors.install(app)
    # Body size, JSON shape and query limits, the access log and the last resort for errors: every route.
    quiet_server_address_logs()
    app.add_middleware(EdgeGuard, max_body_bytes=ctx.settings.request_max_bytes,
                       on_error=errors.answer_unexpected, on_refused=errors.answer_refused)
    _allow_uploads(ctx.settings)
    for router in ROUTERS:
        app.include_router(router)
    # The busiest call skips the walk through every router (see ombud.api.access.FAST_ROUTES).
    app.router.routes[:0] = access_api.FAST_ROUTES
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    contract.install(app)
    return app
