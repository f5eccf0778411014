"""The API: intake from support tools (idempotent), the request's life through the same workflow, 422 naming fields."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from requestutil import JANE, PDF, account_with_card

from ombud.app import create_app
from ombud.identity.index import import_callback
from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.staff.testing import fast_password_hashing, make_employee


@pytest.fixture(autouse=True)
def _fast_passwords():
    with fast_password_hashing():
        yield


@pytest.fixture
def api(ctx):
    return TestClient(create_app(ctx=ctx))


def _headers(session, role, team="victim-requests"):
    employee = make_employee(session, role=role, team=team)
    return employee, {"authorization": f"Bearer {staff_service.create_api_token(session, employee, name='t').token}"}


def test_a_request_from_intake_to_package_through_the_api(api, session, ctx, frozen):
    thief = account_with_card(session, ctx.keys, "Mallory Smith", "mallory@example.net", "4111111111111111")
    import_callback(ctx.keys)(session, "accounts", [thief.id])
    _agent, headers = _headers(session, Role.agent)
    _officer, officer_headers = _headers(session, Role.privacy_officer, "Privacy")
    session.flush()
    created = api.post("/api/victim-requests", json=JANE, headers={**headers, "idempotency-key": "i" * 20})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["reference"].startswith("VR-") and "/request/status/" in body["status_url"]
    again = api.post("/api/victim-requests", json=JANE, headers={**headers, "idempotency-key": "i" * 20})
    assert again.json()["id"] == body["id"] and again.json()["status_url"] == body["status_url"]
    ref = body["reference"]
    queue = api.get("/api/victim-requests", headers=headers).json()
    assert [i["reference"] for i in queue["items"]] == [ref]
    upload = api.post(f"/api/victim-requests/{ref}/evidence", data={"kind": "government_id"},
                      files={"file": ("id.pdf", PDF, "application/pdf")}, headers=headers)
    assert upload.status_code == 201 and upload.json()["content_type"] == "application/pdf"
    fake = api.post(f"/api/victim-requests/{ref}/evidence", data={"kind": "government_id"},
                    files={"file": ("id.pdf", b"GIF89a....", "application/pdf")}, headers=headers)
    assert fake.status_code == 422 and fake.json()["field"] == "file"
    opened = api.get(f"/api/victim-requests/{ref}/evidence/{upload.json()['id']}", headers=headers)
    assert opened.status_code == 200 and opened.content == PDF
    verified = api.post(f"/api/victim-requests/{ref}/verify", headers=headers,
                        json={"confident": True, "basis": ["government_id_checked"]})
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    found = api.post(f"/api/victim-requests/{ref}/discovery", headers=headers).json()
    assert found["status"] == "review"
    for m in found["matches"]:
        answer = api.post(f"/api/victim-requests/{ref}/matches/{m['id']}/verdict", headers=headers,
                          json={"verdict": "fraud", "note": "not hers"})
        assert answer.status_code == 200
    done = api.post(f"/api/victim-requests/{ref}/review/finish", headers=headers).json()
    assert done["status"] == "package"
    assert [e["to_status"] for e in done["timeline"] if e["kind"] == "transition"] == [
        "verified", "discovery", "review", "package"]
    sla = api.get("/api/victim-requests/sla", headers=officer_headers).json()
    assert sla["open"] == 1 and sla["overdue"] == 0 and sla["by_channel"]["api"] == 1


def test_refusals_name_the_field_and_the_rule(api, session, ctx, frozen):
    _agent, headers = _headers(session, Role.agent)
    _officer, officer_headers = _headers(session, Role.privacy_officer, "Privacy")
    session.flush()
    bad = api.post("/api/victim-requests", json={**JANE, "email": "nope"}, headers=headers)
    assert bad.status_code == 422 and "email" in bad.text
    thief_name = api.post("/api/victim-requests", json={**JANE, "opened_by": "Mallory"}, headers=headers)
    assert thief_name.status_code == 422
    ref = api.post("/api/victim-requests", json=JANE, headers=headers).json()["reference"]
    privacy = api.post(f"/api/victim-requests/{ref}/declines", headers=headers,
                       json={"ground": "privacy", "explanation": "We do not share records for privacy reasons."})
    assert privacy.status_code == 422
    illegal = api.post(f"/api/victim-requests/{ref}/transition", headers=headers, json={"to": "delivered"})
    assert illegal.status_code == 409
    proposed = api.post(f"/api/victim-requests/{ref}/declines", headers=officer_headers,
                        json={"ground": "identity_not_confirmed", "explanation": "The ID does not match at all."})
    assert proposed.status_code == 201
    own = api.post(f"/api/victim-requests/{ref}/declines/{proposed.json()['id']}/review",
                   headers=officer_headers, json={"confirm": True})
    assert own.status_code == 403
    by_agent = api.post(f"/api/victim-requests/{ref}/declines/{proposed.json()['id']}/review",
                        headers=headers, json={"confirm": True})
    assert by_agent.status_code == 403
    _outsider, outsider_headers = _headers(session, Role.security_analyst, "Security")
    session.flush()
    assert api.get(f"/api/victim-requests/{ref}", headers=outsider_headers).status_code == 403
    assert api.get("/api/victim-requests").status_code == 401
