"""Console pages: cases and reading through the broker, grants, break-glass, reviews, decisions, transparency."""

from __future__ import annotations

from accessutil import case, close_open_rounds, customer, employee
from sqlalchemy import select

from ombud.access import cases, grants
from ombud.access.models import BreakGlass, Case, Grant, GrantKind, GrantStatus
from ombud.staff.models import Role


def test_an_agent_opens_a_case_and_reads_through_the_broker(session, frozen, browser):
    agent, acct = employee(session), customer(session)
    client, csrf = browser(agent)
    page = client.get("/access/cases")
    assert page.status_code == 200 and "Open a case" in page.text
    opened = client.post("/access/cases", data={"csrf_token": csrf, "customer_id": acct.external_id,
                                                "title": "Where is my hose", "case_type": "support_ticket"})
    assert opened.status_code == 303
    case_id = session.scalar(select(Case.id).where(Case.customer_id == acct.external_id))
    assert opened.headers["location"] == f"/access/cases/{case_id}"
    view = client.post(f"/access/cases/{case_id}/read",
                       data={"csrf_token": csrf, "classes": ["contact", "payment"]})
    # The agent opened the case for themselves: nothing stands behind it, so sensitive data stays masked.
    assert view.status_code == 200 and "self-opened" in view.text
    assert acct.email not in view.text and "•••• 4242" in view.text and "masked" in view.text
    cases.assign(session, session.get(Case, case_id), actor=None, assignee=agent, team=None)
    view = client.post(f"/access/cases/{case_id}/read",
                       data={"csrf_token": csrf, "classes": ["contact", "payment"]})
    assert view.status_code == 200
    assert acct.email in view.text and "•••• 4242" in view.text and "masked" in view.text
    assert "04/2029" not in view.text
    decisions = client.get("/access/decisions")
    assert acct.external_id in decisions.text and 'data-decision="masked"' in decisions.text


def test_a_refused_read_shows_the_reason(session, frozen, browser):
    agent, other_agent, acct = employee(session), employee(session, team="other"), customer(session)
    c = case(session, acct, other_agent)
    client, csrf = browser(agent)
    assert client.get(f"/access/cases/{c.id}").status_code == 404
    c2 = case(session, acct, agent)
    client.post(f"/access/cases/{c2.id}/close", data={"csrf_token": csrf})
    refused = client.post(f"/access/cases/{c2.id}/read", data={"csrf_token": csrf, "classes": ["contact"]})
    assert refused.status_code == 403 and f"case {c2.id} is closed" in refused.text


def test_forms_without_the_csrf_token_are_refused(session, frozen, browser):
    agent, acct = employee(session), customer(session)
    client, _csrf = browser(agent)
    response = client.post("/access/cases", data={"customer_id": acct.external_id, "title": "No token"})
    assert response.status_code == 403


def test_grant_pages_request_approve_and_refuse_self_approval(session, frozen, browser):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    client, csrf = browser(agent)
    asked = client.post("/access/grants", data={"csrf_token": csrf, "data_class": "payment", "kind": "just_in_time",
                                                "customer_id": acct.external_id, "duration_minutes": "30",
                                                "justification": "card dispute needs the expiry date"})
    assert asked.status_code == 303
    grant = session.scalar(select(Grant).where(Grant.employee_id == agent.id))
    self_approve = client.post(f"/access/grants/{grant.id}/approve", data={"csrf_token": csrf})
    assert self_approve.status_code == 303
    assert "nobody approves" in client.get("/access/grants").text
    session.refresh(grant)
    assert grant.status is GrantStatus.requested
    boss, boss_csrf = browser(officer)
    assert f'data-grant="{grant.id}"' in boss.get("/access/grants").text
    boss.post(f"/access/grants/{grant.id}/approve", data={"csrf_token": boss_csrf})
    session.refresh(grant)
    assert grant.status is GrantStatus.approved
    view = client.post("/access/read", data={"csrf_token": csrf, "customer_id": acct.external_id,
                                             "purpose": f"grant:{grant.id}", "classes": "payment"})
    assert view.status_code == 200 and "04/2029" in view.text


def test_break_glass_page_raises_to_security_who_reviews(session, frozen, browser):
    agent, analyst, acct = employee(session), employee(session, Role.security_analyst), customer(session)
    client, csrf = browser(agent)
    client.post("/access/break-glass", data={"csrf_token": csrf, "customer_id": acct.external_id, "minutes": "15",
                                             "justification": "customer reports fraud in progress on the phone",
                                             "classes": ["contact"]})
    record = session.scalar(select(BreakGlass).where(BreakGlass.employee_id == agent.id))
    assert record is not None
    security, sec_csrf = browser(analyst)
    queue = security.get("/access/break-glass")
    assert f'data-break-glass="{record.id}"' in queue.text and "pending" in queue.text
    security.post(f"/access/break-glass/{record.id}/review",
                  data={"csrf_token": sec_csrf, "outcome": "unjustified", "note": "no ticket"})
    session.refresh(record)
    assert record.review.value == "unjustified"


def test_reviews_page_shows_reach_and_runs_a_round(session, frozen, browser):
    officer = employee(session, Role.privacy_officer)
    manager = employee(session)
    agent = employee(session, manager=manager)
    grant = grants.request_grant(session, requester=agent, kind=GrantKind.standing, data_class="government_id",
                                 justification="fraud desk checks identity documents daily")
    grants.approve(session, grant, approver=officer)
    close_open_rounds(session)
    client, csrf = browser(officer)
    page = client.get("/access/reviews")
    assert page.status_code == 200 and 'data-class="government_id"' in page.text and "standing grant" in page.text
    client.post("/access/reviews/rounds", data={"csrf_token": csrf, "name": "Spring recertification"})
    boss, boss_csrf = browser(manager)
    items = boss.get("/access/reviews")
    assert "Spring recertification" in items.text and "data-item=" in items.text
    item_id = int(items.text.split('data-item="')[1].split('"')[0])
    boss.post(f"/access/reviews/items/{item_id}", data={"csrf_token": boss_csrf, "decision": "revoked"})
    session.refresh(grant)
    assert grant.status is GrantStatus.revoked


def test_transparency_page_names_teams_not_people(session, frozen, browser, api):
    agent, acct = employee(session, name="Pat Quill"), customer(session)
    c = case(session, acct, agent)
    api(agent).post("/api/access/read", json={"customer_id": acct.external_id, "purpose": f"case:{c.id}",
                                               "classes": ["contact"]})
    client, _csrf = browser(employee(session, Role.privacy_officer))
    page = client.get("/access/transparency", params={"customer_id": acct.external_id})
    assert page.status_code == 200
    assert "a customer-service request" in page.text and agent.team in page.text and "Pat Quill" not in page.text
