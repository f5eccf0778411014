"""The insider demo step: an imported team's work, one agent's unexplained look-ups, the alert, its proofs, triage;
then the escalated alert is the one the incidents step opens its incident from."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console
from sqlalchemy import select

from ombud import clock
from ombud.audit.models import AuditEntry
from ombud.incidents import workflow
from ombud.insider.demo import LOOKUPS, run_demo
from ombud.insider.models import AlertStatus, InsiderAlert
from ombud.retail.models import Account, AccountStatus


def test_the_demo_scans_explains_proves_and_escalates(ctx, session):
    now = clock.now()
    session.add_all([Account(external_id=f"DC{i:04d}", status=AccountStatus.active,
                             created_at=now - timedelta(days=300), name=f"Pat Example{i}",
                             email=f"pat{i}@example.com", updated_at=now) for i in range(260)])
    session.commit()
    console = Console(record=True, width=200)
    alert_id = run_demo(ctx, console)
    out = " ".join(console.export_text().split())  # rich wraps long lines (the data folder path)
    assert alert_id is not None, out
    assert "(0 rejected)" in out
    assert f"{LOOKUPS} of {LOOKUPS} inclusion proof(s) verify" in out
    with ctx.sessions() as s:
        alert = s.get(InsiderAlert, alert_id)
        assert alert.status == AlertStatus.escalated
        assert {f["detector"] for f in alert.findings} >= {"volume"}
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.subject_type == "insider_alert",
                                                            AuditEntry.subject_id == str(alert_id))
                            .order_by(AuditEntry.idx)).all()
        assert actions[-2:] == ["insider.alert.assign", "insider.alert.escalate"]
        # Only the injected agent raised an alert: the team's ticketed work did not.
        assert s.scalar(select(InsiderAlert.id).where(InsiderAlert.id != alert_id)) is None
    # The incidents step (ombud.incidents.demo) opens its incident from exactly this alert; `ombud demo` end to end
    # is tests/test_demo.py.
    with ctx.sessions() as s:
        pending = workflow.escalated_without_incident(s)
        assert [p[0] for p in pending] == [alert_id]
        incident = workflow.open_from_alert(s, alert_id, None)
        assert incident.source_alert_id == alert_id
