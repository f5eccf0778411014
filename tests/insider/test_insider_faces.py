"""The alerts API and pages: analysts only, pseudonyms until escalation, reads and moves on the record."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from insiderutil import build
from sqlalchemy import select

from ombud.audit import checkpoint as checkpoints
from ombud.audit.models import AuditEntry
from ombud.insider import service
from pages import every_row


@pytest.fixture
def world(session, ctx):
    world = build(session)
    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    service.run_scan(session, identifier_key=ctx.keys.identifier_hash_key)
    session.flush()
    return world


def _reads(session):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == "insider.alert.read")).all()


def test_api_lists_reads_and_escalates_with_proofs(api, session, world):
    client = api(world.analyst)
    page = client.get("/api/insider/alerts")
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    mine = [a for a in items if a["findings"] and a["employee"].startswith("Employee ")]
    assert mine and all(world.snooper.external_id != a["employee"] for a in items)
    alert_id = mine[0]["id"]
    detail = client.get(f"/api/insider/alerts/{alert_id}").json()
    assert detail["checkpoint"] and len(detail["events"]) == len(world.bulk_indexes)
    assert all(e["proof"] is not None for e in detail["events"])
    assert client.get(f"/api/insider/alerts/{alert_id}/escalation").status_code == 409
    bad = client.post(f"/api/insider/alerts/{alert_id}/dismiss", json={"reason": "bored"})
    assert bad.status_code == 422
    done = client.post(f"/api/insider/alerts/{alert_id}/escalate", json={"note": "sold emails?"})
    assert done.status_code == 200 and done.json()["employee"] == world.snooper.external_id
    esc = client.get(f"/api/insider/alerts/{alert_id}/escalation").json()
    assert sorted(esc["audit_indexes"]) == sorted(world.bulk_indexes)
    assert client.post(f"/api/insider/alerts/{alert_id}/assign", json={}).status_code == 409
    assert len(_reads(session)) >= 2


def test_api_refuses_agents(api, world):
    assert api(world.agents[1]).get("/api/insider/alerts").status_code == 403


def test_pages_list_show_and_triage(browser, session, world):
    client, csrf = browser(world.analyst)
    listing = client.get("/insider")
    assert listing.status_code == 200 and "Employee " in listing.text
    assert world.snooper.external_id not in listing.text
    alert_id = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "insider.alert.read")).first()
    alert, _ = service.list_alerts(session, limit=1)
    page = client.get(f"/insider/alerts/{alert[0].id}")
    assert page.status_code == 200 and "Evidence" in page.text and "hashes" in page.text
    moved = client.post(f"/insider/alerts/{alert[0].id}/dismiss",
                        data={"reason": "expected_for_role", "note": "", "csrf_token": csrf})
    assert moved.status_code == 303
    session.refresh(alert[0])
    assert alert[0].status.value == "dismissed" and alert_id is not None


def test_pages_refuse_agents(browser, world):
    client, _ = browser(world.agents[1])
    assert client.get("/insider").status_code == 403


def test_the_alerts_list_pages_by_score_and_filters(browser, session, world):
    from ombud.insider.models import InsiderAlert

    [first], _ = service.list_alerts(session, limit=1)
    columns = {c.key: getattr(first, c.key) for c in InsiderAlert.__table__.columns if c.key != "id"}
    for i in range(60):  # more alerts than one page: copies of the scan's alert with other scores
        session.add(InsiderAlert(**{**columns, "score": i / 100, "day": first.day - timedelta(days=i + 1),
                                    "assignee_id": world.analyst.id if i % 3 == 0 else None}))
    session.flush()
    _, total = service.list_alerts(session, limit=1)
    client, _ = browser(world.analyst)
    seen = [int(x) for x in every_row(client, "/insider", "data-alert", base="/insider")]
    everyone, _ = service.list_alerts(session, limit=500)
    assert len(seen) == total > 50 and seen == [a.id for a in everyone]  # each once, highest score first
    mine = client.get("/insider", params={"mine": "true", "size": "100"}).text
    assert len(re.findall(r'data-alert="(\d+)"', mine)) == 20
