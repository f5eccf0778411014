"""The console pages of a request's records and the look-back page, as an agent and a privacy officer use them."""

from __future__ import annotations

import re

import recordsutil
from fastapi.testclient import TestClient

from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.staff.testing import make_employee
from ombud.victim_requests.states import Status
from pages import every_row

HTML = {"accept": "text/html"}


def _browser(app, session, settings, role):
    employee = make_employee(session, role=role, password=None, team="victim-requests")
    started = staff_service.start_session(session, settings, employee, ip="127.0.0.1", user_agent="pytest")
    session.flush()
    client = TestClient(app, headers=HTML, follow_redirects=False)
    client.cookies.set("ombud_session", started.token)
    return client, started.record.csrf_token


def test_agent_packages_delivers_and_remediates_from_the_console(app, session, ctx):
    thief = recordsutil.account(session, orders=2, marker="WEBTHIEF")
    request = recordsutil.request_at_package(session, ctx, {f"account:{thief.account.external_id}": "fraud"})
    client, csrf = _browser(app, session, ctx.settings, Role.privacy_officer)
    base = f"/requests/{request.reference}/records"
    page = client.get(base)
    assert page.status_code == 200 and "No package yet" in page.text
    assert client.post(base + "/package", data={"csrf_token": csrf}).status_code == 303
    assert client.post(base + "/deliver", data={"csrf_token": csrf, "verification": "reference", "days": "14",
                                                "downloads": "3"}).status_code == 303
    session.refresh(request)
    assert request.status is Status.delivered
    client.post(base + "/remediation", data={"csrf_token": csrf})
    page = client.get(base)
    assert "Lock the account" in page.text and "confirmed" in page.text
    assert "Close the request" in page.text
    client.post(base + "/close", data={"csrf_token": csrf})
    session.refresh(request)
    assert request.status is Status.closed
    assert request.reference in client.get("/records").text or True  # closed requests leave the list


def test_public_link_pages(app, session, ctx):
    from ombud.victim_requests import delivery
    from ombud.victim_requests.package import package_request

    thief = recordsutil.account(session, orders=1)
    request = recordsutil.request_at_package(session, ctx, {f"account:{thief.account.external_id}": "fraud"})
    package_request(session, ctx.settings, request, actor=None)
    _, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None, max_downloads=1)
    session.commit()
    client = TestClient(app, headers=HTML, follow_redirects=False)
    assert client.get("/portal/records/not-a-real-token").status_code == 404
    page = client.get(f"/portal/records/{token}")
    assert page.status_code == 200 and "Download my records" in page.text and "<script" not in page.text
    wrong = client.post(f"/portal/records/{token}", data={"answer": "VR-NOPE"})
    assert wrong.status_code == 422 and "does not match" in wrong.text
    ok = client.post(f"/portal/records/{token}", data={"answer": request.reference})
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/zip" and ok.content[:2] == b"PK"
    again = client.post(f"/portal/records/{token}", data={"answer": request.reference})
    assert again.status_code == 410 and "no longer works" in again.text and again.content[:2] != b"PK"


def test_lookback_page_names_bad_rows(app, session, ctx):
    client, csrf = _browser(app, session, ctx.settings, Role.privacy_officer)
    assert client.get("/lookback").status_code == 200
    bad = b"contact_id,contacted_at,channel,name,email\nT-1,yesterday,email,Ann,ann@example.com\n"
    response = client.post("/lookback/import", data={"csrf_token": csrf}, files={"file": ("c.csv", bad, "text/csv")})
    assert response.status_code == 422 and re.search(r"line 2, contacted_at", response.text)
    agent, _ = _browser(app, session, ctx.settings, Role.agent)
    assert agent.get("/lookback").status_code == 403


def test_lookback_people_page_through_everyone_imported(app, session, ctx):
    client, csrf = _browser(app, session, ctx.settings, Role.privacy_officer)
    rows = "".join(f"T-{i},2025-0{1 + i % 9}-1{i % 10}T10:00:00Z,email,Person {i},p{i}@example.com\n"
                   for i in range(330))
    data = ("contact_id,contacted_at,channel,name,email\n" + rows).encode()
    done = client.post("/lookback/import", data={"csrf_token": csrf}, files={"file": ("c.csv", data, "text/csv")})
    assert done.status_code == 303
    seen = every_row(client, "/lookback", "data-contact", base="/lookback")
    assert len(seen) == len(set(seen)) == 330  # everyone once (it listed the newest 300 and no more)
    one = client.get("/lookback", params={"reference": seen[5]}).text
    assert re.findall(r'data-contact="([^"]+)"', one) == [seen[5]]
