"""The workflow: one transition() with one leaf each, verification with a basis, information requests that never
pause the clock, and declines only on a statutory ground, confirmed by a second person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from requestutil import leaves
from sqlalchemy import select

from ombud.audit.models import AuditEntry
from ombud.errors import InvalidInput, InvalidTransition, PolicyDenied
from ombud.victim_requests import workflow
from ombud.victim_requests.models import RequestEvent
from ombud.victim_requests.states import Status


def _events(session, request, kind=None):
    query = select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    return [e for e in session.scalars(query) if kind is None or e.kind == kind]


def test_every_transition_writes_exactly_one_leaf_and_stamps_the_time(session, request_, staff, frozen):
    path = [Status.verifying, Status.needs_information, Status.verifying, Status.verified, Status.discovery,
            Status.review, Status.package, Status.delivered, Status.remediating, Status.closed]
    for to in path:
        frozen.advance(timedelta(hours=1))
        before = leaves(session)
        workflow.transition(session, request_, to, actor=staff["agent"], reason="step")
        assert leaves(session) == before + 1
        leaf = session.scalars(select(AuditEntry).order_by(AuditEntry.idx.desc())).first()
        assert leaf.action == "victim_request.transition" and leaf.purpose == f"request:{request_.id}"
        assert request_.status is to and request_.status_changed_at == frozen.current
    assert request_.verified_at is not None and request_.delivered_at is not None
    assert request_.closed_at == frozen.current
    assert [e.to_status for e in _events(session, request_, "transition")] == [s.value for s in path]


def test_illegal_moves_are_refused_and_leave_no_trace(session, request_, staff):
    before = leaves(session)
    for to in (Status.package, Status.delivered, Status.closed, Status.review):
        with pytest.raises(InvalidTransition):
            workflow.transition(session, request_, to, actor=staff["agent"])
    with pytest.raises(InvalidTransition, match="confirmed"):
        workflow.transition(session, request_, Status.declined, actor=staff["officer"])
    with pytest.raises(InvalidInput):
        workflow.transition(session, request_, "privacy_hold", actor=staff["agent"])
    assert request_.status is Status.received and leaves(session) == before


def test_verification_records_its_basis(session, ctx, request_, staff):
    with pytest.raises(InvalidInput, match="basis"):
        workflow.verify(session, ctx.keys, request_, actor=staff["agent"], confident=True, basis=[])
    with pytest.raises(InvalidInput, match="unknown basis"):
        workflow.verify(session, ctx.keys, request_, actor=staff["agent"], confident=True, basis=["gut_feeling"])
    with pytest.raises(PolicyDenied):
        workflow.verify(session, ctx.keys, request_, actor=staff["other_agent"], confident=True,
                        basis=["government_id_checked"])
    workflow.start_verification(session, request_, actor=staff["agent"])
    doubt = workflow.verify(session, ctx.keys, request_, actor=staff["agent"], confident=False,
                            basis=["identifiers_match_records"], note="address differs from our records")
    assert request_.status is Status.verifying and not doubt.confident
    done = workflow.verify(session, ctx.keys, request_, actor=staff["agent"], confident=True,
                           basis=["government_id_checked", "report_present", "affidavit_present"])
    assert request_.status is Status.verified and done.basis == ["affidavit_present", "government_id_checked",
                                                                 "report_present"]
    leaf = session.scalars(select(AuditEntry).where(AuditEntry.action == "victim_request.verify")
                           .order_by(AuditEntry.idx.desc())).first()
    assert leaf.decision == "confident"


def test_asking_for_more_information_keeps_the_clock_running(session, ctx, request_, staff, frozen):
    due = request_.due_at
    frozen.advance(timedelta(days=5))
    workflow.request_information(session, ctx.keys, ctx.settings, request_, actor=staff["agent"],
                                 what="Please send a copy of a government-issued photo ID.")
    assert request_.status is Status.needs_information and request_.due_at == due
    mails = [e for e in _events(session, request_) if e.kind.startswith("mail.")]
    assert {e.detail["template"] for e in mails} >= {"victim_request_information"}
    workflow.information_received(session, request_)
    assert request_.status is Status.verifying and request_.due_at == due


def test_a_decline_needs_a_statutory_ground_and_a_second_privacy_officer(session, ctx, request_, staff):
    for ground in ("privacy", "security", "we could not find anything", ""):
        with pytest.raises(InvalidInput) as refused:
            workflow.propose_decline(session, request_, actor=staff["agent"], ground=ground,
                                     explanation="The requester would not tell us who opened the account.")
        assert refused.value.field == "ground"
    with pytest.raises(InvalidInput, match="20 characters"):
        workflow.propose_decline(session, request_, actor=staff["agent"], ground="misrepresentation",
                                 explanation="no")
    decline = workflow.propose_decline(session, request_, actor=staff["officer"], ground="identity_not_confirmed",
                                       explanation="Two requests for information went unanswered; the ID differs.")
    assert request_.status is Status.received
    with pytest.raises(PolicyDenied, match="other than"):
        workflow.review_decline(session, ctx.keys, request_, decline.id, actor=staff["officer"], confirm=True)
    with pytest.raises(PolicyDenied, match="privacy officer"):
        workflow.review_decline(session, ctx.keys, request_, decline.id, actor=staff["agent"], confirm=True)
    assert request_.status is Status.received
    workflow.review_decline(session, ctx.keys, request_, decline.id, actor=staff["officer2"], confirm=True)
    assert request_.status is Status.declined and request_.closed_at is not None
    letter = [e for e in _events(session, request_) if e.kind.startswith("mail.")][-1]
    assert letter.detail["template"] == "victim_request_decline"


def test_a_rejected_decline_leaves_the_request_open(session, ctx, request_, staff):
    decline = workflow.propose_decline(session, request_, actor=staff["agent"], ground="not_required",
                                       explanation="Nothing of the kind appears in our records at all.")
    workflow.review_decline(session, ctx.keys, request_, decline.id, actor=staff["officer"], confirm=False,
                            note="Run discovery first.")
    assert request_.status is Status.received
    with pytest.raises(InvalidTransition):
        workflow.transition(session, request_, Status.declined, actor=staff["officer"])
