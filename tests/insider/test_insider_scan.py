"""A scan over the store: export from the log and the imported events, alerts with evidence and proofs, triage."""

from __future__ import annotations

import pytest
from insiderutil import build
from sqlalchemy import select

from ombud.audit import checkpoint as checkpoints
from ombud.audit.models import AuditEntry
from ombud.errors import InvalidInput, InvalidTransition, PolicyDenied
from ombud.insider import evidence, service, triage
from ombud.insider.models import AlertStatus, CaseStatus, DismissReason, InsiderCase


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def scanned(session, ctx, world):
    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    return service.run_scan(session, identifier_key=ctx.keys.identifier_hash_key)


def _alerts_of(session, employee):
    alerts, _ = service.list_alerts(session, limit=500)
    return [a for a in alerts if a.employee_id == employee.id]


def test_scan_raises_one_alert_for_the_bulk_lookup_with_its_exact_events(session, world, scanned):
    alerts = _alerts_of(session, world.snooper)
    assert len(alerts) == 1
    alert = alerts[0]
    assert {f["detector"] for f in alert.findings} >= {"volume"}
    events = service.alert_events(session, alert.id)
    assert sorted({e.audit_index for e in events}) == sorted(world.bulk_indexes)
    assert {e.customer_id for e in events} == {c.external_id for c in world.customers[-12:]}
    assert "12 customers" in alert.explanation
    for agent in world.agents[1:]:
        assert _alerts_of(session, agent) == []
    assert scanned.scan.explained_share > 0.8
    assert scanned.scan.events >= len(world.bulk_indexes)


def test_evidence_proofs_verify_against_the_signed_checkpoint(session, ctx, world, scanned):
    alert = _alerts_of(session, world.snooper)[0]
    proofs = evidence.proofs(session, service.alert_events(session, alert.id))
    assert proofs.checkpoint is not None and len(proofs.proofs) == len(world.bulk_indexes)
    key = checkpoints.verifier(ctx.keys, ctx.settings)
    assert all(evidence.verify(p, proofs.checkpoint, key) for p in proofs.proofs)
    tampered = evidence.EventProof(proofs.proofs[0].audit_index + 1, proofs.proofs[0].leaf_hash,
                                   proofs.proofs[0].tree_size, proofs.proofs[0].proof)
    assert not evidence.verify(tampered, proofs.checkpoint, key)


def test_scan_is_audited_and_rescan_does_not_double(session, ctx, world, scanned):
    again = service.run_scan(session, identifier_key=ctx.keys.identifier_hash_key)
    assert again.alerts_new == 0 and again.alerts_updated == 1
    assert len(_alerts_of(session, world.snooper)) == 1
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action == "insider.scan")).all()
    assert len(actions) >= 2


def test_triage_moves_are_audited_and_refused_out_of_order(session, world, scanned):
    alert = _alerts_of(session, world.snooper)[0]
    analyst = world.analyst
    triage.record_read(session, analyst, [alert.id], what="detail")
    triage.assign(session, alert.id, analyst)
    assert alert.status == AlertStatus.assigned and alert.assignee_id == analyst.id
    with pytest.raises(InvalidInput):
        triage.dismiss(session, alert.id, analyst, "bored")
    triage.dismiss(session, alert.id, analyst, DismissReason.expected_for_role, note="rota change")
    with pytest.raises(InvalidTransition):
        triage.escalate(session, alert.id, analyst)
    triage.assign(session, alert.id, analyst)  # reopened
    triage.escalate(session, alert.id, analyst)
    assert session.get(InsiderCase, alert.case_id).status == CaseStatus.escalated
    leaves = session.scalars(select(AuditEntry).where(AuditEntry.subject_type == "insider_alert",
                                                      AuditEntry.subject_id == str(alert.id))
                             .order_by(AuditEntry.idx)).all()
    assert [e.action for e in leaves] == ["insider.alert.read", "insider.alert.assign", "insider.alert.dismiss",
                                          "insider.alert.assign", "insider.alert.escalate"]
    assert all(e.actor_id == analyst.external_id for e in leaves)


def test_only_analysts_triage(session, world, scanned):
    alert = _alerts_of(session, world.snooper)[0]
    with pytest.raises(PolicyDenied):
        triage.assign(session, alert.id, world.agents[1])
    with pytest.raises(PolicyDenied):
        triage.record_read(session, world.agents[1], [alert.id])


def test_escalation_gives_actors_window_and_events(session, world, scanned):
    alert = _alerts_of(session, world.snooper)[0]
    with pytest.raises(InvalidTransition):
        triage.escalation(session, alert.id)
    triage.escalate(session, alert.id, world.analyst)
    found = triage.escalation(session, alert.id)
    assert found.employee == world.snooper.external_id
    assert found.audit_indexes == tuple(sorted(world.bulk_indexes))
    assert found.window_start <= found.window_end
    assert triage.revealed(alert)


def test_pseudonyms_are_stable_and_distinct(ctx, world):
    key = ctx.keys.identifier_hash_key
    a, b = world.agents[0].id, world.agents[1].id
    assert triage.pseudonym(key, a) == triage.pseudonym(key, a) != triage.pseudonym(key, b)
    assert world.agents[0].name not in triage.pseudonym(key, a)


def test_dismissals_lower_the_detector_weight_for_the_team(session, world, scanned):
    alert = _alerts_of(session, world.snooper)[0]
    triage.dismiss(session, alert.id, world.analyst, DismissReason.expected_for_role)
    weights = {(r["detector"], r["team"]): r["weight"] for r in service.feedback_weights(session).to_pylist()}
    assert weights[("volume", world.snooper.team)] == 0.5
    assert ("volume", "*") not in weights
