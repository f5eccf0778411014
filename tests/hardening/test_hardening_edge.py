"""The generic limits at the edge (ombud.api.limits), the identifiers the audit log refuses (ombud.customer_ids),
and the API contract (ombud.api.contract): one test per defect class, each failing on the code before them."""

from __future__ import annotations

import json
import re

import pytest
from accessutil import case, customer, employee, events
from hypothesis import given, settings
from hypothesis import strategies as st

from ombud import customer_ids
from ombud.api.limits import INT64_MAX, MAX_TEXT
from ombud.audit.events import AuditEvent, prepare
from ombud.clock import now
from ombud.errors import InvalidInput
from ombud.staff.models import Role

ERROR_KEYS = {"detail", "field", "errors"}


def _error(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= ERROR_KEYS and body["field"] == field, body
    return body


# --- unbounded input ------------------------------------------------------------------------------------------


def test_bodies_lists_strings_and_nesting_are_capped_naming_the_field(session, frozen, api):
    client = api(employee(session, Role.privacy_officer))
    _error(client.post("/api/access/cases", content=b"{" + b" " * (1024 * 1024 + 1) + b"}",
                       headers={"content-type": "application/json"}), 413, "body")
    many = client.post("/api/access/read", json={"customer_id": "C000001", "fields": ["email"] * 100_000})
    assert "fields" in _error(many, 422, "fields")["detail"]
    long = client.post("/api/access/grants", json={"data_class": "contact", "justification": "x" * (MAX_TEXT + 1)})
    _error(long, 422, "justification")
    deep: object = "x"
    for _ in range(100):
        deep = [deep]
    _error(client.post("/api/access/cases", json={"title": deep}), 422, "title." + ".".join(["0"] * 31))
    # A refused value is echoed as a short prefix at most.
    echoed = client.post("/api/access/cases", json={"case_type": "Q" * 5000, "customer_id": "C000001", "title": "ok!"})
    assert echoed.status_code == 422 and "Q" * 20 not in echoed.text
    many_params = "&".join(f"p{i}=1" for i in range(500))
    _error(client.get(f"/api/access/cases?{many_params}"), 422, "query")
    _error(client.get("/api/access/cases", params={"customer_id": "C" * 5000}), 422, "customer_id")


def test_the_read_lists_take_at_most_what_the_broker_knows(session, frozen, api):
    client = api(employee(session))
    response = client.post("/api/access/read", json={"customer_id": "C000001", "fields": ["email"] * 65})
    _error(response, 422, "fields")


# --- integers at the edge and the audit page -----------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/api/access/cases/{n}", "/api/access/grants/{n}", "/api/audit/checkpoints/{n}", "/api/access/reviews/rounds/{n}",
])
@pytest.mark.parametrize("n", [2**63, 2**64 + 5, -(2**63) - 1, 10**40])
def test_integers_beyond_64_bits_are_422_not_500(session, frozen, api, path, n):
    client = api(employee(session, Role.privacy_officer))
    _error(client.get(path.format(n=n)), 422, _param(path))
    assert client.get(path.format(n=INT64_MAX)).status_code == 404


def _param(path: str) -> str:
    return {"cases": "case_id", "grants": "grant_id", "checkpoints": "tree_size", "rounds": "round_id"}[
        path.split("/")[-2]]


def test_posts_with_huge_ids_and_huge_body_integers_are_422(session, frozen, api):
    client = api(employee(session, Role.security_analyst))
    for path in ("/api/access/break-glass/{n}/end", "/api/access/reviews/items/{n}", "/api/access/grants/{n}/cancel"):
        response = client.post(path.format(n=2**64), json={"decision": "confirm"})
        assert response.status_code == 422, (path, response.text)
    grant = client.post("/api/access/grants", json={"data_class": "contact", "justification": "why this, and now",
                                                      "duration_minutes": 2**70})
    _error(grant, 422, "duration_minutes")
    query = client.get("/api/audit/proof/inclusion", params={"index": 2**64})
    _error(query, 422, "index")


def test_the_audit_page_takes_its_documented_maximum(session, frozen, api):
    client = api(employee(session, Role.privacy_officer))
    assert client.get("/api/audit/events", params={"limit": 1000}).status_code == 200
    _error(client.get("/api/audit/events", params={"limit": 1001}), 422, "limit")


# --- identifiers that are personal data -------------------------------------------------------------------------

NOT_IDS = ["555-010-0001", "(555) 010-0001", "+15550100001", "5550100001", "jane@example.com", "078-05-1120",
           "078051120", "4242424242424242", "Jane Doe", "janedoe", "203.0.113.7", "2001:db8::1", "1984-07-19",
           "555.010.0001", "tel:5550100001", "5550100001x12", ""]
IDS = ["A000123", "C-0001", "C000042", "A1", "acct_9", "CUST.2024.77"]


@pytest.mark.parametrize("typed", NOT_IDS)
def test_values_without_the_id_shape_are_not_ids(typed):
    assert customer_ids.problem(typed) is not None


@pytest.mark.parametrize("typed", IDS)
def test_ids_keep_their_shape(typed):
    assert customer_ids.problem(typed) is None


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"\+?1?[ (-]?[0-9]{3}[) .-]?[0-9]{3}[ .-]?[0-9]{4}", fullmatch=True)
       | st.from_regex(r"[0-9]{3}-?[0-9]{2}-?[0-9]{4}", fullmatch=True)
       | st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,10})?@example\.(com|org)", fullmatch=True)
       | st.from_regex(r"[0-9]{13,19}", fullmatch=True))
def test_phones_ssns_emails_and_card_numbers_never_pass_as_ids(typed):
    assert customer_ids.problem(typed) is not None
    with pytest.raises(InvalidInput):
        prepare(AuditEvent("access.read", customer_id=typed), now())


def test_a_retailers_own_pattern_is_the_shape(monkeypatch):
    try:
        customer_ids.configure(r"[0-9]{8}")
        assert customer_ids.problem("12345678") is None and customer_ids.problem("A000123") is not None
    finally:
        customer_ids.configure(None)
    assert customer_ids.problem("A000123") is None


@pytest.mark.parametrize("typed", ["555-010-0001", "jane.doe@example.com", "Jane Doe", "5550100001"])
def test_a_probe_is_refused_and_recorded_only_by_a_keyed_hash(session, frozen, api, ctx, typed):
    agent = employee(session)
    acct = customer(session)
    ticket = case(session, acct, agent)
    response = api(agent).post("/api/access/read", json={"customer_id": typed, "purpose": f"case:{ticket.id}",
                                                          "fields": ["email"]})
    assert _error(response, 422, "customer_id") and typed not in response.text
    [probe] = events(session, "access.probe")
    assert probe.customer_id is None and probe.decision == "deny"
    assert re.fullmatch(r"kh:customer_id:[0-9a-f]{32,64}", str(probe.detail["probe"]))
    stored = json.dumps([probe.actor_id, probe.customer_id, probe.subject_id, probe.purpose, probe.detail])
    assert typed not in stored and typed.replace("-", "") not in stored
    # The same probe hashes the same (an analyst can count repeats), and another value differently.
    for again in (typed, typed + "9"):
        api(agent).post("/api/access/read", json={"customer_id": again, "purpose": f"case:{ticket.id}",
                                                  "fields": ["email"]})
    hashes = [e.detail["probe"] for e in events(session, "access.probe")]
    assert hashes[0] == hashes[1] != hashes[2]


@pytest.mark.parametrize("path,body", [
    ("/api/access/cases", {"case_type": "support_ticket", "customer_id": "555-010-0001", "title": "Phone call"}),
    ("/api/access/break-glass", {"customer_id": "jane@example.com", "classes": ["contact"],
                             "justification": "the customer is locked out during a fraud call"}),
    ("/api/access/grants", {"data_class": "contact", "customer_id": "Jane Doe",
                            "justification": "the customer called about a missing parcel"}),
])
def test_every_face_refuses_a_non_id_before_recording(session, frozen, api, path, body):
    client = api(employee(session, Role.privacy_officer))
    _error(client.post(path, json=body), 422, "customer_id")
    assert events(session, "access.") == []


# --- the API contract ---------------------------------------------------------------------------------------------


def test_the_openapi_document_declares_security_errors_and_limits(app):
    from fastapi.testclient import TestClient

    doc = TestClient(app).get("/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "cookie"}
    assert doc["components"]["securitySchemes"]["cookie"] == {
        "type": "apiKey", "in": "cookie", "name": "ombud_session",
        "description": doc["components"]["securitySchemes"]["cookie"]["description"]}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not path.startswith("/api/"):
                continue
            for status in ("401", "403", "404", "409", "413", "422"):
                assert status in op["responses"], (method, path, status)
            assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}
            if path != "/api/health" and not path.startswith("/api/public/"):
                assert op.get("security") == [{"bearer": []}, {"cookie": []}], (method, path)
            for parameter in op.get("parameters", []):
                for schema in [parameter["schema"], *parameter["schema"].get("anyOf", [])]:
                    if schema.get("type") == "integer":
                        assert schema["maximum"] <= INT64_MAX, (path, parameter["name"])
                    if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
                        assert "maxLength" in schema, (path, parameter["name"])
    read = doc["paths"]["/api/access/read"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert read["properties"]["customer_id"]["maxLength"] == 64
    assert read["properties"]["fields"]["anyOf"][0]["maxItems"] == 64
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["Problem"]["properties"].keys() == {"field", "message"}


def test_docs_work_offline_with_assets_from_the_package(app):
    from fastapi.testclient import TestClient

    client = TestClient(app)
    page = client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"?https?://", page.text) and "cdn" not in page.text.lower()
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", page.text):
        assert client.get(asset).status_code == 200, asset
    assert "Apache License" in client.get("/docs/assets/LICENSE").text
    assert client.get("/docs/assets/swagger-editor-bundle.js").status_code == 404


def test_no_page_loads_a_script_from_another_host():
    from pathlib import Path

    import ombud.web

    templates = Path(ombud.web.__file__).parent / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"(https?:)?//", text), template
