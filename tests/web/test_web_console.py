"""The console shell: the layout, navigation, the home page, the account page, error pages."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from webutil import HTML, hidden

from ombud.api.deps import CurrentStaff
from ombud.app import create_app
from ombud.retail.models import Account, AccountStatus
from ombud.staff import service
from ombud.staff.models import ApiToken, Role, StaffSession
from ombud.staff.testing import make_employee
from ombud.web.templating import render


def test_home_shows_who_is_signed_in_and_what_they_can_do(client, session, sign_in):
    employee = make_employee(session, name="Walter Skinner", role=Role.privacy_officer, team="Privacy")
    sign_in(employee)
    page = client.get("/").text
    assert "Walter Skinner" in page and "Privacy officer" in page
    assert "30-day deadline" in page  # the privacy officer's duties
    assert 'action="/logout"' in page and 'name="csrf_token"' in page
    assert 'href="/static/ombud.css"' in page
    assert "<script" not in page  # works without JavaScript


def test_home_counts_what_the_store_holds(client, session, sign_in):
    now = datetime(2026, 1, 5, tzinfo=UTC)
    for n in range(3):
        session.add(Account(external_id=f"acct-home-{n}", status=AccountStatus.active, created_at=now,
                            name="Fictional Person", updated_at=now))
    session.flush()
    expected = session.scalar(select(func.count()).select_from(Account))
    sign_in(make_employee(session))
    page = client.get("/").text
    assert f'data-stat="Customer accounts in the store">{expected:,}<' in page
    assert "Active staff accounts" not in page  # an admin-only figure


def test_admins_see_the_staff_count(client, session, sign_in):
    sign_in(make_employee(session, role=Role.admin))
    assert "Active staff accounts" in client.get("/").text


def test_nav_links_only_sections_the_app_serves(ctx, session):
    router = APIRouter()

    @router.get("/cases")
    def cases(request, staff: CurrentStaff):  # pragma: no cover - only its presence matters
        return render(request, "console/home.html", staff)

    bare = create_app(ctx=ctx)
    with_cases = create_app(ctx=ctx)
    with_cases.include_router(router)
    employee = make_employee(session)
    token = service.start_session(session, ctx.settings, employee, ip=None, user_agent=None).token
    for app, has_cases in ((bare, False), (with_cases, True)):
        client = TestClient(app, headers=HTML, cookies={"ombud_session": token}, follow_redirects=False)
        page = client.get("/account").text
        assert 'aria-label="Console sections"' in page
        assert ('href="/cases"' in page) is has_cases
        assert 'href="/grants"' not in page
        assert '<a href="/" >' not in page


def test_account_page_creates_shows_once_and_revokes_a_token(client, session, sign_in):
    employee = make_employee(session)
    csrf = sign_in(employee)
    created = client.post("/account/tokens", data={"name": "case tool", "days": "30", "csrf_token": csrf})
    assert created.status_code == 200
    secret = created.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert secret.startswith("omb_")
    assert service.resolve_api_token(session, secret) is employee
    assert secret not in client.get("/account").text  # shown once
    prefix = secret.split("_")[1]
    revoked = client.post(f"/account/tokens/{prefix}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert "revoked" in client.get("/account").text
    assert service.resolve_api_token(session, secret) is None


def test_nobody_revokes_someone_elses_token(client, session, sign_in):
    owner = make_employee(session)
    other_token = service.create_api_token(session, owner, name="theirs")
    csrf = sign_in(make_employee(session))
    response = client.post(f"/account/tokens/{other_token.record.prefix}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert "<html" in response.text
    assert session.get(ApiToken, other_token.record.id).revoked_at is None


def test_password_change_keeps_this_browser_and_ends_the_others(app, client, session, sign_in, ctx):
    employee = make_employee(session)
    elsewhere = service.start_session(session, ctx.settings, employee, ip=None, user_agent=None)
    csrf = sign_in(employee)
    wrong = client.post("/account/password", data={"current_password": "nope", "new_password": "a fresh passphrase",
                                                   "confirm_password": "a fresh passphrase", "csrf_token": csrf})
    assert wrong.status_code == 303
    assert "was not right" in client.get("/account").text
    ok = client.post("/account/password", data={"current_password": "correct horse battery staple",
                                                "new_password": "a fresh passphrase",
                                                "confirm_password": "a fresh passphrase", "csrf_token": csrf})
    assert ok.status_code == 303
    assert "Password changed" in client.get("/account").text
    assert service.resolve_session(session, ctx.settings, elsewhere.token) is None
    live = session.scalar(select(func.count()).select_from(StaffSession).where(
        StaffSession.employee_id == employee.id, StaffSession.revoked_at.is_(None)))
    assert live == 1


def test_error_pages_are_html_for_browsers_and_json_for_the_api(client, session, sign_in):
    sign_in(make_employee(session, name="Monica Reyes"))
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert "There is no page at this address" in missing.text and "Monica Reyes" in missing.text
    api_missing = client.get("/api/no/such/thing")
    assert api_missing.status_code == 404 and api_missing.json() == {"detail": "Not Found"}
    forbidden = client.get("/api/staff/employees")
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["detail"]
    invalid = client.post("/account/tokens", data={"days": "0", "csrf_token": hidden(client.get("/").text,
                                                                                    "csrf_token")})
    assert invalid.status_code == 422
    assert "Check the form" in invalid.text and "<strong>Name (name)</strong>: is needed" in invalid.text
    assert "<strong>Days (days)</strong>: must be at least 1 (got &#39;0&#39;)" in invalid.text  # in words


def test_html_403_page_for_a_role_refusal(ctx, session):
    from fastapi import Depends, Request

    from ombud.api.deps import require_roles

    router = APIRouter()

    @router.get("/admin-only")
    def admin_only(request: Request, staff=Depends(require_roles(Role.admin))):
        return render(request, "console/home.html", staff)  # pragma: no cover

    app = create_app(ctx=ctx)
    app.include_router(router)
    employee = make_employee(session, role=Role.agent)
    token = service.start_session(session, ctx.settings, employee, ip=None, user_agent=None).token
    client = TestClient(app, headers=HTML, cookies={"ombud_session": token})
    response = client.get("/admin-only")
    assert response.status_code == 403
    assert "Not allowed" in response.text and "this needs one of the roles: admin" in response.text


def test_pages_are_never_cached_or_framed(client):
    page = client.get("/login")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
