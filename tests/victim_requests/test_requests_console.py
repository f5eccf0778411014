"""The console: the queue (overdue first), a request's page and its forms, a read through the broker for the
request, the SLA dashboard; staff outside the request are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from requestutil import JANE, account_with_card, make_request
from sqlalchemy import select

from ombud import clock
from ombud.app import create_app
from ombud.audit.models import AuditEntry
from ombud.identity.index import import_callback
from ombud.staff.testing import DEFAULT_PASSWORD, fast_password_hashing
from ombud.victim_requests.states import Status
from pages import every_row


@pytest.fixture
def browser(ctx):
    with fast_password_hashing():
        yield TestClient(create_app(ctx=ctx), headers={"accept": "text/html"}, follow_redirects=False)


def _hidden(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def _sign_in(client, employee):
    form = client.get("/login")
    response = client.post("/login", data={"email": employee.email, "password": DEFAULT_PASSWORD,
                                           "login_csrf": _hidden(form.text, "login_csrf")})
    assert response.status_code == 303
    return _hidden(client.get("/requests").text, "csrf_token")


def test_an_agent_works_a_request_in_the_console(browser, session, ctx, staff, frozen):
    thief = account_with_card(session, ctx.keys, "Mallory Smith", "mallory@example.net", "4111111111111111")
    import_callback(ctx.keys)(session, "accounts", [thief.id])
    late = make_request(session, ctx).request
    frozen.advance(timedelta(days=31))
    fresh = make_request(session, ctx, {**JANE, "full_name": "Ann Other", "email": "ann@example.com"}).request
    session.flush()
    csrf = _sign_in(browser, staff["agent"])
    queue = browser.get("/requests").text
    assert queue.index(late.reference) < queue.index(fresh.reference) and "overdue" in queue
    page = browser.get(f"/requests/{fresh.reference}")
    assert page.status_code == 200 and "Jane" not in page.text and "Ann Other" in page.text
    base = f"/requests/{fresh.reference}"
    verified = browser.post(f"{base}/verify", data={"csrf_token": csrf, "confident": "yes",
                                                    "basis": ["government_id_checked", "report_present"]})
    assert verified.status_code == 303
    assert browser.post(f"{base}/discovery", data={"csrf_token": csrf}).status_code == 303
    session.refresh(fresh)
    assert fresh.status is Status.review
    page = browser.get(base).text
    assert f'data-match="{thief.external_id}"' in page and f'value="request:{fresh.id}"' in page
    read = browser.post("/access/read", data={"csrf_token": csrf, "customer_id": thief.external_id,
                                              "purpose": f"request:{fresh.id}", "classes": ["contact"]})
    assert read.status_code == 200 and "mallory@example.net" in read.text
    leaf = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.read")
                           .order_by(AuditEntry.idx.desc())).first()
    assert leaf.purpose == f"request:{fresh.id}" and leaf.decision == "allow"
    match_id = re.search(rf'id="match-(\d+)" data-match="{thief.external_id}"', page).group(1)
    assert browser.post(f"{base}/matches/{match_id}", data={"csrf_token": csrf, "verdict": "fraud",
                                                           "note": "not hers"}).status_code == 303
    declined = browser.post(f"{base}/declines", data={"csrf_token": csrf, "ground": "privacy",
                                                      "explanation": "We never share these for privacy reasons."})
    assert declined.status_code == 303 and "statutory" in browser.get(base).text
    sla = browser.get("/requests/sla")
    assert sla.status_code == 200 and "Overdue (goal: 0)" in sla.text


def test_staff_who_do_not_work_requests_are_refused(browser, session, ctx, staff, frozen):
    request = make_request(session, ctx).request
    session.flush()
    _sign_in(browser, staff["other_agent"])
    assert browser.get(f"/requests/{request.reference}").status_code == 403


def test_the_queue_pages_through_every_open_request_in_due_order(browser, session, ctx, staff, frozen):
    made = []
    for i in range(30):
        made.append(make_request(session, ctx, {**JANE, "full_name": f"Person {i}", "email": f"p{i}@example.com"})
                    .request)
        frozen.advance(timedelta(days=2))  # the first ones are overdue by now
    session.flush()
    _sign_in(browser, staff["officer"])
    seen = every_row(browser, "/requests?size=25", "data-reference", base="/requests")
    assert seen == [r.reference for r in made]  # all 30, each once, the earliest due first
    overdue = browser.get("/requests", params={"overdue": "true"}).text
    late = [r.reference for r in made if r.due_at < clock.now()]
    assert late and re.findall(r'data-reference="([^"]+)"', overdue) == late
    newest = browser.get("/requests", params={"sort": "-received", "size": "25"}).text
    assert re.findall(r'data-reference="([^"]+)"', newest)[0] == made[-1].reference
    stage = browser.get("/requests", params={"status": "verifying"}).text
    assert "data-reference=" not in stage and "No requests here with these filters" in stage
