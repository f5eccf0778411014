"""The one CSRF check: every state-changing request signed in by cookie needs the session's token."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webutil import HTML, hidden

from ombud.api.deps import CurrentStaff
from ombud.app import create_app
from ombud.staff import service
from ombud.staff.models import ApiToken, StaffSession
from ombud.staff.testing import DEFAULT_PASSWORD, make_employee


def _browser_sign_in(client, employee):
    form = client.get("/login")
    client.post("/login", data={"email": employee.email, "password": DEFAULT_PASSWORD,
                                "login_csrf": hidden(form.text, "login_csrf")})
    return hidden(client.get("/").text, "csrf_token")


def _live_sessions(session, employee):
    return session.scalar(
        select(func.count())
        .select_from(StaffSession)
        .where(StaffSession.employee_id == employee.id, StaffSession.revoked_at.is_(None))
    )


def test_logout_without_or_with_a_wrong_token_is_refused(client, session, sign_in):
    employee = make_employee(session)
    csrf = sign_in(employee)
    missing = client.post("/logout")
    wrong = client.post("/logout", data={"csrf_token": csrf[:-2] + "xx"})
    empty = client.post("/logout", data={"csrf_token": ""})
    for response in (missing, wrong, empty):
        assert response.status_code == 403
        assert "could not be verified" in response.text
        assert "<html" in response.text  # a page for the browser, inside the layout
    assert _live_sessions(session, employee) == 1
    right = client.post("/logout", data={"csrf_token": csrf})
    assert right.status_code == 303
    assert _live_sessions(session, employee) == 0


def test_the_header_works_for_scripts_and_json(client, session, sign_in):
    employee = make_employee(session)
    csrf = sign_in(employee)
    refused = client.post("/api/staff/tokens", json={"name": "tool"})
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("this form could not be verified")
    accepted = client.post("/api/staff/tokens", json={"name": "tool"}, headers={"x-csrf-token": csrf})
    assert accepted.status_code == 201
    assert client.delete(f"/api/staff/tokens/{accepted.json()['prefix']}").status_code == 403
    assert client.delete(
        f"/api/staff/tokens/{accepted.json()['prefix']}", headers={"x-csrf-token": csrf}
    ).status_code == 204


def test_another_sessions_token_does_not_pass(app, client, session, sign_in):
    employee = make_employee(session)
    sign_in(employee)
    other = TestClient(app, headers=HTML, follow_redirects=False)
    other_csrf = _browser_sign_in(other, employee)
    assert client.post("/logout", data={"csrf_token": other_csrf}).status_code == 403


def test_bearer_token_calls_are_exempt(app, session):
    employee = make_employee(session)
    token = service.create_api_token(session, employee, name="tool").token
    client = TestClient(app)
    response = client.post("/api/staff/tokens", json={"name": "second"}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 201
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.employee_id == employee.id)) == 2


def test_a_bearer_token_never_borrows_the_cookie(client, session, sign_in):
    """A request with a bad bearer token is not rescued by the browser's cookie beside it."""
    employee = make_employee(session)
    csrf = sign_in(employee)
    response = client.post(
        "/api/staff/tokens", json={"name": "x"}, headers={"authorization": "Bearer omb_bad", "x-csrf-token": csrf}
    )
    assert response.status_code == 401


def test_routes_added_by_any_other_module_are_protected_without_doing_anything(ctx, session):
    """A future domain's form route gets the check for free: it is installed on the whole app."""
    router = APIRouter()
    changed: list[str] = []

    @router.post("/future/things")
    def make_thing(staff: CurrentStaff, title: str = Form()) -> dict[str, str]:
        changed.append(title)
        return {"ok": title}

    app = create_app(ctx=ctx)
    app.include_router(router)
    client = TestClient(app, headers=HTML, follow_redirects=False)
    csrf = _browser_sign_in(client, make_employee(session))

    assert client.post("/future/things", data={"title": "forged"}).status_code == 403
    assert client.post("/future/things", data={"title": "forged", "csrf_token": "nope"}).status_code == 403
    response = client.post("/future/things", data={"title": "real", "csrf_token": csrf})
    assert response.status_code == 200, response.text
    # Multipart forms (uploads) too.
    files = {"attachment": ("note.txt", b"hello", "text/plain")}
    assert client.post("/future/things", data={"title": "up"}, files=files).status_code == 403
    assert client.post("/future/things", data={"title": "up", "csrf_token": csrf}, files=files).status_code == 200
    assert changed == ["real", "up"]


def test_safe_methods_need_no_token(client, session, sign_in):
    sign_in(make_employee(session))
    assert client.get("/account").status_code == 200
    assert client.head("/account").status_code in (200, 405)
