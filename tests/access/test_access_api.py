"""The access API and its Python client: reads (200 masked view, 403 with the reason, both on the record),
cases, grants, break-glass, reviews and transparency."""

from __future__ import annotations

from accessutil import case, customer, employee, events

from ombud.access.client import AccessClient, AccessRefused
from ombud.staff.models import Role


def test_read_returns_the_masked_view(session, frozen, api):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    response = api(agent).post("/api/access/read", json={"customer_id": acct.external_id, "purpose": f"case:{c.id}",
                                                         "fields": ["email", "payment_methods"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"] == "masked" and body["fields"]["email"] == acct.email
    assert body["fields"]["payment_methods"][0]["number"] == "•••• 4242"
    assert body["masked"] == ["payment_methods"] and body["audit_index"] is not None


def test_a_refused_read_is_403_with_the_reason_and_stays_on_the_record(session, frozen, api):
    agent, acct = employee(session), customer(session)
    response = api(agent).post("/api/access/read", json={"customer_id": acct.external_id, "fields": ["email"]})
    assert response.status_code == 403
    body = response.json()
    assert "no purpose" in body["detail"] and body["decision"] == "denied"
    [event] = events(session, "access.read")
    assert event.index == body["audit_index"] and event.decision == "deny"


def test_bad_input_is_422_naming_the_field(session, frozen, api):
    agent, acct = employee(session), customer(session)
    response = api(agent).post("/api/access/read", json={"customer_id": acct.external_id, "fields": ["shoe_size"],
                                                         "purpose": "case:1"})
    assert response.status_code == 422 and response.json()["field"] == "fields"
    assert api(agent).post("/api/access/read", json={}).status_code == 422


def test_cases_api_open_list_get_assign_close(session, frozen, api):
    officer, agent = employee(session, Role.privacy_officer), employee(session, team="desk")
    acct = customer(session)
    client = api(officer)
    created = client.post("/api/access/cases", json={"case_type": "victim_request", "customer_id": acct.external_id,
                                                      "title": "Records request", "assignee": agent.external_id})
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    assert client.get(f"/api/access/cases/{case_id}").json()["assignee_id"] == agent.id
    assert [c["id"] for c in client.get("/api/access/cases", params={"customer_id": acct.external_id}).json()] == [
        case_id]
    assert [c["id"] for c in api(agent).get("/api/access/cases").json()] == [case_id]
    assigned = client.post(f"/api/access/cases/{case_id}/assign", json={"team": "desk"}).json()
    assert assigned["team"] == "desk" and assigned["assignee_id"] is None
    closed = client.post(f"/api/access/cases/{case_id}/close", json={"reason": "records delivered"}).json()
    assert closed["status"] == "closed"
    assert client.post(f"/api/access/cases/{case_id}/close", json={}).status_code == 409
    outsider = employee(session, team="elsewhere")
    assert api(outsider).get(f"/api/access/cases/{case_id}").status_code == 404


def test_agents_open_support_tickets_only(session, frozen, api):
    agent, acct = employee(session), customer(session)
    refused = api(agent).post("/api/access/cases", json={"case_type": "incident", "customer_id": acct.external_id,
                                                          "title": "Not mine to open"})
    assert refused.status_code == 403


def test_grant_flow_and_self_approval_over_the_api(session, frozen, api):
    manager = employee(session, Role.agent)
    agent = employee(session, manager=manager)
    acct = customer(session)
    mine = api(agent)
    grant = mine.post("/api/access/grants", json={"data_class": "payment", "customer_id": acct.external_id,
                                                   "justification": "card dispute needs the expiry date"}).json()
    assert mine.post(f"/api/access/grants/{grant['id']}/approve", json={}).status_code == 403
    boss = api(manager)
    assert [g["id"] for g in boss.get("/api/access/grants", params={"waiting": True}).json()] == [grant["id"]]
    approved = boss.post(f"/api/access/grants/{grant['id']}/approve", json={"note": "ok"}).json()
    assert approved["status"] == "approved"
    view = mine.post("/api/access/read", json={"customer_id": acct.external_id, "purpose": f"grant:{grant['id']}",
                                                "classes": ["payment"]}).json()
    assert view["classes"]["payment"] == "allowed"


def test_break_glass_and_review_over_the_api(session, frozen, api):
    agent, analyst, acct = employee(session), employee(session, Role.security_analyst), customer(session)
    opened = api(agent).post("/api/access/break-glass", json={
        "customer_id": acct.external_id, "classes": ["contact"],
        "justification": "customer on the phone reports account takeover in progress"})
    assert opened.status_code == 201
    record = opened.json()
    queue = api(analyst).get("/api/access/break-glass", params={"review": "pending"}).json()
    assert [r["id"] for r in queue] == [record["id"]]
    reviewed = api(analyst).post(f"/api/access/break-glass/{record['id']}/review",
                                 json={"outcome": "justified", "note": "ticket confirms"}).json()
    assert reviewed["review"] == "justified"


def test_reports_transparency_and_policies(session, frozen, api):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    c = case(session, acct, agent)
    api(agent).post("/api/access/read", json={"customer_id": acct.external_id, "purpose": f"case:{c.id}",
                                               "classes": ["contact"]})
    report = api(officer).get("/api/access/reviews/report").json()
    assert report["people_per_class"]["contact"] >= 2
    assert api(agent).get("/api/access/reviews/report").status_code == 403
    seen = api(officer).get(f"/api/access/transparency/{acct.external_id}").json()
    [entry] = seen["accesses"]
    assert entry["team"] == agent.team and entry["purpose_category"] == "support_ticket"
    assert agent.name not in str(seen) and agent.external_id not in str(seen)
    policies = api(agent).get("/api/access/policies").json()
    assert len(policies["digest"]) == 64 and any(p["id"] == "guard.region" for p in policies["policies"])


def test_the_python_client(session, frozen, app, api):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    token_client = api(agent)
    token = token_client.headers["authorization"].split(" ", 1)[1]
    with AccessClient("http://testserver", token, transport=token_client._transport) as ombud:
        view = ombud.read(acct.external_id, fields=["email"], purpose=f"case:{c.id}")
        assert view["fields"]["email"] == acct.email
        assert ombud.case(c.id)["customer_id"] == acct.external_id
        try:
            ombud.read(acct.external_id, fields=["email"], purpose="case:999999")
        except AccessRefused as refused:
            assert refused.status_code == 403 and refused.detail == "no case 999999"
            assert refused.audit_index is not None
        else:
            raise AssertionError("a read for a missing case must be refused")
        assert ombud.transparency(acct.external_id)["accesses"][0]["team"] == agent.team
