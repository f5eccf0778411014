"""One home for access events: a broker decision is its audit leaf, and every reader of decisions reads the leaves.

The broker's answers, the decisions page and API, customer transparency and the review usage all come from the
``access_read_event`` view over ``audit_event``; a read writes its leaf (and the day's count) and nothing else.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from accessutil import T0, case, customer, employee, events
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from ombud import migrate
from ombud.access import broker, reviews, transparency
from ombud.access import events as access_events
from ombud.access.classes import DataClass
from ombud.access.models import Decision
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.db import make_engine
from ombud.models import metadata
from ombud.staff.models import Role


def _three_reads(session):
    agent, acct = employee(session, team="support-west", region="us"), customer(session)
    c = case(session, acct, agent)
    views = [
        broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}", fields=["email", "phone"]),
        broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}",
                    fields=["payment_methods"]),
        broker.read(session, agent, customer_id=acct.external_id, purpose=None, fields=["email"]),
    ]
    assert [v.decision for v in views] == [Decision.allowed, Decision.masked, Decision.denied]
    return agent, acct, c, views


def test_the_broker_decisions_page_api_and_transparency_read_the_same_events(session, frozen, api, browser):
    agent, acct, _case, views = _three_reads(session)
    leaves = events(session, "access.read", customer_id=acct.external_id)
    assert [e.index for e in leaves] == [v.audit_index for v in views]

    projected = access_events.recent(session, customer_id=acct.external_id)
    assert [e.audit_index for e in reversed(projected)] == [v.audit_index for v in views]
    for event, view, leaf in zip(reversed(projected), views, leaves, strict=True):
        assert event.decision is view.decision and event.purpose == view.purpose == leaf.purpose
        assert event.employee == agent.external_id == leaf.actor_id and event.employee_id == agent.id
        assert [c.value for c in event.classes_allowed] == sorted(leaf.detail["classes_allowed"], key=list(
            DataClass).index)
        assert event.fields == tuple(leaf.fields) and event.reason == leaf.detail["reason"]
        assert (event.team, event.region) == ("support-west", "us")

    officer = employee(session, Role.privacy_officer)
    listed = api(officer).get("/api/access/decisions", params={"customer_id": acct.external_id}).json()
    assert [d["audit_index"] for d in listed] == [v.audit_index for v in reversed(views)]
    assert [d["decision"] for d in listed] == ["denied", "masked", "allowed"]
    assert listed[1]["classes_masked"] == ["payment"] and listed[0]["reason"] == views[2].reason

    client, _csrf = browser(officer)
    page = client.get("/access/decisions", params={"customer_id": acct.external_id}).text
    shown = re.findall(r'data-decision="(\w+)"', page)
    assert shown == ["denied", "masked", "allowed"]
    for view in views:
        assert f">{view.audit_index}<" in page

    # Transparency: the reads that showed something unmasked (the refusal showed nothing).
    entries = transparency.accesses(session, acct.external_id)
    assert [tuple(e.data_classes) for e in entries] == [
        tuple(e.classes_allowed) for e in projected if e.decision is not Decision.denied and e.classes_allowed]
    assert len(entries) == 2 and all(e.team == "support-west" for e in entries)

    usage = reviews.usage_by_employee(session, T0 - timedelta(days=1))[agent.id]
    assert usage[DataClass.contact].reads == 1 and usage[DataClass.identity_basic].reads == 2
    assert usage[DataClass.payment].reads == 0


def _row_counts(session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in metadata.sorted_tables}


def test_a_read_writes_its_leaf_and_the_days_count_and_nothing_else(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}", fields=["email"])
    before = _row_counts(session)
    broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}", fields=["email"])
    broker.read(session, agent, customer_id=acct.external_id, purpose="case:987654", fields=["email"])
    after = _row_counts(session)
    changed = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert changed == {"audit_event": 2}  # the day's count is one row per employee and day, updated in place
    assert "access_decision" not in inspect(session.connection()).get_table_names()


def test_a_readers_later_team_change_does_not_rewrite_what_customers_were_shown(session, frozen):
    agent, acct = employee(session, team="support-east", region="us"), customer(session)
    c = case(session, acct, agent)
    broker.read(session, agent, customer_id=acct.external_id, purpose=f"case:{c.id}", fields=["email"])
    agent.team, agent.region = "fraud-ops", "eu"
    session.flush()
    [entry] = transparency.accesses(session, acct.external_id)
    assert (entry.team, entry.region) == ("support-east", "us")


# --- the migration: decision rows carried over, or the upgrade stops --------------------------------------------

_EMPLOYEE = (
    "INSERT INTO staff_employee (external_id, name, email, team, role, region, created_at) "
    "VALUES (:x, 'Old Reader', :mail, 'old-team', 'agent', 'us', '2026-01-01 00:00:00')"
)
_DECISION = (
    "INSERT INTO access_decision (at, employee_id, team, region, customer_id, purpose_kind, purpose_id, case_type, "
    "decision, allowed_mask, masked_mask, fields, policy_ids, reason, audit_index) VALUES "
    "(:at, :emp, 'old-team', 'us', :cust, 'case', 7, 'support_ticket', :decision, 3, 0, :fields, '[]', NULL, :idx)"
)


def _old_read(conn, employee_external_id: str, customer_id: str, decision: str, fields: list[str]) -> int:
    """A read as the broker recorded it before 0009: a leaf without team/region, and a decision row beside it."""
    session = Session(bind=conn)
    index = append_event(session, AuditEvent(
        action="access.read", actor_type="employee", actor_id=employee_external_id, customer_id=customer_id,
        subject_type="case", subject_id="7", fields=tuple(fields), purpose="case:7",
        decision={"allowed": "allow", "masked": "partial", "denied": "deny"}[decision],
        detail={"classes_allowed": ["identity_basic", "contact"], "classes_masked": [], "policy_ids": [],
                "case_type": "support_ticket", "reason": None}))
    emp = conn.execute(text("SELECT id FROM staff_employee WHERE external_id = :x"), {"x": employee_external_id})
    conn.execute(text(_DECISION), {"at": "2026-02-01 10:00:00", "emp": emp.scalar(), "cust": customer_id,
                                   "decision": decision, "fields": json.dumps(fields), "idx": index})
    return index


@pytest.fixture
def scratch_store(database_url, tmp_path):
    """An empty store of the run's kind: a SQLite file, or a scratch schema in the run's PostgreSQL database."""
    if not database_url.startswith("postgresql"):
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        with engine.connect() as conn:
            yield conn
        engine.dispose()
        return
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    engine = make_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        conn.execute(text(f"SET search_path TO {schema}"))
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.commit()
    engine.dispose()


def test_migration_keeps_old_decisions_readable_from_their_leaves(scratch_store):
    conn = scratch_store
    migrate.upgrade(connection=conn, revision="0008")
    conn.execute(text(_EMPLOYEE), {"x": "E-OLD-1", "mail": "old1@example.com"})
    first = _old_read(conn, "E-OLD-1", "C-OLD-1", "allowed", ["email", "phone"])
    second = _old_read(conn, "E-OLD-1", "C-OLD-1", "masked", ["email"])
    conn.commit()
    migrate.upgrade(connection=conn)
    conn.commit()
    assert "access_decision" not in inspect(conn).get_table_names()
    conn.execute(text("UPDATE staff_employee SET team = 'moved-on' WHERE external_id = 'E-OLD-1'"))
    session = Session(bind=conn)
    got = access_events.recent(session, customer_id="C-OLD-1")
    assert [e.audit_index for e in got] == [second, first]
    assert all(e.team == "old-team" and e.region == "us" and e.employee == "E-OLD-1" for e in got)
    assert [e.decision for e in got] == [Decision.masked, Decision.allowed]
    assert got[1].fields == ("email", "phone") and got[1].purpose == "case:7"
    session.close()


def test_migration_stops_when_a_decision_row_disagrees_with_its_leaf(scratch_store):
    conn = scratch_store
    migrate.upgrade(connection=conn, revision="0008")
    conn.execute(text(_EMPLOYEE), {"x": "E-OLD-2", "mail": "old2@example.com"})
    index = _old_read(conn, "E-OLD-2", "C-OLD-2", "allowed", ["email"])
    conn.execute(text("UPDATE access_decision SET decision = 'denied' WHERE audit_index = :i"), {"i": index})
    conn.commit()
    with pytest.raises(RuntimeError, match="do not match their audit leaf"):
        migrate.upgrade(connection=conn)
    conn.rollback()


def test_a_read_rolled_back_with_its_savepoint_takes_its_count_and_its_leaf_back(session, frozen):
    agent = employee(session)
    acct = customer(session)
    purpose = f"case:{case(session, acct, agent).id}"
    first = broker.read(session, agent, customer_id=acct.external_id, fields=["email"], purpose=purpose)
    leaves = session.scalar(select(func.count()).select_from(access_events.VIEW))
    savepoint = session.begin_nested()  # the store and the log's connection were looked up before it began
    broker.read(session, agent, customer_id=acct.external_id, fields=["email"], purpose=purpose)
    savepoint.rollback()
    assert session.scalar(select(func.count()).select_from(access_events.VIEW)) == leaves
    again = broker.read(session, agent, customer_id=acct.external_id, fields=["email"], purpose=purpose)
    assert again.audit_index == first.audit_index + 1
    detail = json.loads(session.execute(text("SELECT detail FROM audit_event WHERE idx = :i"),
                                        {"i": again.audit_index}).scalar())
    assert detail["reads_today"] == 2  # the rolled-back read is not counted
