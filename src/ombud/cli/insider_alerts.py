"""`ombud insider scan | alerts | alert | assign | dismiss | escalate`: detectors and triage from the shell.

Commands that triage or read alerts act for a security analyst (`--as`); every read of alerts is on the
record, as on the alerts page. Employees are shown by pseudonym until an alert is escalated.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from ombud.access.service import find_employee
from ombud.cli import common
from ombud.cli.common import console, err_console
from ombud.context import Context
from ombud.db import transaction
from ombud.errors import InvalidInput, OmbudError
from ombud.insider import detectors, engine, evidence, service, triage
from ombud.insider.models import AlertStatus, DismissReason, InsiderAlert
from ombud.staff.models import Employee

AS_HELP = "The security analyst acting (directory id or email)."


@contextmanager
def _unit_of_work() -> Iterator[tuple[Session, Context]]:
    ctx = common.context()
    try:
        with transaction(ctx.sessions) as session:
            yield session, ctx
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        ctx.close()


def _analyst(session: Session, ref: str) -> Employee:
    who = find_employee(session, ref)
    triage.require_analyst(who)
    return who


def _shown(ctx: Context, session: Session, alert: InsiderAlert) -> str:
    if triage.revealed(alert):
        employee = session.get(Employee, alert.employee_id)
        return employee.external_id if employee else str(alert.employee_id)
    return triage.pseudonym(ctx.keys.identifier_hash_key, alert.employee_id)


def scan_command(
    since: str = typer.Option(None, "--since", help="Raise alerts for days from this date (YYYY-MM-DD); "
                              "baselines read the 60 days before. Default: everything."),
    engine_name: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark (OMBUD_SPARK_MASTER)."),
    workdir: Path = typer.Option(None, "--workdir", help="Folder for the Parquet export (default: a temp folder)."),
) -> None:
    """Export the access events, run every detector, and record alerts (grouped into one case per person)."""
    if engine_name not in engine.ENGINES:
        raise common.fail(f"--engine must be one of {', '.join(engine.ENGINES)}", 2)
    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        raise common.fail("--since must be a date, YYYY-MM-DD", 2) from None
    steps = ["export", *(f"stage {name}" for name, _ in engine.STAGES), "detectors",
             *(f"detector {name}" for name in detectors.DETECTORS), "scores", "alerts"]
    with _unit_of_work() as (session, ctx), Progress(
        TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err_console, transient=True,
    ) as bar:
        task = bar.add_task("scanning", total=len(steps))

        def step(name: str) -> None:
            bar.update(task, description=name, completed=min(steps.index(name) if name in steps else 0, len(steps)))

        result = service.run_scan(session, identifier_key=ctx.keys.identifier_hash_key, engine=engine_name,
                                  since=start, workdir=workdir, progress=step)
        bar.update(task, completed=len(steps))
    scan = result.scan
    table = Table(title=f"scan {scan.id} ({engine_name})", show_edge=False)
    table.add_column("")
    table.add_column("", justify="right")
    table.add_row("access events", f"{scan.events:,}")
    table.add_row("explained", f"{(scan.explained_share or 0):.1%}")
    table.add_row("findings", f"{scan.findings:,}")
    table.add_row("new alerts", f"{result.alerts_new:,}")
    table.add_row("refreshed alerts", f"{result.alerts_updated:,}")
    table.add_row("detect time", f"{result.output.timings.get('total', 0):.2f} s")
    console.print(table)


def alerts_command(
    actor: str = typer.Option(..., "--as", help=AS_HELP),
    status: str = typer.Option(None, "--status", help="new, assigned, dismissed or escalated."),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
) -> None:
    """List alerts, highest score first (the read is on the record)."""
    with _unit_of_work() as (session, ctx):
        who = _analyst(session, actor)
        try:
            wanted = AlertStatus(status) if status else None
        except ValueError:
            raise InvalidInput("status must be new, assigned, dismissed or escalated", field="status") from None
        alerts, total = service.list_alerts(session, status=wanted, limit=limit)
        if alerts:
            triage.record_read(session, who, [a.id for a in alerts], what="list")
        table = Table(title=f"{len(alerts)} of {total} alerts", show_edge=False)
        for column in ("id", "case", "day", "employee", "score", "status", "why"):
            table.add_column(column, overflow="fold")
        for a in alerts:
            table.add_row(str(a.id), str(a.case_id), a.day.isoformat(), _shown(ctx, session, a), f"{a.score:.2f}",
                          a.status.value, a.findings[0]["text"] if a.findings else "")
        console.print(table)


def alert_command(alert_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Show one alert: its findings, its evidence events and their inclusion proofs."""
    with _unit_of_work() as (session, ctx):
        who = _analyst(session, actor)
        alert = service.get_alert(session, alert_id)
        triage.record_read(session, who, [alert.id], what="detail")
        events = service.alert_events(session, alert.id)
        proofs = evidence.proofs(session, events)
        console.print(f"[bold]alert {alert.id}[/] case {alert.case_id} · {_shown(ctx, session, alert)} · "
                      f"{alert.day} · score {alert.score:.2f} · {alert.status.value}")
        for f in alert.findings:
            console.print(f"  • {f['detector']}: {f['text']} (strength {f['strength']:.2f})")
        table = Table(title=f"{len(events)} evidence events", show_edge=False)
        for column in ("event", "source", "at", "customer", "class", "decision", "proof"):
            table.add_column(column)
        proved = {p.audit_index: p for p in proofs.proofs}
        for e in events:
            proof = proved.get(e.audit_index) if e.audit_index is not None else None
            mark = "imported" if e.audit_index is None else (
                f"in checkpoint {proof.tree_size}" if proof and proof.tree_size else "awaiting checkpoint")
            table.add_row(e.event_ref, e.source, e.at.isoformat(timespec="seconds"), e.customer_id, e.data_class,
                          e.decision, mark)
        console.print(table)


def assign_command(alert_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP),
                   to: str = typer.Option(None, "--to", help="Another analyst (default: yourself).")) -> None:
    """Assign an alert."""
    with _unit_of_work() as (session, _ctx):
        who = _analyst(session, actor)
        alert = triage.assign(session, alert_id, who, find_employee(session, to) if to else None)
        console.print(f"alert {alert.id} assigned")


def dismiss_command(alert_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP),
                    reason: str = typer.Option(..., "--reason", help=", ".join(r.value for r in DismissReason)),
                    note: str = typer.Option(None, "--note")) -> None:
    """Dismiss an alert with a reason (fed back to the detector's weight)."""
    with _unit_of_work() as (session, _ctx):
        alert = triage.dismiss(session, alert_id, _analyst(session, actor), reason.replace("-", "_"), note)
        console.print(f"alert {alert.id} dismissed ({alert.dismiss_reason})")


def escalate_command(alert_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP),
                     note: str = typer.Option(None, "--note")) -> None:
    """Escalate an alert and its case (the employee is revealed; an incident may be opened from it)."""
    with _unit_of_work() as (session, _ctx):
        alert = triage.escalate(session, alert_id, _analyst(session, actor), note)
        console.print(f"alert {alert.id} escalated (case {alert.case_id})")


def register(app: typer.Typer) -> None:
    """Add the detection and triage commands to `ombud insider`."""
    app.command("scan")(scan_command)
    app.command("alerts")(alerts_command)
    app.command("alert")(alert_command)
    app.command("assign")(assign_command)
    app.command("dismiss")(dismiss_command)
    app.command("escalate")(escalate_command)
