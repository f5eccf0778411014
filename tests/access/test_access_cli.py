"""`ombud access ...` and `ombud cases ...` against the test's store."""

from __future__ import annotations

import json

import pytest
from accessutil import close_open_rounds, customer, employee
from sqlalchemy import select

from ombud.access.models import BreakGlass, Case, Grant, GrantStatus
from ombud.staff import service as staff_service
from ombud.staff.models import Role


def test_cases_open_list_assign_close(session, frozen, cli):
    agent, other = employee(session), employee(session)
    acct = customer(session)
    opened = cli("cases", "open", acct.external_id, "--type", "support_ticket", "--title", "Parcel missing",
                 "--assignee", agent.external_id)
    assert opened.exit_code == 0, opened.output
    case_id = session.scalar(select(Case.id).where(Case.customer_id == acct.external_id))
    assert f"case:{case_id}" in opened.output
    listed = cli("cases", "list", "--customer", acct.external_id)
    assert "Parcel missing" in listed.output
    assert cli("cases", "assign", case_id, "--assignee", other.email).exit_code == 0
    assert cli("cases", "close", case_id, "--reason", "found").exit_code == 0
    again = cli("cases", "close", case_id)
    assert again.exit_code == 2 and "cannot go from closed" in again.output


def test_read_prints_the_view_or_exits_3_on_refusal(session, frozen, cli):
    agent, acct = employee(session), customer(session)
    cli("cases", "open", acct.external_id, "--type", "support_ticket", "--title", "Parcel missing",
        "--assignee", agent.external_id)
    case_id = session.scalar(select(Case.id).where(Case.customer_id == acct.external_id))
    token = staff_service.create_api_token(session, agent, name="shell").token
    shown = cli("access", "read", acct.external_id, "--as", agent.email, "--purpose", f"case:{case_id}",
                "--field", "email", "--class", "payment", "--json", "--token", token)
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    assert body["fields"]["email"] == acct.email and body["masked"] == ["payment_methods"]
    refused = cli("access", "read", acct.external_id, "--field", "email", "--token", token)
    assert refused.exit_code == 3 and "no purpose" in refused.output
    decisions = cli("access", "decisions", "--customer", acct.external_id)
    assert "denied" in decisions.output and "masked" in decisions.output


def test_grants_and_break_glass_commands(session, frozen, cli):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    asked = cli("access", "grants", "request", "--as", agent.external_id, "--class", "payment", "--customer",
                acct.external_id, "--justification", "card dispute needs the expiry date", "--minutes", 30)
    assert asked.exit_code == 0, asked.output
    grant = session.scalar(select(Grant).where(Grant.employee_id == agent.id))
    own = cli("access", "grants", "approve", grant.id, "--as", agent.external_id)
    assert own.exit_code == 2 and "own request" in own.output
    assert cli("access", "grants", "approve", grant.id, "--as", officer.email).exit_code == 0
    session.refresh(grant)
    assert grant.status is GrantStatus.approved
    opened = cli("access", "break-glass", "open", "--as", agent.email, "--customer", acct.external_id,
                 "--justification", "customer reports takeover in progress on the phone", "--class", "contact")
    assert opened.exit_code == 0 and "Security has been notified" in opened.output
    record = session.scalar(select(BreakGlass).where(BreakGlass.employee_id == agent.id))
    assert str(record.id) in cli("access", "break-glass", "list", "--pending").output


def test_reviews_transparency_policies_profile_and_sweep(session, frozen, cli):
    officer, agent = employee(session, Role.privacy_officer), employee(session)
    report = cli("access", "reviews", "report", "--days", 30)
    assert report.exit_code == 0 and "Reach per class" in report.output
    close_open_rounds(session)
    opened = cli("access", "reviews", "open", "--name", "Spring round", "--as", officer.email)
    assert opened.exit_code == 0, opened.output
    acct = customer(session)
    assert "Accesses to" in cli("access", "transparency", acct.external_id).output
    policies = cli("access", "policies")
    assert "guard.daily_volume" in policies.output and "policy set" in policies.output
    profile = cli("access", "profile", agent.email, "--daily-limit", 50, "--shift", "8-17", "--timezone", "Europe/Oslo")
    assert profile.exit_code == 0 and "50 reads/day, shift 8-17 Europe/Oslo" in profile.output
    bad = cli("access", "profile", agent.email, "--shift", "late")
    assert bad.exit_code == 2
    assert "0 grant(s) expired" in cli("access", "sweep").output


@pytest.mark.parametrize("typed", ["555-010-0001", "jane.doe@example.com", "Jane Doe", "078-05-1120"])
def test_a_read_of_a_value_that_is_no_customer_id_is_a_probe_recorded_by_a_keyed_hash(session, frozen, cli, ctx,
                                                                                     typed):
    from accessutil import events

    from ombud.audit.events import pinned

    agent = employee(session)
    token = staff_service.create_api_token(session, agent, name="shell").token
    refused = cli("access", "read", typed, "--field", "email", "--purpose", "case:1", "--token", token)
    assert refused.exit_code == 2 and "customer_id" in refused.output
    assert typed not in refused.output and typed.replace("-", "") not in refused.output
    [probe] = events(session, "access.probe")
    assert probe.customer_id is None and probe.decision == "deny"
    assert probe.detail["probe"] == pinned(ctx.keys.identifier_hash_key, "customer_id", typed)
    assert probe.detail["channel"] == "cli" and probe.detail["operator"]
    stored = json.dumps([probe.actor_id, probe.subject_id, probe.purpose, probe.detail])
    assert typed not in stored and typed.replace("-", "") not in stored
    assert events(session, "access.read") == []
