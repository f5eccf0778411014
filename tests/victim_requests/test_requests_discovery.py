"""Discovery under the request's purpose, the agent's verdicts, and broker reads bound to request:<id>."""

from __future__ import annotations

import json

import pytest
from requestutil import account_with_card, make_request
from sqlalchemy import select

from ombud.access import broker
from ombud.access.models import Decision
from ombud.audit.models import AuditEntry
from ombud.errors import InvalidTransition
from ombud.identity.index import import_callback
from ombud.victim_requests import discovery, workflow
from ombud.victim_requests.models import MatchVerdict, RequestMatch, SubjectKind
from ombud.victim_requests.states import Status


@pytest.fixture
def world(session, ctx, frozen, staff):
    jane = account_with_card(session, ctx.keys, "Jane Quinn Doe", "jane.doe@example.com", "4111111111111111",
                             line1="12 Oak Street", postal="62704")
    thief = account_with_card(session, ctx.keys, "Mallory Smith", "mallory@example.net", "4111111111111111")
    other = account_with_card(session, ctx.keys, "Bob Unrelated", "bob@example.org", "5555555555554444")
    import_callback(ctx.keys)(session, "accounts", [jane.id, thief.id, other.id])
    request = make_request(session, ctx).request
    request.assignee_id = staff["agent"].id
    workflow.verify(session, ctx.keys, request, actor=staff["agent"], confident=True,
                    basis=["government_id_checked", "report_present"])
    return {"jane": jane, "thief": thief, "other": other, "request": request}


def test_discovery_needs_a_verified_request(session, ctx, request_, staff):
    with pytest.raises(InvalidTransition, match="verified"):
        discovery.run(session, ctx.keys, request_, actor=staff["officer"])


def test_discovery_finds_the_thiefs_account_and_is_on_the_record(session, ctx, world, staff):
    request = world["request"]
    run = discovery.run(session, ctx.keys, request, actor=staff["agent"])
    assert request.status is Status.review
    matches = {(m.subject_kind, m.subject_id): m for m in
               session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id))}
    thief = world["thief"].external_id
    assert (SubjectKind.account, thief) in matches
    assert (SubjectKind.account, world["other"].external_id) not in matches
    assert thief in run.card_accounts
    text = discovery.explanation_of(ctx.keys, matches[(SubjectKind.account, thief)])
    assert text["summary"] and "Mallory" not in str(text)
    searched = session.scalars(select(AuditEntry).where(AuditEntry.action == "identity.discover")
                               .order_by(AuditEntry.idx.desc())).first()
    assert searched.purpose == f"request:{request.id}" and searched.actor_id == staff["agent"].external_id
    recorded = session.scalars(select(AuditEntry).where(AuditEntry.action == "victim_request.discovery")).one()
    assert thief in json.loads(recorded.detail)["accounts"]


def test_verdicts_then_the_package_stage(session, ctx, world, staff):
    request = world["request"]
    discovery.run(session, ctx.keys, request, actor=staff["agent"])
    with pytest.raises(InvalidTransition, match="no verdict"):
        workflow.finish_review(session, request, actor=staff["agent"])
    for match in session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id)):
        verdict = MatchVerdict.fraud if match.account_ref == world["thief"].external_id else MatchVerdict.own
        workflow.set_verdict(session, request, match.id, actor=staff["agent"], verdict=verdict, note="checked")
    workflow.finish_review(session, request, actor=staff["agent"])
    assert request.status is Status.package


def test_broker_reads_are_bound_to_the_request_and_its_matches(session, ctx, world, staff):
    request = world["request"]
    purpose = f"request:{request.id}"
    early = broker.read(session, staff["agent"], customer_id=world["thief"].external_id, fields=["email"],
                        purpose=purpose, cipher=ctx.keys.field_cipher)
    assert early.refused and "discovery" in early.reason
    discovery.run(session, ctx.keys, request, actor=staff["agent"])
    view = broker.read(session, staff["agent"], customer_id=world["thief"].external_id,
                       fields=["email", "payment_methods"], purpose=purpose, cipher=ctx.keys.field_cipher)
    assert view.decision is Decision.allowed, view.reason
    assert view.fields["email"] == "mallory@example.net"
    stranger = broker.read(session, staff["agent"], customer_id=world["other"].external_id, fields=["email"],
                           purpose=purpose, cipher=ctx.keys.field_cipher)
    assert stranger.refused and "did not find" in stranger.reason
    outsider = broker.read(session, staff["other_agent"], customer_id=world["thief"].external_id,
                           fields=["email"], purpose=purpose, cipher=ctx.keys.field_cipher)
    assert outsider.refused and "not assigned" in outsider.reason
    leaf = session.scalars(select(AuditEntry).where(AuditEntry.action == "access.read")
                           .order_by(AuditEntry.idx.desc())).first()
    assert leaf.purpose == purpose and leaf.decision == "deny"
