"""Scans and alerts in the store: run a scan (export, detect, record), list and read alerts, feedback weights.

Functions take the caller's session, flush, never commit (the command or request that began the transaction
commits). A scan's alerts are keyed by (employee, day): scanning again refreshes an alert nobody has touched and
leaves alone one an analyst has assigned, dismissed or escalated.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.errors import NotFound
from ombud.insider import detectors as registry
from ombud.insider import engine as engines
from ombud.insider.export import export
from ombud.insider.models import (
    AlertStatus,
    CaseStatus,
    DismissReason,
    InsiderAlert,
    InsiderAlertEvent,
    InsiderCase,
    InsiderScan,
    ScanStatus,
)
from ombud.staff.models import Employee

#: How much history before `since` the baselines read (own days, peers, four-week windows).
BASELINE_DAYS = 60
#: Evidence rows kept per alert (the findings keep the counts; the page shows the first ones).
MAX_EVIDENCE = 500
#: Dismissal reasons that say "this detector misjudged": they lower its weight (for the team, or everywhere).
_TEAM_REASONS = {DismissReason.expected_for_role}
_GLOBAL_REASONS = {DismissReason.legitimate_work}


def _day(value: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(value))


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def feedback_weights(session: Session) -> pa.Table:
    """Each detector's weight per team (and "*" for all), from analysts' outcomes: (escalated + 1) / (escalated
    + misjudged + 1), where misjudged counts dismissals as legitimate work (everywhere) or expected for the role
    (that team). No outcomes: weight 1. The weights multiply the detectors' strengths in the next scan."""
    rows = session.execute(
        select(InsiderAlert.findings, InsiderAlert.status, InsiderAlert.dismiss_reason, Employee.team)
        .join(Employee, Employee.id == InsiderAlert.employee_id)
        .where(InsiderAlert.status.in_([AlertStatus.dismissed, AlertStatus.escalated]))
    ).all()
    escalated: dict[tuple[str, str], int] = defaultdict(int)
    misjudged: dict[tuple[str, str], int] = defaultdict(int)
    for findings, status, reason, team in rows:
        for name in {f["detector"] for f in findings}:
            if status == AlertStatus.escalated:
                escalated[(name, "*")] += 1
                escalated[(name, team)] += 1
            elif reason in _GLOBAL_REASONS:
                misjudged[(name, "*")] += 1
            elif reason in _TEAM_REASONS:
                misjudged[(name, team)] += 1
    keys = sorted(set(misjudged))
    return pa.Table.from_pylist(
        [{"detector": d, "team": t, "weight": (escalated[(d, t)] + 1) / (escalated[(d, t)] + misjudged[(d, t)] + 1)}
         for d, t in keys],
        schema=pa.schema([("detector", pa.string()), ("team", pa.string()), ("weight", pa.float64())]),
    )


@dataclass(frozen=True)
class ScanResult:
    scan: InsiderScan
    output: engines.ScanOutput
    alerts_new: int
    alerts_updated: int


def _case_for(session: Session, employee_id: int, now: datetime, cache: dict[int, InsiderCase]) -> InsiderCase:
    """The employee's open (or escalated) case, else a new one: one person's repeat incidents are one case."""
    if employee_id in cache:
        return cache[employee_id]
    case = session.scalar(
        select(InsiderCase).where(InsiderCase.employee_id == employee_id,
                                  InsiderCase.status.in_([CaseStatus.open, CaseStatus.escalated]))
        .order_by(InsiderCase.id.desc()).limit(1)
    )
    if case is None:
        case = InsiderCase(employee_id=employee_id, status=CaseStatus.open, opened_at=now, updated_at=now,
                           max_score=0.0)
        session.add(case)
        session.flush()
    cache[employee_id] = case
    return case


def record_alerts(session: Session, scan: InsiderScan, output: engines.ScanOutput, min_score: float,
                  weights: pa.Table, episode_days: int = 7) -> tuple[int, int]:
    """Turn the scan's employee-day scores into alerts with their findings and evidence; (new, updated)."""
    now = clock.now()
    weight_of = {(r["detector"], r["team"]): r["weight"] for r in weights.to_pylist()}
    teams = dict(session.execute(select(Employee.id, Employee.team)).all())
    findings: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for f in output.findings.to_pylist():
        team = teams.get(int(f["employee_id"]), "")
        weight = weight_of.get((f["detector"], team), weight_of.get((f["detector"], "*"), 1.0))
        findings[(f["employee_id"], f["day"])].append({
            "detector": f["detector"], "ref": f["ref"], "stat": round(float(f["stat"]), 3), "n": int(f["n"]),
            "strength": round(float(f["strength"]), 3), "weight": round(weight, 3),
            "text": registry.describe(f["detector"], int(f["n"]), f["ref"], float(f["stat"])),
            "continued": not f["fresh"],
        })
    evidence: dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for e in output.evidence.to_pylist():
        rows = evidence[(e["employee_id"], e["day"])]
        key = (e["event_id"], e["data_class"])
        if key in rows:
            rows[key]["detectors"].append(e["detector"])
        elif len(rows) < MAX_EVIDENCE:
            rows[key] = {**e, "detectors": [e["detector"]]}
    cases: dict[int, InsiderCase] = {}
    created = updated = 0
    continuations: list[tuple[tuple[str, int], list[dict[str, Any]]]] = []
    for score_row in output.day_scores.to_pylist():
        score = float(score_row["score"])
        key = (score_row["employee_id"], score_row["day"])
        if key not in findings:
            continue
        if score < min_score:
            continuations.append((key, sorted(evidence[key].values(), key=lambda r: (r["at_s"], r["event_id"]))))
            continue
        employee_id, day = int(key[0]), _day(key[1])
        rows = sorted(evidence[key].values(), key=lambda r: (r["at_s"], r["event_id"], r["data_class"]))
        alert = session.scalar(select(InsiderAlert).where(InsiderAlert.employee_id == employee_id,
                                                          InsiderAlert.day == day))
        if alert is not None and alert.status != AlertStatus.new:
            continue  # an analyst has it; a new scan does not rewrite what they are looking at
        found = sorted(findings[key], key=lambda f: -f["strength"])
        window = (_at(min(r["at_s"] for r in rows)), _at(max(r["at_s"] for r in rows))) if rows else (
            datetime.combine(day, datetime.min.time(), UTC), datetime.combine(day, datetime.max.time(), UTC))
        if alert is None:
            case = _case_for(session, employee_id, now, cases)
            alert = InsiderAlert(case_id=case.id, employee_id=employee_id, day=day, status=AlertStatus.new,
                                 created_at=now)
            session.add(alert)
            created += 1
        else:
            case = session.get(InsiderCase, alert.case_id) or _case_for(session, employee_id, now, cases)
            session.execute(delete(InsiderAlertEvent).where(InsiderAlertEvent.alert_id == alert.id))
            updated += 1
        alert.scan_id, alert.score, alert.findings = scan.id, round(score, 4), found
        alert.explanation = "; ".join(f["text"] for f in found)
        alert.window_start, alert.window_end, alert.updated_at = window[0], window[1], now
        case.max_score, case.updated_at = max(case.max_score, alert.score), now
        session.flush()
        session.add_all([InsiderAlertEvent(
            alert_id=alert.id, event_ref=r["event_id"], source=r["source"], audit_index=r["audit_idx"],
            imported_id=int(r["event_id"][2:]) if r["event_id"].startswith("i:") else None,
            customer_id=r["customer_id"], data_class=r["data_class"], at=_at(r["at_s"]), decision=r["decision"],
            detectors=sorted(set(r["detectors"])),
        ) for r in rows])
    session.flush()
    for key, rows in continuations:
        _continue(session, int(key[0]), _day(key[1]), findings[key], rows, episode_days, now)
    session.flush()
    return created, updated


def _continue(session: Session, employee_id: int, day: date, found: list[dict[str, Any]],
              rows: list[dict[str, Any]], episode_days: int, now: datetime) -> None:
    """A day whose findings continue an earlier alert's (same detector, within the episode): extend that alert
    (if nobody has taken it up yet) with the day's findings and evidence, instead of raising a new one."""
    alert = session.scalar(
        select(InsiderAlert).where(InsiderAlert.employee_id == employee_id, InsiderAlert.day <= day,
                                   InsiderAlert.day >= day - timedelta(days=episode_days),
                                   InsiderAlert.status == AlertStatus.new)
        .order_by(InsiderAlert.day.desc()).limit(1)
    )
    if alert is None or not rows:
        return
    known = set(session.execute(select(InsiderAlertEvent.event_ref, InsiderAlertEvent.data_class)
                                .where(InsiderAlertEvent.alert_id == alert.id)).all())
    fresh = [r for r in rows if (r["event_id"], r["data_class"]) not in known][: max(0, MAX_EVIDENCE - len(known))]
    session.add_all([InsiderAlertEvent(
        alert_id=alert.id, event_ref=r["event_id"], source=r["source"], audit_index=r["audit_idx"],
        imported_id=int(r["event_id"][2:]) if r["event_id"].startswith("i:") else None,
        customer_id=r["customer_id"], data_class=r["data_class"], at=_at(r["at_s"]), decision=r["decision"],
        detectors=sorted(set(r["detectors"])),
    ) for r in fresh])
    seen = {(f["detector"], f["ref"], f.get("day")) for f in alert.findings}
    extra = [{**f, "day": day.isoformat()} for f in found if (f["detector"], f["ref"], day.isoformat()) not in seen]
    if extra:
        alert.findings = [*alert.findings, *extra]
    alert.window_end = max(alert.window_end, max(_at(r["at_s"]) for r in rows))
    alert.updated_at = now


def run_scan(
    session: Session,
    *,
    identifier_key: bytes,
    engine: str = "duckdb",
    since: date | None = None,
    overrides: dict[str, float] | None = None,
    workdir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    spark: Any | None = None,
) -> ScanResult:
    """Export, run every detector, record alerts and the scan (audited as ``insider.scan``)."""
    values = registry.params(overrides)
    now = clock.now()
    weights = feedback_weights(session)
    scan = InsiderScan(started_at=now, status=ScanStatus.running, engine=engine, since=since, events=0,
                       findings=0, alerts_new=0, summary={},
                       params={"values": values, "weights": weights.to_pylist()})
    session.add(scan)
    session.flush()
    say = progress or (lambda _step: None)
    export_from = None
    from_day = 0
    if since is not None:
        export_from = datetime.combine(since - timedelta(days=BASELINE_DAYS), datetime.min.time(), UTC)
        from_day = (since - date(1970, 1, 1)).days
    with tempfile.TemporaryDirectory(prefix="ombud-insider-", dir=workdir) as tmp:
        say("export")
        counts = export(session, Path(tmp), identifier_key=identifier_key, since=export_from, feedback=weights)
        runner = engines.make_runner(engine, spark)
        try:
            output = engines.run(Path(tmp), overrides=overrides, from_day=from_day, progress=say, runner=runner)
        finally:
            runner.close()
    say("alerts")
    created, updated = record_alerts(session, scan, output, values["alert_min_score"], weights,
                                     int(values["episode_days"]))
    scan.status, scan.finished_at = ScanStatus.finished, clock.now()
    scan.events, scan.findings, scan.alerts_new = counts["events"], output.findings.num_rows, created
    scan.explained_share = round(output.explained_share, 5)
    scan.summary = {"reasons": output.summary.to_pylist(), "timings": output.timings,
                    "employee_days": output.employee_days, "inputs": counts}
    append_event(session, AuditEvent(
        action="insider.scan", actor_type="system", actor_id="ombud.insider", subject_type="insider_scan",
        subject_id=str(scan.id),
        detail={"engine": engine, "events": counts["events"], "alerts_new": created, "alerts_updated": updated},
    ))
    session.flush()
    return ScanResult(scan, output, created, updated)


def get_alert(session: Session, alert_id: int) -> InsiderAlert:
    """The alert; NotFound when there is none."""
    alert = session.get(InsiderAlert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="alert_id")
    return alert


def list_alerts(session: Session, *, status: AlertStatus | None = None, assignee_id: int | None = None,
                case_id: int | None = None, limit: int = 100, offset: int = 0) -> tuple[list[InsiderAlert], int]:
    """Alerts, highest score first; with the total matching."""
    query = select(InsiderAlert)
    if status is not None:
        query = query.where(InsiderAlert.status == status)
    if assignee_id is not None:
        query = query.where(InsiderAlert.assignee_id == assignee_id)
    if case_id is not None:
        query = query.where(InsiderAlert.case_id == case_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(InsiderAlert.score.desc(), InsiderAlert.id)
                           .limit(min(max(limit, 1), 500)).offset(max(offset, 0)))
    return list(page), int(total)


def alert_events(session: Session, alert_id: int) -> list[InsiderAlertEvent]:
    """The alert's evidence events in time order."""
    return list(session.scalars(select(InsiderAlertEvent).where(InsiderAlertEvent.alert_id == alert_id)
                                .order_by(InsiderAlertEvent.at, InsiderAlertEvent.id)))


def latest_scan(session: Session) -> InsiderScan | None:
    return session.scalar(select(InsiderScan).order_by(InsiderScan.id.desc()).limit(1))
