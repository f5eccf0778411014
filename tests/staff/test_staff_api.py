"""The staff API for internal tools: who am I, my tokens, the directory (admins)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from ombud.app import create_app
from ombud.clock import FrozenClock, use_clock
from ombud.staff import service
from ombud.staff.models import Role
from ombud.staff.testing import make_employee


@pytest.fixture
def api(ctx):
    return TestClient(create_app(ctx=ctx))


def _auth(token):
    return {"authorization": f"Bearer {token}"}


def test_me_answers_for_the_token_holder(api, session):
    employee = make_employee(session, name="John Doggett", role=Role.security_analyst, region="eu-west")
    token = service.create_api_token(session, employee, name="t").token
    body = api.get("/api/staff/me", headers=_auth(token)).json()
    assert body == {
        "external_id": employee.external_id, "name": "John Doggett", "email": employee.email, "team": "Support",
        "role": "security_analyst", "region": "eu-west", "hired_on": None, "left_on": None, "active": True,
    }
    assert "password_hash" not in body


def test_anonymous_and_bad_tokens_get_401_json(api):
    for headers in ({}, _auth("omb_deadbeef_nope"), {"authorization": "Basic abc"}):
        response = api.get("/api/staff/me", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "sign in first"}
        assert response.headers["www-authenticate"] == "Bearer"


def test_token_lifecycle_through_the_api(api, session):
    employee = make_employee(session)
    token = service.create_api_token(session, employee, name="bootstrap").token
    created = api.post("/api/staff/tokens", json={"name": "nightly export", "days": 7}, headers=_auth(token))
    assert created.status_code == 201
    new = created.json()
    assert new["token"].startswith("omb_" + new["prefix"])
    expires = datetime.fromisoformat(new["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.fromisoformat(new["created_at"]) <= timedelta(days=7)
    listed = api.get("/api/staff/tokens", headers=_auth(new["token"])).json()
    assert [t["name"] for t in listed] == ["nightly export", "bootstrap"]
    assert all("token" not in t for t in listed)
    assert api.delete(f"/api/staff/tokens/{new['prefix']}", headers=_auth(token)).status_code == 204
    assert api.get("/api/staff/me", headers=_auth(new["token"])).status_code == 401
    assert api.delete("/api/staff/tokens/ffffffff", headers=_auth(token)).status_code == 404


def test_token_requests_are_validated(api, session):
    token = service.create_api_token(session, make_employee(session), name="t").token
    for body in ({"name": ""}, {"name": "x", "days": 0}, {"name": "x", "days": 1000}, {}):
        response = api.post("/api/staff/tokens", json=body, headers=_auth(token))
        assert response.status_code == 422, body


def test_expired_token_stops_working(api, session):
    start = datetime(2026, 5, 1, tzinfo=UTC)
    with use_clock(FrozenClock(start)) as clock:
        token = service.create_api_token(session, make_employee(session), name="t", valid_for=timedelta(days=1)).token
        assert api.get("/api/staff/me", headers=_auth(token)).status_code == 200
        clock.advance(timedelta(days=1))
        assert api.get("/api/staff/me", headers=_auth(token)).status_code == 401


def test_admin_lists_employees_with_filters(api, session):
    admin = make_employee(session, role=Role.admin)
    agent = make_employee(session, role=Role.agent)
    gone = make_employee(session, role=Role.agent)
    service.deactivate_employee(session, gone)
    token = service.create_api_token(session, admin, name="t").token
    page = api.get("/api/staff/employees", headers=_auth(token)).json()
    ids = {e["external_id"] for e in page["items"]}
    assert {admin.external_id, agent.external_id} <= ids and gone.external_id not in ids
    assert page["total"] == len(page["items"])
    agents = api.get("/api/staff/employees?role=agent&include_departed=true", headers=_auth(token)).json()
    assert {agent.external_id, gone.external_id} <= {e["external_id"] for e in agents["items"]}
    assert {e["role"] for e in agents["items"]} == {"agent"}
    assert api.get("/api/staff/employees?role=boss", headers=_auth(token)).status_code == 422


def test_openapi_documents_the_staff_api(api):
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/staff/me", "/api/staff/tokens", "/api/staff/tokens/{prefix}", "/api/staff/employees"} <= set(paths)
    assert "/login" not in paths  # pages are not part of the API
