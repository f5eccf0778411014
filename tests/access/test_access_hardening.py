"""Purposes staff cannot manufacture: case origins, break-glass that names its classes and is judged honestly,
no Read button that can only fail, and command-line reads that need the employee's token and name their operator."""

from __future__ import annotations

import pytest
from accessutil import T0, customer, employee, events
from sqlalchemy import text
from test_access_events import scratch_store  # noqa: F401  (an empty store of the run's kind)

from ombud import migrate
from ombud.access import breakglass, broker, cases, transparency
from ombud.access.models import BreakGlassReview, CaseOrigin, CaseType, Decision
from ombud.errors import InvalidInput, PolicyDenied
from ombud.retail.models import ContactInitiator, SupportContact
from ombud.staff import service as staff_service
from ombud.staff.models import Role


def _read_contact(session, who, acct, case):
    return broker.read(session, who, customer_id=acct.external_id, purpose=f"case:{case.id}",
                       fields=["name", "email", "phone"])


def test_a_case_an_agent_opens_for_themselves_is_self_opened_and_masks_sensitive_data(session, frozen):
    agent, acct = employee(session), customer(session)
    own = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                          title="Looking into it", actor=agent)
    assert own.origin is CaseOrigin.self_opened
    view = _read_contact(session, agent, acct, own)
    assert view.decision is Decision.masked and view.fields["email"] != acct.email
    assert "email" in view.masked and "name" not in view.masked  # non-sensitive classes still shown
    assert "origin.self_opened" in view.policy_ids
    [leaf] = events(session, "access.read")
    assert leaf.detail["case_origin"] == "self_opened"
    opened = events(session, "access.case.open")[-1]
    assert opened.detail["origin"] == "self_opened" and opened.detail["self_opened"] is True


def test_staff_cannot_declare_a_customer_contact_but_the_ticket_feed_can(session, frozen):
    agent, acct = employee(session), customer(session)
    with pytest.raises(PolicyDenied, match="self-opened"):
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="Call",
                        actor=agent, origin=CaseOrigin.customer_contact)
    fed = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="Call",
                          actor=None, assignee=agent, origin=CaseOrigin.customer_contact, origin_ref="ZD-88812")
    assert fed.origin is CaseOrigin.customer_contact and fed.origin_ref == "ZD-88812"
    view = _read_contact(session, agent, acct, fed)
    assert view.decision is Decision.allowed and view.fields["email"] == acct.email


def test_an_agent_may_cite_a_contact_the_customer_started_in_the_ticket_feed(session, frozen):
    agent, acct = employee(session), customer(session)
    for ref, who in (("T-CUST-1", ContactInitiator.customer), ("T-STAFF-1", ContactInitiator.staff)):
        session.add(SupportContact(external_id=f"SC-{ref}", ticket_ref=ref, account_id=acct.id, employee_id=agent.id,
                                   team=agent.team, opened_at=T0,
                                   initiated_by=who, channel="phone", topic="parcel"))
    session.flush()
    cited = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="Call",
                            actor=agent, origin=CaseOrigin.customer_contact, origin_ref="T-CUST-1")
    assert cited.origin is CaseOrigin.customer_contact and cited.origin_ref == "T-CUST-1"
    assert _read_contact(session, agent, acct, cited).fields["email"] == acct.email
    with pytest.raises(PolicyDenied, match="no contact"):  # a contact staff started is not the customer's
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="Call",
                        actor=agent, origin=CaseOrigin.customer_contact, origin_ref="T-STAFF-1")
    with pytest.raises(PolicyDenied, match="no contact"):  # nor another customer's ticket
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id=customer(session).external_id,
                        title="Call", actor=agent, origin=CaseOrigin.customer_contact, origin_ref="T-CUST-1")


def test_a_managers_assignment_is_what_stands_behind_a_self_opened_case(session, frozen):
    manager = employee(session)
    agent = employee(session, manager=manager)
    acct = customer(session)
    own = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                          title="Looking into it", actor=agent)
    with pytest.raises(PolicyDenied):  # an agent cannot launder their own case by handing it on to themselves
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="Again",
                        actor=agent, assignee=agent, origin=CaseOrigin.manager_assigned)
    cases.assign(session, own, actor=manager, assignee=agent, team=None)
    assert own.origin is CaseOrigin.manager_assigned
    assert _read_contact(session, agent, acct, own).fields["email"] == acct.email
    given = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                            title="Please call back", actor=manager, assignee=agent)
    assert given.origin is CaseOrigin.manager_assigned


def test_a_manager_sees_the_cases_their_reports_opened_for_themselves(session, frozen, api, browser):
    manager = employee(session)
    agent = employee(session, manager=manager, team="elsewhere")
    stranger = employee(session, team="far-away")
    acct = customer(session)
    own = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                          title="Looking into it", actor=agent)
    listed = api(manager).get("/api/access/cases", params={"reports": "true", "origin": "self_opened"}).json()
    assert [c["id"] for c in listed] == [own.id] and listed[0]["origin"] == "self_opened"
    assert api(manager).get(f"/api/access/cases/{own.id}").status_code == 200
    assert api(stranger).get(f"/api/access/cases/{own.id}").status_code == 404
    assert api(stranger).get("/api/access/cases", params={"reports": "true"}).json() == []
    client, _csrf = browser(manager)
    page = client.get("/access/cases").text
    assert f'data-self-opened="{own.id}"' in page


def test_break_glass_must_name_its_classes(session, frozen, api):
    agent, acct = employee(session), customer(session)
    with pytest.raises(InvalidInput) as refused:
        breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id,
                                    justification="customer reports takeover in progress on the phone")
    assert refused.value.field == "classes"
    answer = api(agent).post("/api/access/break-glass", json={
        "customer_id": acct.external_id, "justification": "customer reports takeover in progress on the phone"})
    assert answer.status_code == 422 and "classes" in answer.text


def test_the_review_form_has_no_default_verdict(session, frozen, browser):
    agent, analyst, acct = employee(session), employee(session, Role.security_analyst), customer(session)
    record = breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, classes=["contact"],
                                         justification="customer reports takeover in progress on the phone")
    security, csrf = browser(analyst)
    page = security.get("/access/break-glass").text
    assert '<option value="" selected disabled>' in page and 'value="justified" selected' not in page
    security.post(f"/access/break-glass/{record.id}/review", data={"csrf_token": csrf, "note": "looked"})
    session.refresh(record)
    assert record.review is BreakGlassReview.pending  # no verdict given, none recorded


@pytest.mark.parametrize(("verdict", "says", "never"), [
    (None, "awaiting review", "found justified"),
    (BreakGlassReview.justified, "found justified", "NOT"),
    (BreakGlassReview.unjustified, "NOT justified", "found justified"),
])
def test_transparency_says_what_securitys_review_found(session, frozen, verdict, says, never):
    agent, analyst, acct = employee(session), employee(session, Role.security_analyst), customer(session)
    record = breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, classes=["contact"],
                                         justification="customer reports takeover in progress on the phone")
    broker.read(session, agent, customer_id=acct.external_id, purpose=f"break_glass:{record.id}", fields=["email"])
    if verdict is not None:
        breakglass.review(session, record, reviewer=analyst, outcome=verdict)
    [entry] = transparency.accesses(session, acct.external_id)
    assert says in entry.purpose_label and never not in entry.purpose_label
    if verdict is BreakGlassReview.unjustified:
        assert "reviewed by our security team" not in entry.purpose_label.replace("reviewed and found NOT", "")


def test_no_read_button_where_a_read_can_only_fail(session, frozen, browser):
    agent, analyst, acct = employee(session), employee(session, Role.security_analyst), customer(session)
    case = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                           title="Parcel missing", actor=None, assignee=agent)
    breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, classes=["contact"],
                                justification="customer reports takeover in progress on the phone")
    security, _csrf = browser(analyst)
    page = security.get(f"/access/cases/{case.id}").text
    assert "Read through the broker" not in page and "data-no-read" in page
    glass = security.get("/access/break-glass").text
    assert 'name="purpose" value="break_glass:' not in glass
    own, _ = browser(agent)
    assert "Read through the broker" in own.get(f"/access/cases/{case.id}").text
    assert 'name="purpose" value="break_glass:' in own.get("/access/break-glass").text


def test_a_command_line_read_needs_the_employees_token_and_names_its_operator(session, frozen, cli):
    agent, other, acct = employee(session), employee(session), customer(session)
    case = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                           title="Parcel missing", actor=None, assignee=agent)
    args = ("access", "read", acct.external_id, "--purpose", f"case:{case.id}", "--field", "email")
    without = cli(*args, "--as", agent.email)
    assert without.exit_code == 2 and "token" in without.output
    others = staff_service.create_api_token(session, other, name="shell").token
    posing = cli(*args, "--as", agent.email, "--token", others)
    assert posing.exit_code == 2 and "another employee" in posing.output
    assert events(session, "access.read") == []  # neither attempt read anything
    token = staff_service.create_api_token(session, agent, name="shell").token
    done = cli(*args, "--token", token)
    assert done.exit_code == 0, done.output
    [leaf] = events(session, "access.read")
    assert leaf.actor_id == agent.external_id and leaf.detail["channel"] == "cli"
    user, _, host = leaf.detail["operator"].partition(":")
    assert user and host


_OLD_CASE = (
    "INSERT INTO access_case (case_type, customer_id, title, status, assignee_id, team, opened_by_id, opened_at, "
    "updated_at) VALUES (:type, 'C1', 'old', 'open', :assignee, NULL, :opener, '2026-01-01 00:00:00', "
    "'2026-01-01 00:00:00')"
)


def test_migration_gives_existing_cases_the_origin_their_rows_show(scratch_store):  # noqa: F811
    conn = scratch_store
    migrate.upgrade(connection=conn, revision="0004")
    for n in (1, 2):
        conn.execute(text("INSERT INTO staff_employee (external_id, name, email, team, role, region, created_at) "
                          "VALUES (:x, 'Old', :m, 't', 'agent', 'us', '2026-01-01 00:00:00')"),
                     {"x": f"E-MIG-{n}", "m": f"mig{n}@example.com"})
    one, two = conn.execute(text("SELECT id FROM staff_employee ORDER BY id")).scalars().all()
    for case_type, assignee, opener in [("victim_request", one, None), ("support_ticket", one, None),
                                        ("support_ticket", one, one), ("support_ticket", one, two)]:
        conn.execute(text(_OLD_CASE), {"type": case_type, "assignee": assignee, "opener": opener})
    conn.commit()
    migrate.upgrade(connection=conn, revision="0005")
    conn.commit()
    origins = conn.execute(text("SELECT origin FROM access_case ORDER BY id")).scalars().all()
    assert origins == ["victim_request", "customer_contact", "self_opened", "manager_assigned"]
