"""The read endpoint's request path: the token lookup keeps the staff rules, the CSRF check asks the store only
when it must, and the fast lane answers exactly like the documented FastAPI route."""

from __future__ import annotations

from datetime import timedelta

import pytest
from accessutil import T0, case, customer, employee
from fastapi.testclient import TestClient
from starlette.routing import Route

from ombud.api import deps
from ombud.app import create_app
from ombud.staff import service as staff_service
from ombud.staff.models import ApiToken


def test_the_one_query_token_lookup_agrees_with_the_staff_service(session, frozen):
    agent, departed = employee(session), employee(session)
    valid = staff_service.create_api_token(session, agent, name="valid").token
    short = staff_service.create_api_token(session, agent, name="short", valid_for=timedelta(minutes=5)).token
    revoked = staff_service.create_api_token(session, agent, name="revoked").token
    staff_service.revoke_api_token(session, revoked.removeprefix(staff_service.TOKEN_PREFIX).split("_", 1)[0])
    gone = staff_service.create_api_token(session, departed, name="gone").token
    session.flush()
    staff_service.deactivate_employee(session, departed)
    # deactivate revokes the tokens too; un-revoke one so only the departure refuses it
    record = session.query(ApiToken).filter_by(employee_id=departed.id).one()
    record.revoked_at = None
    session.flush()
    cases_ = {"valid": valid, "short": short, "revoked": revoked, "departed": gone, "unknown": "omb_0000_nothing",
              "no prefix": "Bearer-ish"}
    for moment in (T0, T0 + timedelta(minutes=10)):
        frozen.advance(moment - frozen())
        for name, token in cases_.items():
            fast = deps.token_caller(session, token)
            slow = staff_service.resolve_api_token(session, token)
            assert (fast.id if fast else None) == (slow.id if slow else None), (name, moment)
            if fast:
                assert (fast.external_id, fast.team, fast.role, fast.region) == (
                    slow.external_id, slow.team, slow.role, slow.region)
    assert deps.token_caller(session, short) is None  # expired by the second moment


def test_token_lookup_stamps_the_last_use_at_most_once_a_minute(session, frozen):
    agent = employee(session)
    token = staff_service.create_api_token(session, agent, name="tool")
    session.flush()
    deps.token_caller(session, token.token)
    session.expire_all()
    first = session.get(ApiToken, token.record.id).last_used_at
    assert first == T0
    frozen.advance(timedelta(seconds=30))
    deps.token_caller(session, token.token)
    session.expire_all()
    assert session.get(ApiToken, token.record.id).last_used_at == T0
    frozen.advance(timedelta(seconds=90))
    deps.token_caller(session, token.token)
    session.expire_all()
    assert session.get(ApiToken, token.record.id).last_used_at == T0 + timedelta(minutes=2)


@pytest.fixture
def store_lookups(monkeypatch):
    """Counts the CSRF check's lookups of a browser session's token."""
    calls = []
    original = deps._session_csrf_token

    def counting(request, cookie):
        calls.append(request.method)
        return original(request, cookie)

    monkeypatch.setattr(deps, "_session_csrf_token", counting)
    return calls


def test_the_csrf_check_asks_the_store_only_for_cookie_signed_changes(session, frozen, app, api, browser,
                                                                      store_lookups):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    body = {"customer_id": acct.external_id, "fields": ["email"], "purpose": f"case:{c.id}"}
    page, csrf = browser(agent)
    assert page.get("/access/cases").status_code == 200  # a safe method: no lookup
    tool = api(agent)
    tool.cookies.update(page.cookies)  # a bearer call with a cookie beside it: judged by the token alone
    assert tool.post("/api/access/read", json=body).status_code == 200
    assert store_lookups == []
    # A state-changing call signed in by cookie is checked against the session's token.
    assert page.post("/api/access/read", json=body).status_code == 403
    assert page.post("/api/access/read", json=body, headers={"x-csrf-token": csrf}).status_code == 200
    assert store_lookups == ["POST", "POST"]


def test_the_fast_lane_is_in_front_and_answers_like_the_documented_route(session, frozen, ctx, api):
    app = create_app(ctx=ctx)
    first = app.router.routes[0]
    assert isinstance(first, Route) and first.path == "/api/access/read"
    assert "/api/access/read" in app.openapi()["paths"]  # still documented, with its body
    assert app.openapi()["paths"]["/api/access/read"]["post"]["requestBody"]["required"] is True
    plain = create_app(ctx=ctx)
    plain.router.routes.remove(plain.router.routes[0])  # only the FastAPI route left
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    token = staff_service.create_api_token(session, agent, name="tool").token
    session.flush()
    calls = [
        ({}, {"customer_id": acct.external_id, "fields": ["email"], "purpose": f"case:{c.id}"}),
        ({}, {"customer_id": acct.external_id, "fields": ["shoe_size"], "purpose": f"case:{c.id}"}),
        ({}, {"fields": ["email"]}),
        ({}, {"customer_id": acct.external_id, "fields": ["email"]}),
        ({"authorization": "Bearer omb_bad"}, {"customer_id": acct.external_id, "fields": ["email"]}),
    ]
    for headers, body in calls:
        answers = []
        for each in (app, plain):
            client = TestClient(each, headers={"authorization": f"Bearer {token}", **headers})
            response = client.post("/api/access/read", json=body)
            answer = response.json()
            answer.pop("audit_index", None)
            answer.pop("at", None)
            answers.append((response.status_code, answer))
        assert answers[0] == answers[1], body
    anonymous = TestClient(app).post("/api/access/read", json=calls[0][1])
    assert anonymous.status_code == 401
