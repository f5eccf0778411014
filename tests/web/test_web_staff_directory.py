"""The admins' staff directory page: list, add, deactivate; nobody else gets in."""

from __future__ import annotations

from ombud.staff import service
from ombud.staff.models import Role
from ombud.staff.testing import make_employee


def test_only_admins_see_the_directory_or_its_nav_entry(client, session, sign_in):
    sign_in(make_employee(session, role=Role.privacy_officer))
    assert client.get("/staff").status_code == 403
    assert 'href="/staff"' not in client.get("/").text


def test_admin_adds_an_employee_who_can_then_sign_in(client, session, sign_in, settings):
    csrf = sign_in(make_employee(session, role=Role.admin))
    assert 'href="/staff"' in client.get("/").text
    response = client.post("/staff", data={
        "name": "New Hire", "email": "new.hire@example.com", "role": "agent", "team": "Support",
        "region": "us-west", "password": "first day passphrase", "csrf_token": csrf})
    assert response.status_code == 303
    page = client.get("/staff").text
    assert "Added New Hire as agent." in page and "new.hire@example.com" in page
    hire = service.authenticate(session, settings, email="new.hire@example.com", password="first day passphrase",
                                ip=None)
    assert hire.role is Role.agent and hire.region == "us-west"


def test_a_bad_new_employee_is_refused_with_the_form_kept(client, session, sign_in):
    csrf = sign_in(make_employee(session, role=Role.admin))
    existing = make_employee(session)
    response = client.post("/staff", data={
        "name": "Twin", "email": existing.email, "role": "agent", "team": "Support", "region": "us",
        "csrf_token": csrf})
    assert response.status_code == 409
    assert "Not added: an employee with email" in response.text
    assert 'value="Twin"' in response.text
    weak = client.post("/staff", data={
        "name": "Weak", "email": "weak@example.com", "role": "agent", "team": "T", "region": "r",
        "password": "short", "csrf_token": csrf})
    assert weak.status_code == 422 and "at least 12 characters" in weak.text
    assert service.get_employee_by_email(session, "weak@example.com") is None


def test_admin_deactivates_an_employee_but_not_themselves(client, session, sign_in, settings):
    admin = make_employee(session, role=Role.admin)
    leaver = make_employee(session)
    token = service.create_api_token(session, leaver, name="t").token
    csrf = sign_in(admin)
    response = client.post(f"/staff/{leaver.external_id}/deactivate", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert "1 token(s) revoked" in client.get("/staff").text
    assert service.resolve_api_token(session, token) is None
    session.refresh(leaver)
    assert leaver.left_on is not None
    assert leaver.name not in client.get("/staff").text
    assert leaver.name in client.get("/staff?departed=true").text
    refused = client.post(f"/staff/{admin.external_id}/deactivate", data={"csrf_token": csrf})
    session.refresh(admin)
    assert refused.status_code == 422 and admin.left_on is None
    assert client.post("/staff/nobody/deactivate", data={"csrf_token": csrf}).status_code == 404
