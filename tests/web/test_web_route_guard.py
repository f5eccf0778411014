"""Every route of the app, whoever wrote it, refuses an anonymous caller unless it is explicitly public.

New routes are covered automatically: the test walks the running app's routes. A route that must be public
belongs to the allow-list below, with a reason.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ombud.staff import service
from ombud.staff.models import Role
from ombud.staff.testing import make_employee
from ombud.web.templating import app_routes

#: Exactly these paths (or everything under these prefixes) may answer an anonymous caller.
#: /my-data: the customer's "who accessed my data" page, opened by a link the retailer's site signs (it refuses
#: an unsigned or expired link itself, with a 403 page).
PUBLIC_PATHS = {"/login", "/api/health", "/openapi.json", "/my-data"}
#: /request is the identity-theft victims' portal (no account by law and design; a request's status page is behind
#: an unguessable link).
PUBLIC_PREFIXES = ("/static", "/docs", "/portal", "/api/public", "/request")


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or any(path == p or path.startswith(p + "/") for p in PUBLIC_PREFIXES)


#: Path values with a shape of their own (the edge refuses a value without it before anything else).
SHAPED = {"customer_id": "A000123", "name": "receipt"}


def _concrete(path: str) -> str:
    # Fill path parameters with a plausible value; the refusal must come before any lookup.
    return re.sub(r"\{([^}]+)\}", lambda m: SHAPED.get(m.group(1), "1"), path)


def _guarded_endpoints(app) -> list[tuple[str, str]]:
    endpoints = []
    for route in app_routes(app):
        if route.is_mount or _is_public(route.path):
            continue
        endpoints += [(method, route.path) for method in sorted(route.methods - {"HEAD", "OPTIONS"})]
    return endpoints


def _refused(response) -> bool:
    if response.status_code == 401:
        return True
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and location.startswith("/login")


def test_the_walk_sees_the_routes_of_every_router(app):
    paths = {route.path for route in app_routes(app)}
    # Routes from several included routers, so a walker that missed nested routers would fail here.
    assert {"/", "/login", "/logout", "/account", "/api/staff/me", "/api/health", "/static"} <= paths
    assert len(_guarded_endpoints(app)) >= 10


def test_every_mounted_sub_app_is_public(app):
    """A mounted app escapes both the walk and the app-wide CSRF check, so only public ones may be mounted."""
    private = [route.path for route in app_routes(app) if route.is_mount and not _is_public(route.path)]
    assert not private, f"mounted outside the public allow-list: {private}"


@pytest.mark.parametrize("browser", [True, False], ids=["browser", "api-client"])
def test_every_non_public_route_refuses_an_anonymous_request(app, browser):
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    headers = {"accept": "text/html"} if browser else {"accept": "application/json"}
    let_through = []
    for method, path in _guarded_endpoints(app):
        response = client.request(method, _concrete(path), headers=headers)
        if not _refused(response):
            let_through.append(f"{method} {path} -> {response.status_code}")
    assert not let_through, "routes answering an anonymous caller:\n" + "\n".join(let_through)


def test_a_bad_bearer_token_is_refused_everywhere(app):
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    headers = {"authorization": "Bearer omb_00000000_forged", "accept": "application/json"}
    let_through = [
        f"{method} {path} -> {response.status_code}"
        for method, path in _guarded_endpoints(app)
        if not _refused(response := client.request(method, _concrete(path), headers=headers))
    ]
    assert not let_through, "\n".join(let_through)


def test_the_admin_only_directory_refuses_other_roles(app, session):
    client = TestClient(app)
    for role in (Role.agent, Role.privacy_officer, Role.security_analyst):
        token = service.create_api_token(session, make_employee(session, role=role), name="t").token
        response = client.get("/api/staff/employees", headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 403, role
        assert "admin" in response.json()["detail"]
    admin_token = service.create_api_token(session, make_employee(session, role=Role.admin), name="t").token
    assert client.get("/api/staff/employees", headers={"authorization": f"Bearer {admin_token}"}).status_code == 200
