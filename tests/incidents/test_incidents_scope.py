"""Scoping: exposure equals the scenario's truth exactly, the log is verified first, a re-scope shows the change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from incidentutil import alert_of, build, open_for
from sqlalchemy import text

from ombud.incidents import scope as scoping
from ombud.incidents.models import IncidentStatus
from ombud.incidents.scope import LogTampered
from ombud.incidents.service import timeline


def _scope(ctx, session, incident, who):
    session.commit()
    return scoping.scope_incident(ctx, incident.id, who.id)


def test_exposure_is_exactly_what_was_shown(ctx, session, frozen):
    s = build(session, frozen)
    incident = open_for(session, s, frozen)
    result = _scope(ctx, session, incident, s.bystander)
    frame = scoping.exposure_frame(session, result)
    got = {(r["customer_id"], r["item"]) for r in frame.to_dicts()}
    assert got == s.truth  # none missed, none extra
    assert not any(item in {"payment_methods", "ssn_last4", "date_of_birth", "orders.ip"} for _, item in got)
    assert s.customers["refused"].external_id not in {c for c, _ in got}
    assert s.customers["later"].external_id not in {c for c, _ in got}
    assert result.customers == 4 and result.by_jurisdiction == {"CA": 1, "NY": 1, "TX": 1, "default": 1}
    session.refresh(incident)
    assert incident.status is IncidentStatus.scoped


def test_every_row_is_backed_by_leaves_proved_against_the_signed_checkpoint(ctx, session, frozen):
    s = build(session, frozen)
    incident = open_for(session, s, frozen)
    result = _scope(ctx, session, incident, s.bystander)
    proofs = scoping.proofs(session, result, s.customers["ca"].external_id)
    assert proofs and all(p.verified for p in proofs)
    row = scoping.exposure_frame(session, result, s.customers["ca"].external_id).to_dicts()[0]
    assert row["leaves"] == [p.index for p in proofs]
    assert row["first_at"] == row["last_at"] > s.window[0]


def test_a_tampered_log_refuses_scoping_and_says_why(ctx, session, frozen):
    s = build(session, frozen)
    incident = open_for(session, s, frozen)
    session.commit()
    # Someone rewrites the insider's read of the Texan customer as another employee's, to hide it.
    victim = s.customers["tx"].external_id
    session.execute(text("UPDATE audit_event SET actor_id = 'E99999' WHERE customer_id = :c "
                         "AND action = 'access.read'"), {"c": victim})
    session.commit()
    with pytest.raises(LogTampered) as raised:
        scoping.scope_incident(ctx, incident.id, s.bystander.id)
    assert "do not match its leaf hash" in raised.value.message or "fails verification" in raised.value.message
    session.expire_all()
    assert incident.current_scope_id is None
    assert [e.kind for e in timeline(session, incident.id)][-1] == "scope_refused"


def test_a_wider_window_recomputes_and_shows_the_difference(ctx, session, frozen):
    s = build(session, frozen)
    incident = open_for(session, s, frozen)
    first = _scope(ctx, session, incident, s.bystander)
    incident.window_end = frozen.current + timedelta(minutes=1)
    session.commit()
    second = scoping.scope_incident(ctx, incident.id, s.bystander.id)
    assert second.version == first.version + 1
    later = s.customers["later"].external_id
    assert second.diff["customers_added"] == [later] and second.diff["removed"] == 0
    assert second.diff["added"] == 2  # name and email of the customer read after the first window


def test_export_csv_and_parquet(ctx, session, frozen, tmp_path):
    import polars as pl

    s = build(session, frozen)
    incident = open_for(session, s, frozen)
    result = _scope(ctx, session, incident, s.bystander)
    frame = scoping.exposure_frame(session, result)
    scoping.export(frame, str(tmp_path / "x.csv"), "csv")
    scoping.export(frame, str(tmp_path / "x.parquet"), "parquet")
    back = pl.read_parquet(tmp_path / "x.parquet")
    assert back.height == frame.height == len(s.truth)
    csv = (tmp_path / "x.csv").read_text()
    assert csv.splitlines()[0].startswith("customer_id,item,data_class,source,jurisdiction")


def test_imported_events_expose_the_class_they_name(ctx, session, frozen):
    from ombud.insider.events import AccessEvent, ImportBatch

    s = build(session, frozen)
    batch = ImportBatch(started_at=frozen.current, files=["video.csv"])
    session.add(batch)
    session.flush()
    ny, other = s.customers["ny"].external_id, s.customers["other"].external_id
    inside = s.window[0] + timedelta(minutes=30)
    for n, (who, customer, cls, at) in enumerate([
        (s.insider, ny, "video", inside), (s.insider, ny, "video", inside + timedelta(minutes=1)),
        (s.insider, other, "video", s.window[1] + timedelta(minutes=5)),  # after the window
        (s.bystander, other, "video", inside),  # not an actor
    ]):
        session.add(AccessEvent(source_system="video_system", external_id=f"v{n}", employee_id=who.id,
                                customer_id=customer, data_class=cls, at=at, batch_id=batch.id))
    incident = open_for(session, s, frozen)
    result = _scope(ctx, session, incident, s.bystander)
    rows = {(r["customer_id"], r["item"]): r for r in scoping.exposure_frame(session, result).to_dicts()}
    assert set(rows) == s.truth | {(ny, "video")}
    video = rows[(ny, "video")]
    assert video["source"] == "video_system" and video["events"] == 2 and len(video["imported"]) == 2
    assert video["first_at"] == inside and result.imported_scanned == 2


def test_an_escalated_alert_opens_its_incident_once_and_scopes_to_the_truth(ctx, session, frozen):
    from ombud.errors import InvalidTransition
    from ombud.incidents.workflow import open_from_alert

    s = build(session, frozen)
    with pytest.raises(InvalidTransition):
        open_from_alert(session, alert_of(session, s, "new", days_before=1).id, s.bystander)
    alert = alert_of(session, s, "escalated")
    incident = open_from_alert(session, alert.id, s.bystander)
    assert open_from_alert(session, alert.id, s.bystander).id == incident.id
    assert incident.actors == [s.insider.external_id] and incident.source_alert_id == alert.id
    assert (incident.window_start, incident.window_end) == s.window
    result = _scope(ctx, session, incident, s.bystander)
    got = {(r["customer_id"], r["item"]) for r in scoping.exposure_frame(session, result).to_dicts()}
    assert got == s.truth


def test_an_incident_not_caused_by_staff_is_scoped_from_its_declared_list(ctx, session, frozen, tmp_path):
    from ombud.errors import InvalidInput
    from ombud.incidents import service
    from ombud.incidents.models import IncidentKind

    s = build(session, frozen)
    incident = service.open_incident(
        session, title="Vendor breach", description="The mailing vendor's store was breached.", actors=[],
        window_start=s.window[0], window_end=s.window[1], discovered_at=frozen.current, by=s.bystander,
        kind=IncidentKind.vendor)
    session.commit()
    with pytest.raises(InvalidInput, match="declared list"):
        scoping.scope_incident(ctx, incident.id, s.bystander.id)
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,data_class\nC1,contact\nnot an id!,contact\n")
    with pytest.raises(InvalidInput, match="line 3, customer_id"):
        scoping.read_declared(str(bad), s.window)
    good = tmp_path / "vendor.csv"
    ca, tx = s.customers["ca"].external_id, s.customers["tx"].external_id
    good.write_text(f"customer_id,data_class\n{ca},contact\n{ca},address\n{tx},Contact\n{ca},contact\n")
    result = scoping.scope_incident(ctx, incident.id, s.bystander.id, scoping.read_declared(str(good), s.window))
    rows = {(r["customer_id"], r["item"], r["source"]): r for r in scoping.exposure_frame(session, result).to_dicts()}
    src = "declared:vendor.csv"
    assert set(rows) == {(ca, "contact", src), (ca, "address", src), (tx, "contact", src)}
    assert rows[(ca, "contact", src)]["events"] == 2 and result.by_jurisdiction == {"CA": 1, "TX": 1}
    assert scoping.proofs(session, result, ca) == []  # nothing in the log to prove
