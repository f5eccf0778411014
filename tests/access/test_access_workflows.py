"""Cases, grants, break-glass and recertification rounds: who may do what, state machines, audit events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from accessutil import case, close_open_rounds, customer, employee, events

from ombud.access import breakglass, broker, cases, grants, reviews, service, transparency
from ombud.access.models import (
    BreakGlassReview,
    CaseStatus,
    CaseType,
    Decision,
    GrantKind,
    GrantStatus,
    ReviewDecision,
)
from ombud.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.staff.models import Role


def actions(session, prefix="access"):
    return [e.action for e in events(session, prefix)]


# --- cases ----------------------------------------------------------------------------------------------------


def test_case_state_machine_and_its_audit_trail(session, frozen):
    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    assert c.status is CaseStatus.open
    with pytest.raises(InvalidTransition):
        cases.reopen(session, c, actor=agent)
    cases.close(session, c, actor=agent, reason="resolved on the phone")
    assert (c.status, c.closed_by_id, c.closed_at) == (CaseStatus.closed, agent.id, frozen.current)
    with pytest.raises(InvalidTransition):
        cases.close(session, c, actor=agent)
    with pytest.raises(InvalidTransition):
        cases.assign(session, c, actor=None, assignee=agent, team=None)
    cases.reopen(session, c, actor=agent)
    assert c.status is CaseStatus.open and c.closed_at is None
    assert actions(session, "access.case") == ["access.case.open", "access.case.close", "access.case.reopen"]
    close_event = events(session, "access.case.close")[0]
    assert "resolved" not in repr(close_event), "free text stays out of the log"


def test_who_may_open_assign_and_close_cases(session, frozen):
    agent, teammate = employee(session, team="desk"), employee(session, team="desk")
    stranger, officer = employee(session, team="other"), employee(session, Role.privacy_officer)
    acct = customer(session)
    with pytest.raises(PolicyDenied):
        cases.open_case(session, case_type=CaseType.incident, customer_id=acct.external_id, title="Nope",
                        actor=agent)
    with pytest.raises(PolicyDenied):
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="Nope",
                        actor=agent, assignee=stranger)
    ticket = cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id,
                             title="Delivery question", actor=agent)
    assert ticket.assignee_id == agent.id
    assert events(session, "access.case.open")[-1].detail["self_opened"] is True
    cases.assign(session, ticket, actor=agent, assignee=teammate, team=None)
    with pytest.raises(PolicyDenied):
        cases.assign(session, ticket, actor=teammate, assignee=stranger, team=None)
    with pytest.raises(PolicyDenied):
        cases.close(session, ticket, actor=stranger)
    cases.assign(session, ticket, actor=officer, assignee=stranger, team=None)
    cases.close(session, ticket, actor=stranger)
    with pytest.raises(NotFound):
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id="C-NOPE", title="x" * 5, actor=None,
                        assignee=agent)
    with pytest.raises(InvalidInput):
        cases.open_case(session, case_type=CaseType.support_ticket, customer_id=acct.external_id, title="x",
                        actor=None, assignee=agent)


# --- grants ---------------------------------------------------------------------------------------------------


def jit(session, who, acct, cls="payment", minutes=60):
    return grants.request_grant(session, requester=who, kind=GrantKind.just_in_time, data_class=cls,
                                customer_id=acct.external_id, justification="customer disputes a card charge",
                                duration_minutes=minutes)


def test_self_approval_is_refused(session, frozen):
    officer, acct = employee(session, Role.privacy_officer), customer(session)
    grant = jit(session, officer, acct)
    with pytest.raises(PolicyDenied, match="own request"):
        grants.approve(session, grant, approver=officer)
    with pytest.raises(PolicyDenied, match="own request"):
        grants.deny(session, grant, approver=officer)
    assert grant.status is GrantStatus.requested


def test_approvers_are_privacy_officers_or_the_requesters_manager(session, frozen):
    manager, officer, peer = employee(session), employee(session, Role.privacy_officer), employee(session)
    analyst = employee(session, Role.security_analyst)
    agent, acct = employee(session, manager=manager), customer(session)
    first = jit(session, agent, acct)
    for outsider in (peer, analyst):
        with pytest.raises(PolicyDenied):
            grants.approve(session, first, approver=outsider)
    grants.approve(session, first, approver=manager)
    assert first.expires_at == frozen.current + timedelta(minutes=60)
    second = jit(session, agent, acct, cls="government_id")
    grants.deny(session, second, approver=officer, note="use the case")
    standing = grants.request_grant(session, requester=agent, kind=GrantKind.standing, data_class="payment",
                                    justification="works the chargeback queue every day")
    with pytest.raises(PolicyDenied, match="privacy officer"):
        grants.approve(session, standing, approver=manager)
    grants.approve(session, standing, approver=officer)
    assert standing.expires_at is None
    assert actions(session, "access.grant") == [
        "access.grant.request", "access.grant.approve", "access.grant.request", "access.grant.deny",
        "access.grant.request", "access.grant.approve"]


def test_grant_requests_are_checked(session, frozen):
    agent, acct = employee(session), customer(session)
    with pytest.raises(InvalidInput, match="justification"):
        grants.request_grant(session, requester=agent, kind=GrantKind.just_in_time, data_class="payment",
                             customer_id=acct.external_id, justification="because")
    with pytest.raises(InvalidInput, match="minutes"):
        jit(session, agent, acct, minutes=600)
    with pytest.raises(InvalidInput, match="data class"):
        jit(session, agent, acct, cls="dna")
    jit(session, agent, acct)
    with pytest.raises(Conflict):
        jit(session, agent, acct)


def test_expiry_sweep_records_each_expiry_once(session, frozen):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    grant = jit(session, agent, acct, minutes=10)
    grants.approve(session, grant, approver=officer)
    assert service.sweep(session) == []
    frozen.advance(timedelta(minutes=10))
    assert [g.id for g in service.sweep(session)] == [grant.id]
    assert service.sweep(session) == []
    assert grant.status is GrantStatus.expired
    assert actions(session, "access.grant.expire") == ["access.grant.expire"]


def test_revocation_by_holder_manager_or_officer_only(session, frozen):
    manager, officer, peer = employee(session), employee(session, Role.privacy_officer), employee(session)
    agent, acct = employee(session, manager=manager), customer(session)
    grant = jit(session, agent, acct)
    grants.approve(session, grant, approver=officer)
    with pytest.raises(PolicyDenied):
        grants.revoke(session, grant, actor=peer)
    grants.revoke(session, grant, actor=manager, reason="case resolved")
    assert grant.status is GrantStatus.revoked


def test_a_standing_grant_widens_cases_but_is_not_a_purpose(session, frozen):
    officer, agent, acct = employee(session, Role.privacy_officer), employee(session), customer(session)
    standing = grants.request_grant(session, requester=agent, kind=GrantKind.standing, data_class="government_id",
                                    justification="identity verification desk, daily work")
    grants.approve(session, standing, approver=officer)
    c = case(session, acct, agent)
    view = broker.read(session, agent, customer_id=acct.external_id, fields=["date_of_birth"], purpose=f"case:{c.id}")
    assert view.decision is Decision.allowed and view.fields["date_of_birth"] == "1985-07-14"
    refused = broker.read(session, agent, customer_id=acct.external_id, fields=["date_of_birth"],
                          purpose=f"grant:{standing.id}")
    assert refused.refused and "standing grant" in refused.reason


# --- break-glass ----------------------------------------------------------------------------------------------


def test_break_glass_is_always_raised_and_listed_for_review(session, frozen):
    agent, analyst, acct = employee(session), employee(session, Role.security_analyst), customer(session)
    record = breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id,
                                         justification="customer locked out during a fraud attack, on the phone",
                                         classes=["contact", "payment"], minutes=20)
    assert record.raised_at == frozen.current and record.review is BreakGlassReview.pending
    assert actions(session, "access.break_glass") == ["access.break_glass.open", "access.break_glass.raise"]
    raised = events(session, "access.break_glass.raise")[0]
    assert raised.detail["raised_to"] == "security" and raised.customer_id == acct.external_id
    assert [r.id for r in breakglass.list_break_glass(session, review=BreakGlassReview.pending)] == [record.id]
    view = broker.read(session, agent, customer_id=acct.external_id, fields=["payment_methods", "addresses"],
                       purpose=f"break_glass:{record.id}")
    assert view.classes == {"identity_basic": "allowed", "payment": "allowed", "address": "masked"}
    with pytest.raises(PolicyDenied):
        breakglass.review(session, record, reviewer=agent, outcome=BreakGlassReview.justified)
    breakglass.review(session, record, reviewer=analyst, outcome=BreakGlassReview.justified, note="ticket 1")
    assert breakglass.list_break_glass(session, review=BreakGlassReview.pending) == []
    assert broker.read(session, agent, customer_id=acct.external_id, fields=["payment_methods"],
                       purpose=f"break_glass:{record.id}").refused, "a reviewed use is over"


def test_break_glass_needs_a_real_justification_and_ends_on_time(session, frozen):
    agent, acct = employee(session), customer(session)
    with pytest.raises(InvalidInput, match="justification"):
        breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, justification="urgent")
    with pytest.raises(InvalidInput, match="minutes"):
        breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, minutes=120,
                                    justification="customer locked out during a fraud attack, on the phone")
    record = breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id, minutes=5,
                                         justification="customer locked out during a fraud attack, on the phone",
                                         classes=["contact"])
    frozen.advance(timedelta(minutes=5))
    view = broker.read(session, agent, customer_id=acct.external_id, fields=["email"],
                       purpose=f"break_glass:{record.id}")
    assert view.refused and "ended" in view.reason


def test_break_glass_crosses_region_and_shift_but_not_the_volume_limit(session, frozen):
    agent, acct = employee(session, region="us"), customer(session, country="GB")
    service.set_profile(session, agent, actor=None, shift_start=20, shift_end=23, daily_limit=1)
    record = breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id,
                                         justification="customer locked out during a fraud attack, on the phone",
                                         classes=["contact"])
    first = broker.read(session, agent, customer_id=acct.external_id, fields=["email"],
                        purpose=f"break_glass:{record.id}")
    assert first.decision is Decision.allowed
    second = broker.read(session, agent, customer_id=acct.external_id, fields=["email"],
                         purpose=f"break_glass:{record.id}")
    assert second.refused and second.policy_ids == ("guard.daily_volume",)


# --- reviews and transparency ---------------------------------------------------------------------------------


def test_reach_report_counts_people_and_usage_and_flags_unused_standing_access(session, frozen):
    officer = employee(session, Role.privacy_officer)
    agent, idle = employee(session), employee(session)
    acct = customer(session)
    busy = grants.request_grant(session, requester=agent, kind=GrantKind.standing, data_class="payment",
                                justification="works the chargeback queue every day")
    unused = grants.request_grant(session, requester=idle, kind=GrantKind.standing, data_class="payment",
                                  justification="works the chargeback queue every day")
    grants.approve(session, busy, approver=officer)
    grants.approve(session, unused, approver=officer)
    frozen.advance(timedelta(days=31))
    c = case(session, acct, agent)
    broker.read(session, agent, customer_id=acct.external_id, fields=["payment_methods", "email"],
                purpose=f"case:{c.id}")
    report = reviews.reach_report(session, days=30)
    rows = {(r.employee_id, r.data_class.value): r for r in report.rows}
    assert rows[(agent.id, "payment")].reads == 1 and rows[(agent.id, "payment")].via_grants == [busy.id]
    assert rows[(agent.id, "contact")].via_roles == ["victim_request", "support_ticket", "incident"]
    assert rows[(idle.id, "payment")].reads == 0
    assert (officer.id, "government_id") in rows and (agent.id, "government_id") not in rows
    assert [g.id for g in report.unused_standing] == [unused.id]
    assert report.people_per_class[reviews.DataClass.payment] >= 3


def test_recertification_round_confirms_and_revokes(session, frozen):
    officer, manager = employee(session, Role.privacy_officer), employee(session)
    agent, orphan = employee(session, manager=manager), employee(session)
    g1 = grants.request_grant(session, requester=agent, kind=GrantKind.standing, data_class="payment",
                              justification="works the chargeback queue every day")
    g2 = grants.request_grant(session, requester=orphan, kind=GrantKind.standing, data_class="address",
                              justification="works the returns desk every single day")
    for g in (g1, g2):
        grants.approve(session, g, approver=officer)
    frozen.advance(timedelta(days=40))
    close_open_rounds(session)
    round_ = reviews.open_round(session, actor=officer, name="Q1 recertification")
    with pytest.raises(InvalidTransition):
        reviews.open_round(session, actor=officer, name="Another one")
    items = {i.grant_id: i for i in reviews.items(session, round_.id)}
    assert items[g1.id].reviewer_id == manager.id and items[g1.id].flagged_unused
    assert items[g2.id].reviewer_id is None
    assert [i.grant_id for i in reviews.items(session, round_.id, reviewer=manager)] == [g1.id]
    with pytest.raises(PolicyDenied):
        reviews.decide_item(session, items[g1.id], reviewer=agent, decision=ReviewDecision.confirmed)
    reviews.decide_item(session, items[g1.id], reviewer=manager, decision=ReviewDecision.revoked)
    assert g1.status is GrantStatus.revoked
    reviews.close_round(session, round_, actor=officer, revoke_unreviewed=True)
    assert g2.status is GrantStatus.revoked and items[g2.id].decision is ReviewDecision.revoked
    assert actions(session, "access.review") == ["access.review.open", "access.review.decide", "access.review.close"]


def test_transparency_lists_what_was_shown_without_names(session, frozen):
    agent, acct = employee(session, team="returns", region="us"), customer(session)
    c = case(session, acct, agent)
    broker.read(session, agent, customer_id=acct.external_id, fields=["email", "payment_methods"],
                purpose=f"case:{c.id}")
    broker.read(session, agent, customer_id=acct.external_id, fields=["email"], purpose=None)
    [entry] = transparency.accesses(session, acct.external_id)
    assert [cls.value for cls in entry.data_classes] == ["identity_basic", "contact"]
    assert entry.team == "returns" and entry.region == "us" and entry.purpose_category == "support_ticket"
    assert not hasattr(entry, "employee_id")


def test_policy_changes_are_audited(session, frozen, tmp_path):
    from ombud.access import versions
    from ombud.access.policy import PolicyEngine, default_engine

    versions.record_policy_version(session, default_engine())
    assert versions.record_policy_version(session, default_engine()) is None
    for f in default_engine().directory.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "roles.cedar").write_text((tmp_path / "roles.cedar").read_text() + "\n// tightened\n")
    changed = PolicyEngine(tmp_path)
    version = versions.record_policy_version(session, changed)
    assert version is not None and version.digest == changed.digest
    event = events(session, "access.policy.change")[-1]
    assert event.detail["digest"] == changed.digest and event.detail["previous_digest"] == default_engine().digest
