"""The broker's decision path: purposes, masking, guards, and exactly one audit leaf per decision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from accessutil import case, customer, employee, events
from sqlalchemy import func, select

from ombud.access import broker, cases, grants, service
from ombud.access import events as access_events
from ombud.access.models import CaseType, Decision, GrantKind
from ombud.audit.models import AuditEntry
from ombud.errors import InvalidInput
from ombud.staff.models import Role


def reads(session):
    return events(session, "access.read")


def read(session, who, account, purpose, **kw):
    kw.setdefault("fields", ["email", "phone"])
    return broker.read(session, who, customer_id=account.external_id, purpose=purpose, **kw)


def test_a_read_for_an_open_assigned_case_shows_the_fields(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    view = read(session, agent, acct, f"case:{c.id}")
    assert view.decision is Decision.allowed
    assert view.fields["email"] == acct.email and view.fields["name"] == "Jane Quinn Doe"
    assert view.masked == () and view.classes == {"identity_basic": "allowed", "contact": "allowed"}
    assert "agent.support_ticket" in view.policy_ids


def test_a_read_without_a_case_is_refused_and_recorded(session, frozen):
    agent, acct = employee(session), customer(session)
    view = read(session, agent, acct, None)
    assert view.refused and "no purpose" in view.reason and view.fields == {}
    [event] = reads(session)
    assert event.decision == "deny" and event.actor_id == agent.external_id
    assert event.customer_id == acct.external_id and event.fields == ("email", "name", "phone")


def test_a_case_for_another_customer_does_not_open_this_one(session, frozen):
    agent, mine, other = employee(session), customer(session), customer(session)
    c = case(session, other, agent)
    view = read(session, agent, mine, f"case:{c.id}")
    assert view.refused and view.reason == f"case {c.id} is about another customer"
    assert mine.email not in repr(view)


def test_a_closed_or_unassigned_case_is_refused(session, frozen):
    agent, stranger, acct = employee(session), employee(session, team="billing"), customer(session)
    c = case(session, acct, agent)
    assert read(session, stranger, acct, f"case:{c.id}").reason == f"case {c.id} is not assigned to you or your team"
    cases.close(session, c, actor=agent)
    assert read(session, agent, acct, f"case:{c.id}").reason == f"case {c.id} is closed"
    assert read(session, agent, acct, "case:999999").reason == "no case 999999"


def test_a_case_assigned_to_a_team_opens_it_to_the_team(session, frozen):
    teammate, acct = employee(session, team="fraud-desk"), customer(session)
    c = case(session, acct, None, team="fraud-desk")
    assert read(session, teammate, acct, f"case:{c.id}").decision is Decision.allowed


def test_denied_classes_are_masked_not_dropped(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    view = read(session, agent, acct, f"case:{c.id}", fields=["email", "payment_methods", "ssn_last4",
                                                             "date_of_birth", "orders"])
    assert view.decision is Decision.masked
    assert view.fields["email"] == acct.email
    [card] = view.fields["payment_methods"]
    assert card["number"] == "•••• 4242" and card["expiry"] == "••/••" and card["cardholder_name"] == "J. Q. D."
    assert view.fields["ssn_last4"] == "***-**-****" and view.fields["date_of_birth"] == "1985"
    [order] = view.fields["orders"]
    assert order["total_cents"] == 4599 and order["ip"] == "198.•.•.•"  # order shown; its IP is login_device
    assert set(view.masked) == {"payment_methods", "ssn_last4", "date_of_birth", "orders"}
    assert view.classes["payment"] == "masked" and view.classes["order_history"] == "allowed"
    assert reads(session)[-1].decision == "partial"


def test_the_ssn_is_decrypted_only_to_show_its_last_four(session, frozen, ctx):
    officer = employee(session, Role.privacy_officer)
    acct = customer(session, cipher=ctx.keys.field_cipher)
    c = case(session, acct, officer, CaseType.victim_request)
    view = read(session, officer, acct, f"case:{c.id}", fields=["ssn_last4", "credit_applications"],
                cipher=ctx.keys.field_cipher)
    assert view.fields["ssn_last4"] == "***-**-6789"
    assert view.fields["credit_applications"][0]["ssn_last4"] == "***-**-6789"
    assert "123-45" not in repr(view)


def test_every_decision_writes_exactly_one_audit_leaf(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    outcomes = []
    for purpose, fields in [(f"case:{c.id}", ["email"]), (f"case:{c.id}", ["payment_methods"]), (None, ["email"]),
                            ("case:424242", ["email"])]:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
        view = read(session, agent, acct, purpose, fields=fields)
        after = session.scalar(select(func.count()).select_from(AuditEntry))
        assert after - before == 1
        outcomes.append(view.decision)
        event = reads(session)[-1]
        assert event.index == view.audit_index and event.purpose == (purpose or "none")
        assert set(event.detail) >= {"classes_allowed", "classes_masked", "policy_ids", "reason"}
    assert outcomes == [Decision.allowed, Decision.masked, Decision.denied, Decision.denied]
    rows = access_events.recent(session, customer_id=acct.external_id)
    assert [r.audit_index for r in reversed(rows)] == [e.index for e in reads(session)]
    assert [r.decision for r in reversed(rows)] == outcomes


def test_the_audit_leaf_is_in_the_reads_transaction(sessions, frozen):
    with sessions() as s:
        agent, acct = employee(s), customer(s)
        c = case(s, acct, agent)
        s.commit()
        before = s.scalar(select(func.count()).select_from(AuditEntry))
        read(s, agent, acct, f"case:{c.id}")
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert access_events.recent(s, customer_id=acct.external_id) == []


def test_audit_leaves_hold_no_personal_values(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    read(session, agent, acct, f"case:{c.id}", classes=[cls.value for cls in broker.DataClass])
    [event] = reads(session)
    text = repr(event)
    for value in (acct.email, "Jane", "4242", "Elm Street", "555"):
        assert value not in text


def test_an_expired_grant_stops_working(session, frozen):
    agent, officer, acct = employee(session), employee(session, Role.privacy_officer), customer(session)
    grant = grants.request_grant(session, requester=agent, kind=GrantKind.just_in_time, data_class="payment",
                                 customer_id=acct.external_id, justification="customer disputes a card charge",
                                 duration_minutes=30)
    assert read(session, agent, acct, f"grant:{grant.id}").reason == f"grant {grant.id} is requested"
    grants.approve(session, grant, approver=officer)
    view = read(session, agent, acct, f"grant:{grant.id}", fields=["payment_methods", "email"])
    assert view.classes == {"identity_basic": "allowed", "payment": "allowed", "contact": "masked"}
    assert view.fields["payment_methods"][0]["expiry"] == "04/2029"
    frozen.advance(timedelta(minutes=29))
    assert read(session, agent, acct, f"grant:{grant.id}", fields=["payment_methods"]).decision is Decision.allowed
    frozen.advance(timedelta(minutes=1))
    refused = read(session, agent, acct, f"grant:{grant.id}", fields=["payment_methods"])
    assert refused.refused and "expired" in refused.reason
    assert [g.id for g in service.sweep(session)] == [grant.id]
    assert read(session, agent, acct, f"grant:{grant.id}", fields=["payment_methods"]).refused


def test_a_grant_for_another_customer_or_employee_does_not_open_this_read(session, frozen):
    agent, other_agent, officer = employee(session), employee(session), employee(session, Role.privacy_officer)
    acct, other = customer(session), customer(session)
    grant = grants.request_grant(session, requester=agent, kind=GrantKind.just_in_time, data_class="contact",
                                 customer_id=other.external_id, justification="verifying a changed phone number")
    grants.approve(session, grant, approver=officer)
    assert read(session, agent, acct, f"grant:{grant.id}").reason == f"grant {grant.id} is for another customer"
    assert read(session, other_agent, other, f"grant:{grant.id}").reason == f"no grant {grant.id} of yours"


def test_the_volume_guard_refuses_the_read_whole(session, frozen):
    agent, acct = employee(session), customer(session)
    service.set_profile(session, agent, actor=None, daily_limit=2)
    c = case(session, acct, agent)
    assert read(session, agent, acct, f"case:{c.id}").decision is Decision.allowed
    assert read(session, agent, acct, f"case:{c.id}").decision is Decision.allowed
    third = read(session, agent, acct, f"case:{c.id}")
    assert third.refused and third.policy_ids == ("guard.daily_volume",) and "daily limit" in third.reason
    frozen.advance(timedelta(days=1))
    assert read(session, agent, acct, f"case:{c.id}").decision is Decision.allowed


def test_shift_hours_come_from_the_profile_time_zone(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    # 10:00 UTC is 04:00 in Chicago (winter): outside a 08-17 shift there.
    service.set_profile(session, agent, actor=None, shift_start=8, shift_end=17, timezone="America/Chicago")
    view = read(session, agent, acct, f"case:{c.id}")
    assert view.refused and view.policy_ids == ("guard.shift_hours",)
    frozen.advance(timedelta(hours=5))
    assert read(session, agent, acct, f"case:{c.id}").decision is Decision.allowed


def test_region_guard_uses_the_customers_country(session, frozen):
    agent, acct = employee(session, region="us-east"), customer(session, country="GB")
    c = case(session, acct, agent)
    view = read(session, agent, acct, f"case:{c.id}")
    assert view.refused and view.policy_ids == ("guard.region",)
    uk_agent = employee(session, region="uk")
    c2 = case(session, acct, uk_agent)
    assert read(session, uk_agent, acct, f"case:{c2.id}").decision is Decision.allowed


def test_malformed_requests_raise_before_any_decision(session, frozen):
    agent, acct = employee(session), customer(session)
    for kwargs in ({"fields": ["shoe_size"]}, {"classes": ["biometrics"]}, {"fields": None, "classes": None}):
        with pytest.raises(InvalidInput):
            broker.read(session, agent, customer_id=acct.external_id, purpose="case:1", **kwargs)
    with pytest.raises(InvalidInput, match="purpose"):
        broker.read(session, agent, customer_id=acct.external_id, purpose="because", fields=["email"])
    with pytest.raises(InvalidInput, match="customer id"):
        broker.read(session, agent, customer_id="jane@example.com", purpose="case:1", fields=["email"])
    assert reads(session) == []


def test_purpose_forms():
    assert str(broker.parse_purpose("case:12")) == "case:12"
    assert str(broker.parse_purpose("Break-Glass #3")) == "break_glass:3"
    assert str(broker.parse_purpose(None)) == "none"
