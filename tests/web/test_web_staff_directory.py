"""The admins' staff directory page: list, add, deactivate; nobody else gets in."""

from __future__ import annotations

import re

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


def test_a_large_directory_pages_sorts_and_filters_and_names_managers_by_id_or_email(client, session, sign_in):
    admin = make_employee(session, role=Role.admin, name="Ada Admin")
    csrf = sign_in(admin)
    staff = [make_employee(session, name=f"Person {i:03d}", team="support" if i % 2 else "fraud") for i in range(80)]
    boss = make_employee(session, name="Bo Boss", team="fraud")
    session.flush()
    page = client.get("/staff").text
    assert page.count("data-employee=") == 50 and 'rel="next"' in page and 'aria-sort="ascending"' in page
    # One list of possible managers for the page, not a menu of everyone in every row.
    assert page.count("<option") < 82 + 50 * len(Role) + 20
    second = client.get("/staff?page=2").text
    assert second.count("data-employee=") == 82 - 50
    fraud = client.get("/staff", params={"team": "FRAUD", "sort": "-name", "size": "100"}).text
    names = re.findall(r'data-employee="[^"]+">\s*<td>([^<]+)<br>', fraud)
    assert names == sorted([s.name for s in staff[::2]] + ["Bo Boss"], reverse=True)  # descending by name
    found = client.get("/staff", params={"name": "person 07"}).text
    assert found.count("data-employee=") == 10
    moved = client.post(f"/staff/{staff[3].external_id}/edit", data={
        "csrf_token": csrf, "role": "agent", "team": "support", "manager": boss.email.upper()})
    assert moved.status_code == 303
    session.refresh(staff[3])
    assert staff[3].manager_id == boss.id
    unknown = client.post(f"/staff/{staff[3].external_id}/edit", data={
        "csrf_token": csrf, "role": "agent", "team": "support", "manager": "nobody@example.com"})
    assert unknown.status_code == 422 and "no current employee" in unknown.text
