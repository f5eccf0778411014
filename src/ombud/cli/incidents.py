"""`ombud incidents ...`: open an incident, scope its exposure from the verified log, export it, notify, report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from ombud.cli import common
from ombud.cli.access import _unit_of_work
from ombud.cli.common import console, err_console
from ombud.clock import ensure_utc
from ombud.errors import InvalidInput, OmbudError
from ombud.staff.models import Employee

incidents_app = typer.Typer(
    help="Incidents: exact exposure from the verified log, notices, regulator reports.", no_args_is_help=True
)
AS_HELP = "The employee acting (directory id or email)."


def _fail(exc: OmbudError) -> None:
    where = f" ({exc.field})" if exc.field else ""
    err_console.print(f"[bold red]error{where}:[/] {exc.message}")
    raise typer.Exit(2) from exc


def _who(session: Session, ref: str | None) -> Employee | None:
    from ombud.access.service import find_employee

    return find_employee(session, ref) if ref else None


def _when(value: str, field: str) -> datetime:
    try:
        return ensure_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise InvalidInput(f"{value!r} is not an ISO 8601 time, e.g. 2026-03-02T10:00Z", field=field) from None


def _time(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


@incidents_app.command("open")
def open_(
    title: str = typer.Option(..., help="A short title."),
    actor: list[str] = typer.Option([], "--actor", help="An employee id whose accesses are in scope (repeat)."),
    start: str = typer.Option(..., help="Start of the window (ISO 8601, UTC if no zone)."),
    end: str = typer.Option(..., help="End of the window (exclusive)."),
    discovered: str = typer.Option(None, help="When the breach was discovered (default: now); the legal clock."),
    kind: str = typer.Option("insider", help="insider, leaked_export, vendor or other."),
    description: str = typer.Option("", help="What is known so far."),
    alert: int = typer.Option(None, help="The escalated insider alert this incident comes from."),
    by: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Open an incident by hand (or for an alert) with its actors and window."""
    from ombud import clock
    from ombud.incidents.models import IncidentKind
    from ombud.incidents.service import open_incident

    with _unit_of_work() as (session, _ctx):
        try:
            kind_value = IncidentKind(kind.strip().lower().replace("-", "_"))
        except ValueError:
            raise InvalidInput(f"unknown kind {kind!r}", field="kind") from None
        incident = open_incident(
            session, title=title, description=description, actors=actor, window_start=_when(start, "start"),
            window_end=_when(end, "end"), discovered_at=_when(discovered, "discovered") if discovered else clock.now(),
            by=_who(session, by), kind=kind_value, source_alert_id=alert,
        )
        incident_id = incident.id
    console.print(f"[green]incident {incident_id} opened[/]; next: ombud incidents scope {incident_id} --as {by}")


@incidents_app.command("list")
def list_() -> None:
    """Incidents, newest first."""
    from ombud.incidents.service import list_incidents

    with _unit_of_work() as (session, _ctx):
        table = Table("id", "title", "kind", "status", "discovered", "actors")
        for i in list_incidents(session):
            table.add_row(str(i.id), i.title, i.kind.value, i.status.value, _time(i.discovered_at),
                          ", ".join(i.actors))
    console.print(table)


@incidents_app.command("show")
def show(incident_id: int) -> None:
    """An incident: status, scope, deadlines per jurisdiction and its timeline."""
    from ombud.incidents.views import incident_summary

    with _unit_of_work() as (session, _ctx):
        summary = incident_summary(session, incident_id)
    i = summary.incident
    console.print(f"[bold]Incident {i.id}[/]: {i.title} — [bold]{i.status.value}[/]; "
                  f"discovered {_time(i.discovered_at)}")
    console.print(f"actors: {', '.join(i.actors) or 'none'}; window {_time(i.window_start)} → {_time(i.window_end)}")
    if summary.scope is not None:
        s = summary.scope
        console.print(f"scope v{s.version}: {s.customers:,} customers, {s.rows:,} exposed items; {s.verification}")
    table = Table("jurisdiction", "obligation", "customers", "due", "state")
    for d in summary.deadlines:
        table.add_row(d.jurisdiction, d.kind.value, f"{d.customers:,}", _time(d.due_at), summary.state_of(d))
    console.print(table)
    for entry in summary.timeline:
        console.print(f"  {_time(entry.at)}  {entry.kind:<14} {entry.text}")


@incidents_app.command("scope")
def scope(
    incident_id: int,
    by: str = typer.Option(..., "--as", help=AS_HELP),
    window_start: str = typer.Option(None, "--start", help="Change the window's start before scoping."),
    window_end: str = typer.Option(None, "--end", help="Change the window's end before scoping."),
    actor: list[str] = typer.Option([], "--actor", help="Replace the actors before scoping (repeat)."),
) -> None:
    """Verify the audit log, then compute the incident's exposure exactly; a changed scope shows the difference."""
    from ombud.incidents import scope as scoping
    from ombud.incidents.service import get_incident
    from ombud.incidents.workflow import change_scope

    with _unit_of_work() as (session, _ctx):
        who = _who(session, by)
        assert who is not None
        who_id = who.id
        if window_start or window_end or actor:
            incident = get_incident(session, incident_id)
            change_scope(session, incident, who, actors=actor or None,
                         window_start=_when(window_start, "start") if window_start else None,
                         window_end=_when(window_end, "end") if window_end else None)
    ctx = common.context()
    try:
        err_console.print("verifying the audit log first…")
        result = scoping.scope_incident(ctx, incident_id, who_id)
    except OmbudError as exc:
        _fail(exc)
    finally:
        ctx.close()
    console.print(f"[green]scope v{result.version}[/]: {result.customers:,} customers, {result.rows:,} exposed items "
                  f"({result.reads_scanned:,} reads, {result.imported_scanned:,} imported events scanned)")
    console.print(f"log: {result.verification}")
    for code, count in result.by_jurisdiction.items():
        console.print(f"  {code:<8} {count:,}")
    if result.diff:
        d = result.diff
        console.print(f"against v{d['previous_version']}: {d['added']} added, {d['removed']} removed, "
                      f"{d['changed']} changed; customers added {len(d['customers_added'])}, "
                      f"removed {len(d['customers_removed'])}")


@incidents_app.command("export")
def export(
    incident_id: int,
    out: Path = typer.Option(..., "--out", help="File to write (.csv or .parquet)."),
    version: int = typer.Option(None, help="Scope version (default: the current one)."),
) -> None:
    """Write a scope's exposure (customer x item, first/last time, events, audit leaves) as CSV or Parquet."""
    from ombud.incidents import scope as scoping
    from ombud.incidents.service import get_incident

    fmt = {".csv": "csv", ".parquet": "parquet"}.get(out.suffix.lower())
    if fmt is None:
        raise common.fail("--out ends in .csv or .parquet", 2)
    with _unit_of_work() as (session, _ctx):
        chosen = scoping.get_scope(session, get_incident(session, incident_id), version)
        frame = scoping.exposure_frame(session, chosen)
    scoping.export(frame, str(out), fmt)
    console.print(f"[green]{frame.height:,} rows[/] of scope v{chosen.version} written to {out}")


@incidents_app.command("note")
def note(incident_id: int, text: str, by: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Add a note to the incident's timeline."""
    from ombud.incidents.service import add_note, get_incident

    with _unit_of_work() as (session, _ctx):
        who = _who(session, by)
        assert who is not None
        add_note(session, get_incident(session, incident_id), who, text)
    console.print("[green]noted[/]")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(incidents_app, name="incidents")
