"""POST /api/identity/discover: staff only, only under a purpose, references only, the search on the audit log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from identity_testdata import JANE, JANE_DOB
from sqlalchemy import select

from ombud.access import cases
from ombud.access.models import CaseType
from ombud.app import create_app
from ombud.audit.models import AuditEntry
from ombud.identity.index import import_callback
from ombud.retail.models import AddressKind
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


def _token(session, role):
    employee = make_employee(session, role=role)
    return employee, staff_service.create_api_token(session, employee, name="tool").token


def _investigation(session, employee, customer_id, case_type=CaseType.insider_investigation):
    return cases.open_case(session, case_type=case_type, customer_id=customer_id, title="Look-alike accounts",
                           actor=None, assignee=employee)


@pytest.fixture
def world(session, ctx, retail):
    on_batch = import_callback(ctx.keys)
    jane = retail.account("Jane Q. Doe", "jane.doe@example.com", "217-555-0143", JANE_DOB)
    home = retail.address(jane, "12 Oak St", "Apt 4B")
    retail.card(jane, "4111111111111111", "Jane Doe", home)
    thief = retail.account("Mallory Smith", "mallory@example.net", "302-555-0199")
    drop = retail.address(thief, "9 Elm Road", city="Dover", region="DE", postal="19901", kind=AddressKind.shipping)
    retail.card(thief, "4111111111111111", "Mallory Smith", drop)
    on_batch(session, "accounts", [jane.id, thief.id])
    session.flush()
    return jane, thief


@pytest.mark.parametrize("role", [Role.agent, Role.privacy_officer, Role.security_analyst, Role.admin])
def test_staff_discover_and_get_references_only(api, session, world, role):
    jane, thief = world
    employee, token = _token(session, role)
    case = _investigation(session, employee, thief.external_id)
    session.flush()
    response = api.post("/api/identity/discover", json={"profile": JANE, "purpose": f"case:{case.id}"},
                        headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    found = {m["account_id"]: m for m in body["matches"]}
    assert set(found) == {jane.external_id, thief.external_id}
    assert found[thief.external_id]["verdict"] == "suspected_fraud"
    assert found[thief.external_id]["cards"][0]["last4"] == "1111"
    # No personal data of the matched accounts: not the thief's name, email, phone or address.
    for secret in ("Mallory", "mallory", "302", "Elm", "Dover", "jane.doe@example.com", "4111111111111111"):
        assert secret not in response.text
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(1)).first()
    assert entry.action == "identity.discover" and entry.actor_id == employee.external_id
    assert entry.purpose == f"case:{case.id}"
    assert thief.external_id in entry.detail and "Mallory" not in entry.detail


def test_anonymous_callers_are_refused(api):
    assert api.post("/api/identity/discover", json={"profile": JANE}).status_code == 401


def test_discovery_without_a_purpose_is_refused(api, session, world):
    _, thief = world
    employee, token = _token(session, Role.security_analyst)
    ticket = _investigation(session, employee, thief.external_id, CaseType.support_ticket)
    session.flush()
    headers = {"authorization": f"Bearer {token}"}
    before = session.scalars(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(1)).first()
    for body in ({"profile": JANE}, {"profile": JANE, "purpose": ""}, {"profile": JANE, "purpose": "curiosity"},
                 {"profile": JANE, "purpose": "grant:1"}):
        response = api.post("/api/identity/discover", json=body, headers=headers)
        assert response.status_code == 422 and response.json()["field"] == "purpose", body
    refused = api.post("/api/identity/discover", json={"profile": JANE, "purpose": f"case:{ticket.id}"},
                       headers=headers)
    assert refused.status_code == 403 and "investigation" in refused.text
    after = session.scalars(select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(1)).first()
    assert after.idx == before.idx  # nothing was searched


def test_bad_input_names_the_field(api, session, world):
    employee, token = _token(session, Role.agent)
    purpose = f"case:{_investigation(session, employee, world[1].external_id).id}"
    session.flush()
    headers = {"authorization": f"Bearer {token}"}
    response = api.post("/api/identity/discover", json={"profile": {"card_numbers": ["1234"]}, "purpose": purpose},
                        headers=headers)
    assert response.status_code == 422 and response.json()["field"] == "card_numbers[0]"
    response = api.post("/api/identity/discover", json={"profile": {"names": ["x"], "shoe_size": 9}}, headers=headers)
    assert response.status_code == 422 and "shoe_size" in response.text
