"""The records API: package, deliver, remediate, close and verify a request's package with an API token."""

from __future__ import annotations

import recordsutil
from fastapi.testclient import TestClient

from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.staff.testing import make_employee


def test_package_deliver_remediate_close_verify(app, session, ctx):
    thief = recordsutil.account(session, orders=2, marker="APITHIEF")
    request = recordsutil.request_at_package(session, ctx, {f"account:{thief.account.external_id}": "fraud"})
    officer = make_employee(session, role=Role.privacy_officer, password=None, team="victim-requests")
    token = staff_service.create_api_token(session, officer, name="tool").token
    session.flush()
    api = TestClient(app, headers={"authorization": f"Bearer {token}"})
    base = f"/api/victim-requests/{request.reference}"
    made = api.post(base + "/package", json={})
    assert made.status_code == 201, made.text
    assert made.json()["counts"]["orders"] == 2
    sent = api.post(base + "/deliveries", json={"to": "victim", "days": 7})
    assert sent.status_code == 201 and "/portal/records/" in sent.json()["link"]
    refused = api.post(base + "/deliveries", json={"to": "agency"})
    assert refused.status_code == 422 and refused.json()["field"] == "authorisation_id"
    steps = api.post(base + "/remediation")
    assert steps.status_code == 200 and {s["status"] for s in steps.json()} == {"confirmed"}
    closed = api.post(base + "/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    package = (ctx.settings.data_dir / "packages" / made.json()["file_name"]).read_bytes()
    verified = api.post("/api/records/verify", content=package, headers={"content-type": "application/zip"})
    assert verified.json()["ok"] is True and verified.json()["audit_index"] == made.json()["audit_index"]
    broken = api.post("/api/records/verify", content=package[:-10] + b"0123456789",
                      headers={"content-type": "application/zip"})
    assert broken.json()["ok"] is False
