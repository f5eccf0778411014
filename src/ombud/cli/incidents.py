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
    title: str = typer.Option(None, help="A short title (not with --alert)."),
    actor: list[str] = typer.Option([], "--actor", help="An employee id whose accesses are in scope (repeat)."),
    start: str = typer.Option(None, help="Start of the window (ISO 8601, UTC if no zone)."),
    end: str = typer.Option(None, help="End of the window (exclusive)."),
    discovered: str = typer.Option(None, help="When the breach was discovered (default: now); the legal clock."),
    kind: str = typer.Option("insider", help="insider, leaked_export, vendor or other."),
    description: str = typer.Option("", help="What is known so far."),
    alert: int = typer.Option(None, help="Open from this escalated insider alert (actor and window from it)."),
    by: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Open an incident by hand (or for an alert) with its actors and window."""
    from ombud import clock
    from ombud.incidents.models import IncidentKind
    from ombud.incidents.service import open_incident

    with _unit_of_work() as (session, _ctx):
        if alert is not None:
            from ombud.incidents.workflow import open_from_alert

            incident_id = open_from_alert(session, alert, _who(session, by)).id
            console.print(f"[green]incident {incident_id} opened from alert {alert}[/]; next: "
                          f"ombud incidents scope {incident_id} --as {by}")
            return
        if not (title and start and end):
            raise InvalidInput("--title, --start and --end (or --alert)", field="title")
        try:
            kind_value = IncidentKind(kind.strip().lower().replace("-", "_"))
        except ValueError:
            raise InvalidInput(f"unknown kind {kind!r}", field="kind") from None
        incident = open_incident(
            session, title=title, description=description, actors=actor, window_start=_when(start, "start"),
            window_end=_when(end, "end"), discovered_at=_when(discovered, "discovered") if discovered else clock.now(),
            by=_who(session, by), kind=kind_value,
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
    declared: Path = typer.Option(None, "--declared", help="CSV of exposure the log cannot show (a leaked export, "
                                  "a vendor's breach): customer_id,data_class[,first_at,last_at]."),
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
        frame = None
        if declared is not None:
            with _unit_of_work() as (session, _ctx):
                incident = get_incident(session, incident_id)
                window = (incident.window_start, incident.window_end)
            frame = scoping.read_declared(str(declared), window)
        err_console.print("verifying the audit log first…")
        result = scoping.scope_incident(ctx, incident_id, who_id, frame)
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


@incidents_app.command("notify")
def notify(
    incident_id: int,
    dry_run: bool = typer.Option(False, "--dry-run", help="Render every notice, send none: counts and samples."),
    send: bool = typer.Option(False, "--send", help="Queue the approved notices (email through the outbox)."),
    by: str = typer.Option(None, "--as", help=AS_HELP + " Needed with --send."),
    samples: bool = typer.Option(True, help="With --dry-run: print the sample notice of each jurisdiction."),
) -> None:
    """Preview the notices (--dry-run) or queue the approved ones (--send); nothing is ever queued twice."""
    from ombud.incidents import notices
    from ombud.incidents import scope as scoping
    from ombud.incidents.service import get_incident

    if dry_run == send:
        raise common.fail("choose --dry-run or --send", 2)
    with _unit_of_work() as (session, ctx):
        incident = get_incident(session, incident_id)
        if dry_run:
            run = notices.dry_run(session, incident, scoping.get_scope(session, incident), ctx.settings)
        else:
            who = _who(session, by)
            if who is None:
                raise InvalidInput("name who sends with --as", field="as")
            result = notices.send(session, incident, who, ctx.settings)
    if send:
        console.print(f"[green]queued {result.emails:,} email(s) and {result.letters:,} letter(s)[/]; "
                      f"{result.skipped:,} already notified, {result.no_address:,} without an address")
        return
    console.print(f"dry run of scope v{run.scope_version}: {run.customers:,} customers, "
                  f"{run.already_notified:,} already notified")
    table = Table("jurisdiction", "customers", "email", "letter", "already notified", "no address")
    for code, c in run.by_jurisdiction.items():
        table.add_row(code, *(f"{c.get(k, 0):,}" for k in ("customers", "email", "letter", "already notified",
                                                           "no address")))
    console.print(table)
    if samples:
        for code, sample in run.samples.items():
            console.rule(f"sample for {code} (name masked)")
            console.print(f"Subject: {sample.subject}", markup=False)
            console.print(sample.text, markup=False)
    for problem in run.problems:
        err_console.print(f"[yellow]problem:[/] {problem}")
    if any(not p.startswith("customer ") for p in run.problems):
        raise typer.Exit(1)


@incidents_app.command("approve")
def approve(incident_id: int, by: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Approve the notices of the current scope (a privacy officer; after a clean dry run)."""
    from ombud.incidents import notices
    from ombud.incidents.service import get_incident

    with _unit_of_work() as (session, ctx):
        who = _who(session, by)
        assert who is not None
        notices.approve(session, get_incident(session, incident_id), who, ctx.settings)
    console.print(f"[green]notices of incident {incident_id} approved[/]")


@incidents_app.command("resend")
def resend(incident_id: int, customer_id: str, channel: str = typer.Option(None, help="email or letter"),
           by: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Send one customer's notice again (a bounce, a returned letter), by the same or another channel."""
    from ombud.incidents import notices
    from ombud.incidents.models import NoticeChannel
    from ombud.incidents.service import get_incident

    with _unit_of_work() as (session, ctx):
        who = _who(session, by)
        assert who is not None
        try:
            chosen = NoticeChannel(channel) if channel else None
        except ValueError:
            raise InvalidInput("channel is email or letter", field="channel") from None
        notice = notices.resend(session, get_incident(session, incident_id), customer_id, who, ctx.settings, chosen)
        sends = notice.sends
    console.print(f"[green]notice to {customer_id} queued again[/] (send {sends})")


@incidents_app.command("letters")
def letters(incident_id: int, out: Path = typer.Option(..., "--out", help="Folder for the PDF and manifest."),
            by: str = typer.Option(None, "--as", help=AS_HELP)) -> None:
    """Render every queued letter into one PDF for the print run (and a manifest); marks them printed."""
    from ombud.incidents.letters import print_letters
    from ombud.incidents.service import get_incident

    with _unit_of_work() as (session, ctx):
        run = print_letters(session, get_incident(session, incident_id), _who(session, by), ctx.settings, out)
    if run.letters == 0:
        console.print("no letters waiting to be printed")
    else:
        console.print(f"[green]{run.letters:,} letter(s)[/] in {run.pdf} (manifest {run.manifest})")


@incidents_app.command("report")
def report(
    incident_id: int,
    jurisdiction: str = typer.Option(..., help="The state, e.g. TX."),
    out: Path = typer.Option(None, "--out", help="Folder for the JSON and PDF (default: print the JSON)."),
    submitted: bool = typer.Option(False, "--submitted", help="Record that the report went to the regulator."),
    by: str = typer.Option(None, "--as", help=AS_HELP + " Needed with --submitted."),
) -> None:
    """The regulator report of a jurisdiction over its threshold, as JSON and PDF; --submitted meets its deadline."""
    import json

    from ombud.incidents import reports
    from ombud.incidents.service import get_incident

    code = jurisdiction.strip().upper()
    with _unit_of_work() as (session, ctx):
        incident = get_incident(session, incident_id)
        content = reports.report(session, incident, code, ctx.settings)
        if submitted:
            who = _who(session, by)
            if who is None:
                raise InvalidInput("name who submitted it with --as", field="as")
            reports.mark_submitted(session, incident, code, who)
    text = json.dumps(content, indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"incident-{incident_id}-{code}-report.json").write_text(text + "\n", encoding="utf-8")
        (out / f"incident-{incident_id}-{code}-report.pdf").write_bytes(reports.report_pdf(content))
        console.print(f"[green]report written[/] to {out}")
    if submitted:
        console.print(f"[green]{code} report recorded as submitted[/]")


@incidents_app.command("tick")
def tick() -> None:
    """Remind of deadlines due within 7 days and escalate overdue ones (each once); run it from cron."""
    from ombud.incidents.tracking import tick as run_tick

    with _unit_of_work() as (session, ctx):
        result = run_tick(session, ctx.settings)
    for incident_id, code, kind in result.escalated:
        console.print(f"[bold red]OVERDUE[/] incident {incident_id}: {kind} in {code}")
    for incident_id, code, kind in result.reminded:
        console.print(f"[yellow]due soon[/] incident {incident_id}: {kind} in {code}")
    if not (result.escalated or result.reminded):
        console.print("nothing due")


@incidents_app.command("link")
def link(customer_id: str, minutes: int = typer.Option(10, min=1, max=15, help="Life of the link.")) -> None:
    """Print a customer's signed transparency link (what the retailer's site does for a signed-in customer)."""
    from ombud.incidents import links

    ctx = common.context()
    try:
        token = links.sign(links.link_key(ctx.settings), customer_id, minutes=minutes)
    except ValueError:
        raise common.fail(f"{customer_id!r} is not a customer id", 2) from None
    typer.echo(f"{ctx.settings.public_base_url.rstrip('/')}/my-data?token={token}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(incidents_app, name="incidents")
