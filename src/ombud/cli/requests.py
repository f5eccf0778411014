"""Commands of victims' records requests: `ombud requests list|show|evidence|receive-letter|verify|information|
discover|verdict|finish-review|decline|sweep|sla`. They call the same workflow as the API and the pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.orm import Session

from ombud.cli import common
from ombud.cli.common import console, fail
from ombud.context import Context
from ombud.staff.models import Employee

requests_app = typer.Typer(help="Victims' records requests (FCRA 609(e)): the queue, verification, declines, "
                                "the 30-day clock.", no_args_is_help=True)
AS_HELP = "The employee acting (directory id or email)."


@contextmanager
def _work() -> Iterator[tuple[Session, Context]]:
    from ombud.notify import outbox

    ctx = common.context()  # looked up at call time, so tests can hand in their own
    outbox.configure(ctx.settings)  # mail is queued with this process's settings (templates, sender)
    try:
        with ctx.sessions() as session, session.begin():
            yield session, ctx
    finally:
        ctx.close()


def _who(session: Session, ref: str) -> Employee:
    from ombud.access.service import find_employee

    return find_employee(session, ref)


@requests_app.command("list")
def list_command(
    status: str = typer.Option(None, help="Only this stage (received, verifying, needs_information, ...)."),
    overdue: bool = typer.Option(False, "--overdue", help="Only requests past their due date."),
    sort: str = typer.Option("due", help="due (overdue first), received or reference."),
    limit: int = typer.Option(100, min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The queue: open requests by due date, overdue first (references and dates only)."""
    from ombud.victim_requests import service, views
    from ombud.victim_requests.states import Status

    with _work() as (session, ctx):
        wanted = Status(status) if status else None
        rows, total = service.list_requests(session, status=wanted, overdue_only=overdue, sort=sort, limit=limit)
        items = views.summaries(session, ctx.settings, rows)
    if as_json:
        console.print_json(json.dumps({"total": total, "items": [i.model_dump(mode="json") for i in items]}))
        return
    table = Table("reference", "stage", "channel", "received", "due", "days left", "assignee", "repeat of",
                  title=f"{total} requests")
    for i in items:
        left = f"[red]overdue {-i.days_left}[/]" if i.overdue else str(i.days_left)
        table.add_row(i.reference, i.status.value, i.channel.value, f"{i.received_at:%Y-%m-%d %H:%M}",
                      f"{i.due_at:%Y-%m-%d %H:%M}", left, i.assignee or "", i.repeat_of or "")
    console.print(table)


@requests_app.command("show")
def show_command(ref: str = typer.Argument(..., help="Reference (VR-XXXX-XXXX) or id."),
                 actor: str = typer.Option(..., "--as", help=AS_HELP),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """A request with its identifiers, evidence, verification, matches and timeline (the opening is audited)."""
    from ombud.victim_requests import service, views

    with _work() as (session, ctx):
        page = views.detail(session, ctx.keys, ctx.settings, service.find_request(session, ref), _who(session, actor))
    if as_json:
        console.print_json(page.model_dump_json())
        return
    overdue = " [red]OVERDUE[/]" if page.overdue else ""
    console.print(f"[bold]{page.reference}[/] {page.status.value} via {page.channel.value}; received "
                  f"{page.received_at:%Y-%m-%d %H:%M} UTC, day {page.day}, due {page.due_at:%Y-%m-%d %H:%M} UTC "
                  f"({page.days_left} days left){overdue}")
    if page.earlier_requests:
        console.print("earlier requests: " + ", ".join(page.earlier_requests))
    console.print(f"evidence: {', '.join(e.kind.value for e in page.evidence) or 'none'}")
    for v in page.verifications:
        console.print(f"verification {v.decided_at:%Y-%m-%d}: {'confident' if v.confident else 'not confident'} "
                      f"({', '.join(v.basis) or '-'}) by {v.decided_by or 'system'}")
    if page.matches:
        table = Table("#", "kind", "id", "account", "probability", "suggested", "verdict", "summary")
        for m in page.matches:
            table.add_row(str(m.id), m.subject_kind.value, m.subject_id, m.account_ref or "",
                          "" if m.probability is None else f"{m.probability:.3f}", m.suggested or "",
                          m.verdict.value if m.verdict else "-", m.summary or "")
        console.print(table)
    for d in page.declines:
        console.print(f"decline {d.id}: {d.ground.value} ({d.state}), proposed by {d.proposed_by}")
    timeline = Table("when", "what", "who", "leaf", title="timeline")
    for e in page.timeline:
        what = e.kind + (f" {e.from_status} -> {e.to_status}" if e.to_status else "")
        timeline.add_row(f"{e.at:%Y-%m-%d %H:%M}", what, e.actor, "" if e.audit_index is None else str(e.audit_index))
    console.print(timeline)


@requests_app.command("evidence")
def evidence_command(
    ref: str = typer.Argument(..., help="Reference (VR-XXXX-XXXX) or id."),
    evidence_id: int = typer.Argument(..., help="The file's id (as `requests show` lists it)."),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="Where to write the file (must not exist yet)."),
    actor: str = typer.Option(None, "--as", help=AS_HELP + " Must be the token's holder (default: the holder)."),
    token: str = typer.Option(None, "--token", envvar="OMBUD_TOKEN", show_envvar=True,
                              help="The employee's API token (better in OMBUD_TOKEN than on the command line)."),
) -> None:
    """Open one evidence file through the access broker, the request as purpose, as the holder of an API token:
    written to --out (readable by you only) when allowed; refused openings exit 3. Either way the decision is on
    the record with the channel ``cli`` and the machine account that ran the command."""
    from ombud.cli.access import operator_of_shell, token_holder
    from ombud.errors import InvalidInput
    from ombud.victim_requests import service

    if out.exists():
        raise InvalidInput(f"{out} exists; name a new file", field="out")
    with _work() as (session, ctx):
        employee = token_holder(session, token, actor)
        opened = service.open_evidence(session, ctx.keys, service.find_request(session, ref), evidence_id,
                                       employee, channel="cli", operator=operator_of_shell())
    decision = opened.decision
    if opened.data is None:
        raise fail(f"refused: {decision.reason} (audit leaf {decision.audit_index})", code=3)
    with open(out, "xb") as handle:  # never over a file that appeared meanwhile
        out.chmod(0o600)
        handle.write(opened.data)
    console.print(f"{opened.evidence.kind.value} ({opened.evidence.content_type}, {opened.evidence.size} bytes) "
                  f"written to {out}; audit leaf {decision.audit_index}")


@requests_app.command("receive-letter")
def receive_letter_command(
    letter: Path = typer.Argument(..., exists=True, dir_okay=False,
                                  help="The letter's details (JSON): full_name, email or address, date_of_birth, ..."),
    received_at: datetime = typer.Option(..., "--received-at", help="When it reached the designated address "
                                         "(ISO 8601; without a zone: the channel's time zone)."),
    channel: str = typer.Option("mail", help="mail or email."),
    scan: Path = typer.Option(None, "--scan", exists=True, dir_okay=False, help="The scan (PDF, JPEG or PNG)."),
    actor: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Enter a mailed letter or an email: the clock runs from when it reached the designated channel."""
    from ombud.victim_requests import service, workflow
    from ombud.victim_requests.models import EvidenceKind
    from ombud.victim_requests.schemas import LetterIn

    body = common.read_json(letter)
    if not isinstance(body, dict):
        raise fail(f"{letter}: must be a JSON object of the letter's details")
    with _work() as (session, ctx):
        when = received_at if received_at.tzinfo else received_at.replace(tzinfo=service.zone_of(ctx.settings))
        try:
            data = LetterIn.model_validate({**body, "channel": channel, "received_at": when})
        except ValidationError as exc:
            error = exc.errors()[0]
            raise fail(f"{letter}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}") from exc
        uploads = [service.Upload(EvidenceKind.letter, scan.name, scan.read_bytes(), field="scan")] if scan else []
        intake = service.receive_letter(session, ctx.keys, ctx.settings, data, entered_by=_who(session, actor),
                                        uploads=uploads)
        workflow.send_receipt(session, ctx.keys, ctx.settings, intake.request, intake.token)
        request = intake.request
        repeat = f"; a repeat of {intake.repeat_of.reference}" if intake.repeat_of else ""
        console.print(f"[green]{request.reference}[/] received {request.received_at:%Y-%m-%d %H:%M} UTC, due "
                      f"{request.due_at:%Y-%m-%d %H:%M} UTC{repeat}")


@requests_app.command("verify")
def verify_command(
    ref: str = typer.Argument(...),
    confident: bool = typer.Option(..., "--confident/--not-confident",
                                   help="Whether a high degree of confidence in the requester's identity is reached."),
    basis: list[str] = typer.Option([], "--basis", help="identifiers_match_records, government_id_checked, "
                                    "report_present, affidavit_present, applicant_information (repeat)."),
    note: str = typer.Option(None, "--note"),
    actor: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Record the identity decision and its basis."""
    from ombud.victim_requests import service, workflow

    with _work() as (session, ctx):
        request = service.find_request(session, ref)
        workflow.verify(session, ctx.keys, request, actor=_who(session, actor), confident=confident, basis=basis,
                        note=note)
        console.print(f"{request.reference}: {request.status.value}")


@requests_app.command("information")
def information_command(ref: str = typer.Argument(...), what: str = typer.Option(..., "--what"),
                        actor: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Ask the requester for more information (the clock keeps running)."""
    from ombud.victim_requests import service, workflow

    with _work() as (session, ctx):
        request = service.find_request(session, ref)
        workflow.request_information(session, ctx.keys, ctx.settings, request, actor=_who(session, actor), what=what)
        console.print(f"{request.reference}: {request.status.value}; due {request.due_at:%Y-%m-%d %H:%M} UTC")


@requests_app.command("discover")
def discover_command(ref: str = typer.Argument(...), actor: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Run discovery under the request (its verified identifiers; audited) and list what it found."""
    from ombud.victim_requests import discovery, service

    with _work() as (session, ctx):
        request = service.find_request(session, ref)
        run = discovery.run(session, ctx.keys, request, actor=_who(session, actor))
        console.print(f"{request.reference}: {run.total} matches ({run.added} new), {run.result.candidates} candidates")


@requests_app.command("verdict")
def verdict_command(ref: str = typer.Argument(...), match_id: int = typer.Argument(...),
                    verdict: str = typer.Option(..., "--verdict", help="fraud, own or unrelated."),
                    note: str = typer.Option(None, "--note"),
                    actor: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Mark a found account, card or application."""
    from ombud.victim_requests import service, workflow

    with _work() as (session, _ctx):
        request = service.find_request(session, ref)
        match = workflow.set_verdict(session, request, match_id, actor=_who(session, actor), verdict=verdict,
                                     note=note)
        console.print(f"{match.subject_kind.value} {match.subject_id}: {match.verdict.value if match.verdict else ''}")


@requests_app.command("finish-review")
def finish_review_command(ref: str = typer.Argument(...), actor: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """Every match decided, at least one fraud: on to the records package."""
    from ombud.victim_requests import service, workflow

    with _work() as (session, _ctx):
        request = workflow.finish_review(session, service.find_request(session, ref), actor=_who(session, actor))
        console.print(f"{request.reference}: {request.status.value}")


@requests_app.command("decline")
def decline_command(
    ref: str = typer.Argument(...),
    ground: str = typer.Option(None, "--ground", help="not_required, identity_not_confirmed, misrepresentation or "
                               "navigational_data (the four statutory grounds; nothing else)."),
    explanation: str = typer.Option(None, "--explanation", help="What the decline rests on (20+ characters)."),
    confirm: int = typer.Option(None, "--confirm", help="Confirm this proposed decline (a privacy officer who did "
                                "not propose it)."),
    reject: int = typer.Option(None, "--reject", help="Reject this proposed decline."),
    note: str = typer.Option(None, "--note"),
    actor: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Propose a decline on a statutory ground, or confirm or reject one proposed by someone else."""
    from ombud.victim_requests import service, workflow

    chosen = [x for x in (ground, confirm, reject) if x is not None]
    if len(chosen) != 1:
        raise fail("give --ground (to propose), or --confirm ID, or --reject ID")
    with _work() as (session, ctx):
        request = service.find_request(session, ref)
        who = _who(session, actor)
        if ground is not None:
            decline = workflow.propose_decline(session, request, actor=who, ground=ground,
                                               explanation=explanation or "")
            console.print(f"decline {decline.id} proposed on {decline.ground.value}; another privacy officer decides")
            return
        decline_id = confirm if confirm is not None else reject
        assert decline_id is not None
        decline = workflow.review_decline(session, ctx.keys, request, decline_id, actor=who,
                                          confirm=confirm is not None, note=note)
        console.print(f"decline {decline.id} {decline.state.value}; request {request.status.value}")


@requests_app.command("sweep")
def sweep_command(as_json: bool = typer.Option(False, "--json")) -> None:
    """The 30-day clock's sweep: reminders on the configured days, escalation, overdue; each once."""
    from ombud.victim_requests.sweep import sweep

    with _work() as (session, ctx), console.status("sweeping open requests"):
        report = sweep(session, ctx.settings)
    if as_json:
        console.print_json(report.model_dump_json())
        return
    console.print(f"{report.checked:,} open requests checked in {report.seconds} s: {report.reminders} reminders, "
                  f"{report.escalations} escalations, {report.overdue} newly overdue")


@requests_app.command("sla")
def sla_command(as_json: bool = typer.Option(False, "--json"),
                window_days: int = typer.Option(365, min=1, max=3650)) -> None:
    """The SLA figures: open by days left, overdue, days to close, declines by ground, channels."""
    from ombud.victim_requests import sla

    with _work() as (session, ctx):
        report = sla.report(session, ctx.settings, window_days=window_days)
    if as_json:
        console.print_json(report.model_dump_json())
        return
    table = Table("measure", "value")
    rows: list[tuple[str, Any]] = [("open", report.open), ("overdue (goal 0)", report.overdue),
                                   ("median days to close", report.median_days_to_close),
                                   ("p95 days to close", report.p95_days_to_close)]
    rows += [(f"days left {k}", v) for k, v in report.by_days_left.items()]
    rows += [(f"declined: {k}", v) for k, v in report.declines_by_ground.items()]
    rows += [(f"channel {k}", v) for k, v in report.by_channel.items()]
    for label, value in rows:
        table.add_row(label, "-" if value is None else str(value))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(requests_app, name="requests")
