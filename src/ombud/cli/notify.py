"""`ombud worker` and `ombud outbox ...`: drain, list, retry and preview outgoing mail and webhooks."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from ombud.cli.common import console, context, err_console, read_json
from ombud.context import Context
from ombud.db import transaction
from ombud.errors import InvalidInput, OmbudError
from ombud.notify import outbox, templates, webhooks
from ombud.notify.models import MailStatus, WebhookStatus

if TYPE_CHECKING:
    from ombud.config import Settings
    from ombud.notify.worker import ScheduledJob

outbox_app = typer.Typer(help="Outgoing mail and webhooks: list, retry dead letters, preview templates.",
                         no_args_is_help=True)


@contextmanager
def _unit_of_work() -> Iterator[tuple[Session, Context]]:
    """One transaction; a domain error is printed with its field and exits 2, nothing written."""
    ctx = context()
    outbox.configure(ctx.settings)
    try:
        with transaction(ctx.sessions) as session:
            yield session, ctx
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        ctx.close()


def worker(
    once: bool = typer.Option(False, "--once", help="One round of each outbox, then exit."),
    drain: bool = typer.Option(False, "--drain", help="Rounds until nothing is due, then exit."),
    batch: int = typer.Option(None, min=1, max=5000, help="Messages claimed per round (OMBUD_OUTBOX_BATCH_SIZE)."),
    worker_id: str = typer.Option(None, "--id", help="This worker's name in leases (default host:pid)."),
    idle: float = typer.Option(1.0, min=0.05, help="Seconds to sleep when nothing is due."),
    sweeps: bool = typer.Option(True, "--sweeps/--no-sweeps",
                                help="Also run the deadline sweeps (victim requests' 30-day clock, incident "
                                "notice deadlines) every OMBUD_WORKER_SWEEP_SECONDS."),
) -> None:
    """Send queued mail and webhooks: retries with backoff, dead letters after the last attempt; and keep the
    clocks: the victim-request sweep and the incident-deadline tick run on a schedule. Runs until interrupted;
    run several at once safely (each message is claimed by one worker under a lease; the sweeps act once)."""
    from ombud.keys import check_production_ready
    from ombud.notify.worker import OutboxWorker

    ctx = context()
    check_production_ready(ctx.settings)
    outbox.configure(ctx.settings)
    if batch:
        ctx.settings.outbox_batch_size = batch
    runner = OutboxWorker(ctx.settings, ctx.sessions, worker_id=worker_id,
                          jobs=scheduled_jobs(ctx.settings) if sweeps else None)
    try:
        if once or drain:
            runner.run_due_jobs()
            stats = runner.run_once() if once else runner.drain()
            runner.close()
            console.print(f"claimed {stats.claimed}, sent {stats.sent}, retry later {stats.retried}, "
                          f"dead {stats.dead}")
            return
        signal.signal(signal.SIGTERM, lambda *_: runner.stop.set())
        err_console.print(f"worker {runner.worker_id} sending with the {ctx.settings.mailer} mailer; Ctrl-C stops")
        try:
            runner.run_forever(idle_seconds=idle)
        except KeyboardInterrupt:
            runner.stop.set()
    finally:
        ctx.close()


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    """The deadline sweeps the worker keeps: the victim-request clock and the incident notice deadlines."""
    from datetime import timedelta

    from ombud.incidents.tracking import tick
    from ombud.notify.worker import ScheduledJob
    from ombud.victim_requests.sweep import sweep

    every = timedelta(seconds=settings.worker_sweep_seconds)
    return [ScheduledJob("victim-requests sweep", every, lambda session: sweep(session, settings)),
            ScheduledJob("incident deadlines", every, lambda session: tick(session, settings))]


def _status(cls: Any, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return cls(value.strip().lower())
    except ValueError:
        known = ", ".join(m.value for m in cls)
        raise InvalidInput(f"unknown status {value!r}; one of: {known}", field="status") from None


@outbox_app.command("list")
def list_mail(
    status: str = typer.Option(None, help="pending, sending, sent or dead."),
    purpose: str = typer.Option(None, help="Only this purpose or purpose prefix, e.g. lookback."),
    limit: int = typer.Option(50, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """Queued and sent mail, newest first, with the counts per status."""
    with _unit_of_work() as (session, _):
        rows = outbox.list_messages(session, status=_status(MailStatus, status), purpose=purpose, limit=limit)
        counts = outbox.status_counts(session)
    if as_json:
        for m in rows:
            typer.echo(json.dumps({"id": m.id, "status": m.status.value, "purpose": m.purpose, "template": m.template,
                                   "attempts": m.attempts, "last_error": m.last_error,
                                   "created_at": m.created_at.isoformat(),
                                   "sent_at": m.sent_at.isoformat() if m.sent_at else None}))
        return
    table = Table("id", "status", "purpose", "template", "attempts", "next / sent", "last error")
    for m in rows:
        when = m.sent_at if m.sent_at else m.next_attempt_at
        table.add_row(str(m.id), m.status.value, m.purpose, m.template, str(m.attempts),
                      when.strftime("%Y-%m-%d %H:%M:%S"), m.last_error or "")
    console.print(table)
    console.print("  ".join(f"{k}: {v}" for k, v in counts.items()))


@outbox_app.command("webhooks")
def list_hooks(
    status: str = typer.Option(None, help="pending, sending, delivered, confirmed, rejected or dead."),
    purpose: str = typer.Option(None, help="Only this purpose or prefix, e.g. remediation."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """Webhook commands to the retailer's systems, newest first."""
    with _unit_of_work() as (session, _):
        rows = webhooks.list_deliveries(session, status=_status(WebhookStatus, status), purpose=purpose, limit=limit)
        counts = webhooks.status_counts(session)
    table = Table("id", "status", "event", "purpose", "attempts", "HTTP", "last error")
    for d in rows:
        table.add_row(str(d.id), d.status.value, d.event, d.purpose, str(d.attempts),
                      str(d.last_status_code or ""), d.last_error or "")
    console.print(table)
    console.print("  ".join(f"{k}: {v}" for k, v in counts.items()))


@outbox_app.command("retry")
def retry(
    ids: list[int] = typer.Argument(None, help="Message ids (or webhook ids with --webhook)."),
    all_dead: bool = typer.Option(False, "--all-dead", help="Every dead message (or webhook)."),
    webhook: bool = typer.Option(False, "--webhook", help="The ids are webhooks, not mail."),
    actor: str = typer.Option("cli", "--as", help="Who retries (recorded in the audit log)."),
) -> None:
    """Send dead letters again now, from a fresh count of attempts (audited)."""
    with _unit_of_work() as (session, _):
        chosen = list(ids or [])
        if all_dead:
            if webhook:
                chosen += [d.id for d in webhooks.list_deliveries(session, status=WebhookStatus.dead, limit=1000)]
            else:
                chosen += [m.id for m in outbox.list_messages(session, status=MailStatus.dead, limit=1000)]
        if not chosen:
            raise InvalidInput("name ids to retry, or --all-dead", field="ids")
        for item in chosen:
            if webhook:
                webhooks.retry_delivery(session, item, actor=actor, actor_type="system")
            else:
                outbox.retry_message(session, item, actor=actor, actor_type="system")
    console.print(f"[green]{len(chosen)} queued again[/]")


@outbox_app.command("preview")
def preview(
    template: str = typer.Argument(..., help="Template name, e.g. records_package_ready."),
    context_file: Path = typer.Option(None, "--context", exists=True, dir_okay=False,
                                      help="JSON file of the template's fields (default: its sample)."),
    html: bool = typer.Option(False, "--html", help="Print the HTML part instead of the text."),
) -> None:
    """Render a template as it would be sent; a missing field is named."""
    ctx = context()
    folder = ctx.settings.mail_templates_dir
    try:
        data = read_json(context_file) if context_file else templates.sample_context(template, folder)
        rendered = templates.render(template, data, folder)
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}")
        raise typer.Exit(2) from exc
    except ValueError as exc:
        err_console.print(f"[bold red]error (context):[/] not JSON: {exc}")
        raise typer.Exit(2) from exc
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if html else rendered.text, nl=False)


@outbox_app.command("templates")
def list_templates() -> None:
    """Every mail template and where it comes from (shipped, or the retailer's folder)."""
    ctx = context()
    folder = ctx.settings.mail_templates_dir
    table = Table("template", "from", "html part")
    for name in templates.available(folder):
        has_html = any((d / f"{name}.html.j2").is_file() for d in (folder, templates.SHIPPED_DIR) if d)
        table.add_row(name, templates.origin(name, folder), "yes" if has_html else "no")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.command("worker")(worker)
    app.add_typer(outbox_app, name="outbox")
