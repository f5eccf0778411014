"""The console and command line for daily use: 80-column tables with names, admins editing staff, `ombud config`."""

from __future__ import annotations

import pytest
from accessutil import case, customer, employee
from typer.testing import CliRunner

from ombud.access import breakglass, broker, grants
from ombud.access.models import GrantKind
from ombud.audit.service import list_events
from ombud.cli import common
from ombud.cli.main import app
from ombud.staff.models import Role
from ombud.staff.passwords import verify_password


@pytest.fixture
def narrow_cli(cli_at_width):
    """The CLI on an 80-column terminal."""
    return cli_at_width(80)


def test_cli_tables_fit_80_columns_and_name_people(session, frozen, narrow_cli):
    officer = employee(session, Role.privacy_officer, name="Priya Officer")
    agent = employee(session, name="Avery Longname-Agent", team="support-east-overnight-escalations")
    acct = customer(session)
    c = case(session, acct, agent)
    for purpose in (f"case:{c.id}", None):
        broker.read(session, agent, customer_id=acct.external_id, purpose=purpose,
                    fields=["email", "payment_methods", "addresses"])
    grant = grants.request_grant(session, requester=agent, kind=GrantKind.standing, data_class="government_id",
                                 justification="fraud desk checks identity documents daily")
    grants.approve(session, grant, approver=officer)
    breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, classes=["contact"],
                                justification="customer reports takeover in progress on the phone")
    session.flush()
    for args in (("access", "decisions", "--customer", acct.external_id), ("cases", "list"),
                 ("access", "break-glass", "list"), ("access", "grants", "list"), ("access", "reviews", "report"),
                 ("access", "transparency", acct.external_id), ("access", "policies"), ("staff", "list")):
        result = narrow_cli(*args)
        assert result.exit_code == 0, result.output
        too_wide = [line for line in result.output.splitlines() if len(line) > 80]
        assert not too_wide, (args, too_wide)
        assert "…" not in result.output, (args, result.output)  # wrapped, never cut
    decisions = narrow_cli("access", "decisions", "--customer", acct.external_id).output
    assert "Avery" in decisions and agent.external_id not in decisions
    assert "Avery" in narrow_cli("access", "break-glass", "list").output


def test_admins_edit_role_team_and_manager_and_reset_passwords(session, frozen, browser):
    admin = employee(session, Role.admin, name="Ada Admin")
    boss = employee(session, name="Bo Boss")
    agent = employee(session, name="Al Agent")
    client, csrf = browser(admin)
    page = client.get("/staff").text
    assert f'data-edit="{agent.external_id}"' in page
    saved = client.post(f"/staff/{agent.external_id}/edit", data={
        "csrf_token": csrf, "role": "privacy_officer", "team": "privacy", "manager": boss.external_id})
    assert saved.status_code == 303
    session.refresh(agent)
    assert (agent.role, agent.team, agent.manager_id) == (Role.privacy_officer, "privacy", boss.id)
    [event] = [e for e in list_events(session, action_prefix="staff.employee.update")
               if e.subject_id == agent.external_id]
    assert event.detail["role_to"] == "privacy_officer" and event.detail["manager_to"] == boss.external_id
    # Nobody manages themselves, even through others.
    loop = client.post(f"/staff/{boss.external_id}/edit", data={
        "csrf_token": csrf, "role": "agent", "team": boss.team, "manager": agent.external_id})
    assert loop.status_code == 422 and "managed by this employee" in loop.text
    reset = client.post(f"/staff/{agent.external_id}/password", data={"csrf_token": csrf})
    assert reset.status_code == 200 and "data-new-password" in reset.text
    new = reset.text.split("data-new-password>", 1)[1].split("<", 1)[0]
    session.refresh(agent)
    assert len(new) >= 16 and verify_password(agent.password_hash, new)  # argon2: one check is enough
    other, other_csrf = browser(agent)
    assert other.post(f"/staff/{boss.external_id}/edit", data={
        "csrf_token": other_csrf, "role": "admin", "team": "x"}).status_code == 403


def test_staff_update_and_reset_password_from_the_cli(session, frozen, narrow_cli):
    boss, agent = employee(session), employee(session)
    session.flush()
    done = narrow_cli("staff", "update", agent.email, "--team", "fraud-desk", "--manager", boss.external_id)
    assert done.exit_code == 0 and "fraud-desk" in done.output
    session.refresh(agent)
    assert agent.team == "fraud-desk" and agent.manager_id == boss.id
    reset = narrow_cli("staff", "reset-password", agent.external_id)
    assert reset.exit_code == 0 and "new password" in reset.output


def test_config_shows_values_in_effect_and_never_a_secret(monkeypatch, tmp_path):
    secret = "ab" * 32
    monkeypatch.setenv("OMBUD_SESSION_SECRET", secret)
    monkeypatch.setenv("OMBUD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OMBUD_PORT", "8123")
    monkeypatch.setenv("OMBUD_DATABASE_URL", "postgresql+psycopg://ombud:hunter2hunter2@db.example.com/ombud")
    monkeypatch.setattr(common.console, "_width", 80)
    out = CliRunner().invoke(app, ["config"], catch_exceptions=False).output
    assert secret not in out and "hunter2hunter2" not in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "8123" in lines["PORT"] and "environment" in lines["PORT"]
    assert "set" in lines["SESSION_SECRET"] and "environment" in lines["SESSION_SECRET"]
    assert "not set" in lines["FIELD_ENCRYPTION_KEY"] and "default" in lines["HOST"]
    assert "ombud:***@" in out.replace("\n", "") and max(len(line) for line in out.splitlines()) <= 80
