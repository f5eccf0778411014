"""The audit API: checkpoint (note and JSON), proofs, paged events; only for auditing roles."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from ombud.app import create_app
from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, service
from ombud.audit.events import AuditEvent
from ombud.audit.note import open_note, parse_checkpoint, parse_verifier
from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.staff.testing import make_employee


@pytest.fixture
def api(ctx):
    return TestClient(create_app(ctx=ctx))


def _token(session, role):
    employee = make_employee(session, role=role, password=None)
    return {"authorization": f"Bearer {staff_service.create_api_token(session, employee, name='t').token}"}


@pytest.fixture
def officer(session):
    return _token(session, Role.privacy_officer)


def _b(text):
    return base64.b64decode(text)


def _fill(session, ctx, n=11):
    """n reads (after whatever the staff domain logged, e.g. token creation) and a checkpoint of them all."""
    service.append_events(session, [
        AuditEvent("access.read", "employee", f"E-{i % 3}", customer_id=f"C-{i % 4}", fields=("email",))
        for i in range(n)
    ])
    return checkpoints.create_checkpoint(session, ctx.keys, ctx.settings).checkpoint


def test_only_auditing_roles_may_read_the_log(api, session, ctx):
    _fill(session, ctx)
    assert api.get("/api/audit/checkpoint").status_code == 401
    assert api.get("/api/audit/events", headers=_token(session, Role.agent)).status_code == 403
    for role in (Role.privacy_officer, Role.security_analyst, Role.admin):
        assert api.get("/api/audit/events", headers=_token(session, role)).status_code == 200


def test_latest_checkpoint_as_note_and_json(api, session, ctx, officer, verifier):
    assert api.get("/api/audit/checkpoint", headers=officer).status_code == 404
    record = _fill(session, ctx)
    response = api.get("/api/audit/checkpoint", headers=officer)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.text == record.note
    key = parse_verifier(api.get("/api/audit/key", headers=officer).text)
    assert key == verifier
    body = parse_checkpoint(open_note(response.text, [key]).text)
    size = service.log_size(session)
    assert body.size == record.tree_size == size
    as_json = api.get("/api/audit/checkpoint", headers={**officer, "accept": "application/json"}).json()
    assert as_json["tree_size"] == size and as_json["note"] == record.note
    assert _b(as_json["root_hash"]) == body.root_hash
    assert api.get("/api/audit/checkpoint?format=json", headers=officer).json()["origin"] == ctx.settings.audit_origin
    assert api.get(f"/api/audit/checkpoints/{size}", headers=officer).json()["key_id"] == f"{key.key_id:08x}"
    assert api.get(f"/api/audit/checkpoints/{size - 1}", headers=officer).status_code == 404


def test_inclusion_proofs_verify_against_the_signed_checkpoint(api, session, ctx, officer, verifier):
    record = _fill(session, ctx)
    size = record.tree_size
    root = parse_checkpoint(open_note(record.note, [verifier]).text).root_hash
    for index in range(size):
        body = api.get(f"/api/audit/proof/inclusion?index={index}", headers=officer).json()
        assert body["tree_size"] == size and body["checkpoint"] == record.note
        assert _b(body["root_hash"]) == root
        leaf = merkle.leaf_hash(service.get_event(session, index).leaf_data())
        assert _b(body["leaf_hash"]) == leaf
        assert merkle.verify_inclusion(leaf, index, size, [_b(p) for p in body["proof"]], root)
    smaller = api.get("/api/audit/proof/inclusion?index=2&tree_size=5", headers=officer).json()
    assert smaller["checkpoint"] is None
    assert merkle.verify_inclusion(_b(smaller["leaf_hash"]), 2, 5, [_b(p) for p in smaller["proof"]],
                                   _b(smaller["root_hash"]))
    bad = api.get(f"/api/audit/proof/inclusion?index={size}", headers=officer)
    # Each value is valid by the document; together they name no event, or a tree the log does not hold yet.
    assert bad.status_code == 404 and "not in a tree" in bad.json()["detail"]
    assert api.get("/api/audit/proof/inclusion?index=1&tree_size=99", headers=officer).status_code == 404


def test_consistency_proofs_between_checkpoints(api, session, ctx, officer, verifier):
    first = _fill(session, ctx, 5)
    second = _fill(session, ctx, 9)
    m, n = first.tree_size, second.tree_size
    body = api.get(f"/api/audit/proof/consistency?first={m}", headers=officer).json()
    assert (body["first"], body["second"]) == (m, n)
    root1 = parse_checkpoint(open_note(first.note, [verifier]).text).root_hash
    root2 = parse_checkpoint(open_note(second.note, [verifier]).text).root_hash
    assert (_b(body["first_root"]), _b(body["second_root"])) == (root1, root2)
    assert merkle.verify_consistency(m, n, [_b(p) for p in body["proof"]], root1, root2)
    assert api.get(f"/api/audit/proof/consistency?first={n + 1}", headers=officer).status_code == 404
    assert api.get("/api/audit/proof/consistency?first=0", headers=officer).status_code == 422


def test_events_are_paged_and_filtered(api, session, ctx, officer):
    base = service.log_size(session)  # the staff domain logged the token's creation
    _fill(session, ctx, 11)
    page = api.get("/api/audit/events?limit=4", headers=officer).json()
    assert [e["index"] for e in page["items"]] == [0, 1, 2, 3] and page["next_after"] == 3
    seen = [e["index"] for e in page["items"]]
    while page["next_after"] is not None:
        page = api.get(f"/api/audit/events?limit=4&after={page['next_after']}", headers=officer).json()
        seen += [e["index"] for e in page["items"]]
    assert seen == list(range(base + 11))
    by_customer = api.get("/api/audit/events?customer_id=C-1", headers=officer).json()
    assert [e["index"] for e in by_customer["items"]] == [base + 1, base + 5, base + 9]
    first = by_customer["items"][0]
    assert first["fields"] == ["email"] and first["actor_id"] == "E-1" and first["detail"] == {}
    assert _b(first["leaf_hash"]) == service.get_event(session, base + 1).leaf_hash
    by_actor = api.get("/api/audit/events?actor_id=E-0&action=access.read", headers=officer).json()
    assert [e["index"] for e in by_actor["items"]] == [base, base + 3, base + 6, base + 9]
    assert api.get("/api/audit/events?since=2026-01-01T00:00:00", headers=officer).status_code == 422
    assert api.get("/api/audit/events?limit=5000", headers=officer).status_code == 422
