"""Jinja2 templates shared by every page: one layout, rendered on the server, working without JavaScript.

Other web modules use three things from here:
- `render(request, "domain/page.html", staff, **context)` renders a page extending `layout.html`; the layout
  shows the signed-in employee, the navigation, flash messages and a sign-out form.
- `{{ csrf_field() }}` inside every `<form method="post">` adds the session's anti-forgery token
  (the check itself runs centrally on every POST/PUT/PATCH/DELETE; see ombud.api.deps.csrf_protect).
- `flash(request, response, "Saved")` shows a message on the next page rendered (post/redirect/get).
- filters for values as people read them (``ombud.web.present``): ``time`` (the viewer's zone, UTC on hover),
  ``money``, ``label``, ``address``, ``shown`` (masked values marked), the test ``masked``; and tables that page,
  sort and filter (``ombud.web.tables`` with the macros of ``_table.html``). See docs/console.md.

Navigation: `NAV` lists the console's sections; an entry is shown only when one of its paths is a GET route
of the running app and the employee has one of its roles. A web module that serves a section at another
path, or wants other roles, calls `register_nav(NavItem(...))` (same label replaces the slot).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context as JinjaContext
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import object_session
from starlette.applications import Starlette
from starlette.routing import Mount

from ombud.access.models import AccessProfile
from ombud.api.deps import CSRF_FIELD, Staff, Viewer, get_context
from ombud.staff.models import Role
from ombud.web import present

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
FLASH_COOKIE = "ombud_flash"
FLASH_CATEGORIES = ("info", "success", "warning", "error")

templates = Jinja2Templates(directory=TEMPLATE_DIR)

#: Sent with every page: never cached (staff pages show personal data), never framed (no clickjacking),
#: scripts and forms only from this site (the console needs no JavaScript at all).
PAGE_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


# --- navigation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """One section of the console: linked at the first of its paths that the app serves."""

    label: str
    paths: tuple[str, ...]
    roles: tuple[Role, ...] = ()  # empty: every signed-in employee; admins always see every entry


NAV: list[NavItem] = [
    NavItem("Home", ("/",)),
    NavItem("Cases", ("/cases", "/access/cases")),
    NavItem("Grants", ("/grants", "/access/grants")),
    NavItem("Break-glass", ("/break-glass", "/access/break-glass")),
    NavItem("Reviews", ("/reviews", "/access/reviews")),
    NavItem("Decisions", ("/decisions", "/access/decisions")),
    NavItem("Audit", ("/audit",)),
    NavItem("Discover", ("/discover", "/identity/discover")),
    NavItem("Staff", ("/staff",), roles=(Role.admin,)),
]


def register_nav(item: NavItem) -> None:
    """Add a console section, or replace the slot with the same label (keeping its place)."""
    for i, existing in enumerate(NAV):
        if existing.label == item.label:
            NAV[i] = item
            return
    NAV.append(item)


@dataclass(frozen=True)
class RouteInfo:
    """One endpoint of an app, flattened out of included routers: its full path, methods and name."""

    path: str
    methods: frozenset[str]
    name: str | None
    is_mount: bool = False


def app_routes(app: Starlette) -> list[RouteInfo]:
    """Every route and mount of an app with its full path, whatever way the FastAPI version nests routers."""
    try:  # FastAPI keeps included routers nested in newer versions; this flattens them.
        from fastapi.routing import iter_route_contexts

        candidates: Iterable[Any] = iter_route_contexts(app.routes)
    except ImportError:  # older FastAPI: app.routes is already flat
        candidates = app.routes
    routes = []
    for route in candidates:
        path = getattr(route, "path", None)
        if path is None:
            continue
        original = getattr(route, "original_route", route)
        routes.append(
            RouteInfo(
                path=path,
                methods=frozenset(getattr(route, "methods", None) or ()),
                name=getattr(route, "name", None),
                is_mount=isinstance(original, Mount),
            )
        )
    return routes


def _get_paths(request: Request) -> frozenset[str]:
    state = request.app.state
    paths = getattr(state, "ombud_get_paths", None)
    if paths is None:
        paths = frozenset(r.path for r in app_routes(request.app) if "GET" in r.methods)
        state.ombud_get_paths = paths
    return paths


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool


def nav_links(request: Request, viewer: Viewer | None) -> list[NavLink]:
    """The navigation entries this viewer may follow on this app, the current one marked."""
    if viewer is None:
        return []
    served = _get_paths(request)
    here = request.url.path
    links = []
    for item in NAV:
        if item.roles and viewer.role not in item.roles and viewer.role is not Role.admin:
            continue
        href = next((p for p in item.paths if p in served), None)
        if href is None:
            continue
        current = here == href or (href != "/" and here.startswith(href + "/"))
        links.append(NavLink(item.label, href, current))
    return links


# --- flash messages ----------------------------------------------------------------------------------------


def _flash_key(request: Request) -> bytes:
    return hashlib.sha256(b"ombud-flash:" + get_context(request).keys.session_secret).digest()


def _encode_flashes(request: Request, messages: list[tuple[str, str]]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(messages, separators=(",", ":")).encode()).decode()
    signature = hmac.new(_flash_key(request), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def _decode_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return []
    payload, _, signature = raw.rpartition(".")
    expected = hmac.new(_flash_key(request), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return [(str(c), str(m)) for c, m in items if c in FLASH_CATEGORIES][:10]
    except (ValueError, TypeError):
        return []


def flash(request: Request, response: Response, message: str, category: str = "info") -> Response:
    """Queue a message for the next page this browser renders; returns the response for chaining."""
    if category not in FLASH_CATEGORIES:
        raise ValueError(f"unknown flash category {category!r}")
    pending = getattr(request.state, "ombud_flashes", None)
    if pending is None:
        pending = _decode_flashes(request)
    pending = [*pending, (category, message[:500])]
    request.state.ombud_flashes = pending
    settings = get_context(request).settings
    response.set_cookie(
        FLASH_COOKIE,
        _encode_flashes(request, pending),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    return response


# --- template helpers --------------------------------------------------------------------------------------


@pass_context
def csrf_field(context: JinjaContext) -> Markup:
    """The hidden input carrying the session's anti-forgery token (empty when nobody is signed in)."""
    token = context.get("csrf_token")
    if not token:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


@pass_context
def format_time(context: JinjaContext, value: datetime | date | str | None, empty: str = "—") -> Markup | str:
    """A time in the viewer's zone with UTC on hover (``ombud.web.present.time_html``); a date as a date."""
    return present.time_html(value, context.get("viewer_zone"), empty)


def role_label(role: Role | str) -> str:
    """A role as people say it: `privacy_officer` -> `Privacy officer`."""
    return str(getattr(role, "value", role)).replace("_", " ").capitalize()


templates.env.globals["csrf_field"] = csrf_field
templates.env.filters["time"] = format_time
templates.env.filters["role_label"] = role_label
templates.env.filters["money"] = present.money
templates.env.filters["label"] = present.label
templates.env.filters["address"] = present.address
templates.env.filters["shown"] = present.shown
templates.env.filters["record_value"] = pass_context(
    lambda context, value, key="": present.value_html(key, value, context.get("viewer_zone")))
templates.env.tests["masked"] = present.is_masked


def viewer_zone(staff: Staff | None) -> str:
    """The time zone the signed-in employee reads times in: their access profile's (UTC when none)."""
    if staff is None:
        return "UTC"
    session = object_session(staff.employee)
    if session is None:
        return "UTC"
    name = session.scalar(select(AccessProfile.timezone).where(AccessProfile.employee_id == staff.employee.id))
    return name or "UTC"


def viewer_of(request: Request, staff: Staff | None = None) -> Viewer | None:
    """Who is signed in for this request, as the layout shows them."""
    if staff is not None:
        return staff.viewer()
    return getattr(request.state, "viewer", None)


def render(
    request: Request, name: str, staff: Staff | None = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the signed-in staff member, navigation, flash messages and CSRF token in context."""
    viewer = viewer_of(request, staff)
    had_flash_cookie = FLASH_COOKIE in request.cookies
    flashes = [*(getattr(request.state, "ombud_flashes", None) or _decode_flashes(request))]
    flashes += context.pop("flash_now", [])
    request.state.ombud_flashes = []
    context.update(
        staff=staff,
        viewer=viewer,
        csrf_token=viewer.csrf_token if viewer else None,
        nav=nav_links(request, viewer),
        flashes=flashes,
    )
    context.setdefault("viewer_zone", viewer_zone(staff))
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    for header, value in PAGE_HEADERS.items():
        response.headers.setdefault(header, value)
    if had_flash_cookie:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response
