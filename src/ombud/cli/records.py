"""`ombud requests package / deliver / authorise-agency / remediate / records / verify-package` and
`ombud lookback import / plan / send / list`: a request's records package, its delivery and remediation, and the
look-back re-contact."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from ombud.cli.common import console, err_console
from ombud.cli.notify import _unit_of_work  # one transaction per command, errors named, exit 2
from ombud.errors import InvalidInput
from ombud.lookback import service as lookback
from ombud.lookback.models import ContactStatus
from ombud.records import service as records
from ombud.records.models import AuthorisationBasis, Verification
from ombud.victim_requests import agency, delivery, remediation, service
from ombud.victim_requests.package import package_request

AS_HELP = "The employee acting (directory id or email); default: the system."
lookback_app = typer.Typer(help="Re-contact everyone who asked about identity theft since a date and got no "
                                "records: import past contacts, plan, send, track.", no_args_is_help=True)


def _actor(session: Session, ref: str | None):
    if not ref:
        return None
    from ombud.access.service import find_employee

    return find_employee(session, ref)


def package(
    ref: str = typer.Argument(..., help="The request's reference (VR-…)."),
    navigational: bool = typer.Option(False, "--navigational", help="Include sign-in history (left out by default)."),
    actor: str = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Generate the request's records package from its confirmed-fraud matches (again on a repeat)."""
    with _unit_of_work() as (session, ctx):
        request = service.find_request(session, ref)
        made = package_request(session, ctx.settings, request, actor=_actor(session, actor),
                               include_navigational=navigational)
        path = records.package_file(ctx.settings, made)
        counts = made.counts
        sha, index = made.manifest_sha256, made.audit_index
    console.print(f"[green]package {made.file_name}[/] ({counts['accounts']} accounts, {counts['orders']} orders)")
    console.print(f"file: {path}\nmanifest SHA-256: {sha}\naudit leaf: {index}")


def deliver(
    ref: str = typer.Argument(..., help="The request's reference."),
    to: str = typer.Option("victim", help="victim or agency."),
    authorisation: int = typer.Option(None, help="The agency authorisation id (with --to agency)."),
    address: str = typer.Option(None, help="The agency's address (must be the authorised one)."),
    postal: bool = typer.Option(False, "--postal", help="Record that the package was posted to the victim."),
    tracking: str = typer.Option(None, help="Postal tracking number."),
    verify: str = typer.Option("reference", help="How the victim's link is checked: reference or code."),
    days: int = typer.Option(delivery.DEFAULT_DAYS, min=1, max=90, help="Days the link works."),
    downloads: int = typer.Option(delivery.DEFAULT_DOWNLOADS, min=1, max=50, help="Downloads the link allows."),
    actor: str = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Deliver the newest package: a link mailed to the victim or an authorised agency, or a posted copy."""
    with _unit_of_work() as (session, ctx):
        request = service.find_request(session, ref)
        who = _actor(session, actor)
        if postal:
            made = delivery.record_postal(session, ctx.settings, ctx.keys, request, actor=who, tracking=tracking)
            console.print(f"[green]postal delivery {made.id} recorded[/]")
            return
        if to == "agency":
            if authorisation is None or not address:
                raise InvalidInput("an agency delivery needs --authorisation and --address", field="authorisation")
            made, token = delivery.deliver_to_agency(session, ctx.settings, ctx.keys, request, authorisation,
                                                     actor=who, address=address, days=days, max_downloads=downloads)
        elif to == "victim":
            made, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=who,
                                                     verification=Verification(verify), days=days,
                                                     max_downloads=downloads)
        else:
            raise InvalidInput("--to is victim or agency", field="to")
        link = delivery.link_for(ctx.settings, token)
    console.print(f"[green]delivery {made.id}[/]: link mailed (through the outbox) to the {to}; it works until "
                  f"{made.expires_at:%Y-%m-%d %H:%M} UTC, {downloads} downloads")
    console.print(f"link (shown once, not stored): {link}")


def authorise_agency(
    ref: str = typer.Argument(..., help="The request's reference."),
    agency_name: str = typer.Option(None, "--agency", help="The police department or agency."),
    officer: str = typer.Option(None, help="The officer or investigator."),
    case: str = typer.Option(None, "--case", help="Badge or case number."),
    email: str = typer.Option(None, help="Where the agency receives its link."),
    phone: str = typer.Option(None),
    source: str = typer.Option("letter", help="portal, letter or staff."),
    from_request: bool = typer.Option(False, "--from-request", help="The agency the victim named on the request."),
    legal_process: bool = typer.Option(False, "--legal-process",
                                       help="An agency asking on its own (no victim authorisation): recorded only."),
    actor: str = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Record a law-enforcement agency the victim authorised (or an agency's own request: the subpoena path)."""
    with _unit_of_work() as (session, ctx):
        request = service.find_request(session, ref)
        who = _actor(session, actor)
        if from_request:
            made = agency.from_portal(session, ctx.keys, request, actor=who)
        else:
            made = agency.record_authorisation(
                session, request, agency=agency_name or "", officer=officer or "", badge_or_case=case or "",
                email=email or "", phone=phone, source=source, actor=who,
                basis=AuthorisationBasis.legal_process if legal_process else AuthorisationBasis.victim)
        basis = made.basis
        made_id = made.id
    if basis is AuthorisationBasis.legal_process:
        console.print(f"[yellow]recorded agency request {made_id}[/]: {agency.LEGAL_PROCESS_TEXT}")
    else:
        console.print(f"[green]authorisation {made_id} recorded[/]; deliver with "
                      f"`ombud requests deliver {ref} --to agency --authorisation {made_id} --address …`")


def remediate(
    ref: str = typer.Argument(..., help="The request's reference."),
    retry: int = typer.Option(None, help="Retry this failed step."),
    close: bool = typer.Option(False, "--close", help="Close the request (refused while a step is unconfirmed)."),
    actor: str = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Start the remediation steps (once each), retry a failed one, or close; shows every step."""
    with _unit_of_work() as (session, ctx):
        request = service.find_request(session, ref)
        who = _actor(session, actor)
        if retry is not None:
            remediation.retry(session, ctx.settings, ctx.keys, request, retry, actor=who)
        elif close:
            remediation.close(session, request, actor=who)
        else:
            remediation.plan(session, ctx.settings, ctx.keys, request, actor=who)
        steps = remediation.sync(session, request.id)
        rows = [(str(s.id), remediation.LABELS[s.action], f"{s.subject_kind.value} {s.subject_id}", s.mode,
                 s.status.value, s.detail or "") for s in steps]
        status = request.status.value
    table = Table("step", "action", "subject", "mode", "status", "detail")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"request {ref}: {status}")


def show(ref: str = typer.Argument(..., help="The request's reference.")) -> None:
    """A request's packages, deliveries (with downloads) and agency authorisations."""
    with _unit_of_work() as (session, _ctx):
        request = service.find_request(session, ref)
        packages = records.packages_of(session, request.id)
        deliveries = delivery.deliveries_of(session, request.id)
        table = Table("package", "generated", "accounts", "orders", "navigational", "manifest SHA-256", "leaf")
        for p in packages:
            table.add_row(p.file_name + (" (superseded)" if p.superseded_at else ""),
                          f"{p.generated_at:%Y-%m-%d %H:%M}", str(p.counts.get("accounts")),
                          str(p.counts.get("orders")), "included" if p.navigational_included else "left out",
                          p.manifest_sha256[:16] + "…", str(p.audit_index))
        console.print(table)
        table = Table("delivery", "to", "channel", "status", "expires", "downloads")
        for d in deliveries:
            table.add_row(str(d.id), d.recipient.value, d.channel.value, d.status.value,
                          f"{d.expires_at:%Y-%m-%d}" if d.expires_at else "—", f"{d.downloads}/{d.max_downloads}")
        console.print(table)
        for a in agency.authorisations_of(session, request.id):
            console.print(f"agency {a.id}: {a.agency}, {a.officer}, {a.badge_or_case} ({a.basis.value}, {a.source})")


def verify_package(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The package's zip.")) -> None:
    """Check a package against the audit log: each file against the manifest, the manifest against its leaf."""
    with _unit_of_work() as (session, _):
        result = records.verify_package(session, file.read_bytes())
    for problem in result.problems:
        err_console.print(f"[bold red]✗[/] {problem}")
    for note in result.notes:
        console.print(f"[yellow]![/] {note}")
    if not result.ok:
        raise typer.Exit(1)
    console.print(f"[green]✓ {result.name}[/]: {result.files_checked} files match the manifest; manifest SHA-256 "
                  f"{result.manifest_sha256} is audit leaf {result.audit_index}"
                  + (f", proven in the signed checkpoint of size {result.in_checkpoint}" if result.in_checkpoint
                     else ""))


# --- look-back ---------------------------------------------------------------------------------------------


@lookback_app.command("import")
def lookback_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of past contacts (docs/records.md)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the good rows even when some are bad."),
    actor: str = typer.Option("cli", "--as", help="Who imports (recorded)."),
) -> None:
    """Import past contacts about identity theft; every bad row is named by line and field."""
    with _unit_of_work() as (session, ctx):
        result = lookback.import_contacts(session, ctx.keys, file.read_bytes(), actor=actor, skip_bad=skip_bad)
    for error in result.errors[:200]:
        err_console.print(f"[red]{file.name}: {error}[/]")
    if len(result.errors) > 200:
        err_console.print(f"… and {len(result.errors) - 200} more")
    if result.errors and not skip_bad:
        err_console.print(f"[bold red]nothing imported:[/] {len({e.line for e in result.errors})} bad rows "
                          "(fix them, or --skip-bad)")
        raise typer.Exit(2)
    console.print(f"[green]imported {result.imported}[/], already held {result.already_held}")


@lookback_app.command("plan")
def lookback_plan(since: str = typer.Option(lookback.DEFAULT_SINCE.isoformat(), help="Cut-off date.")) -> None:
    """Decide who gets a letter: contacted since the cut-off and got no records."""
    with _unit_of_work() as (session, _):
        result = lookback.plan(session, since=_date(since))
    console.print(f"candidates: {result.candidates} ({result.by_email} by email, {result.by_post} by post)")
    for reason, count in result.excluded.most_common():
        console.print(f"  excluded, {reason}: {count}")


@lookback_app.command("send")
def lookback_send(
    since: str = typer.Option(lookback.DEFAULT_SINCE.isoformat(), help="Cut-off date."),
    actor: str = typer.Option("cli", "--as", help="Who sends (recorded)."),
) -> None:
    """Queue the letter to every candidate (email through the outbox; a printable file for post)."""
    with _unit_of_work() as (session, ctx):
        sent = lookback.send(session, ctx.settings, ctx.keys, actor=actor, since=_date(since))
        campaign = sent.campaign.id
    console.print(f"[green]campaign {campaign}[/]: {sent.emails} emails queued (run `ombud worker`)")
    if sent.letters_file:
        console.print(f"postal letters to print: {sent.letters_file}")


@lookback_app.command("list")
def lookback_list(status: str = typer.Option(None, help="imported, candidate, excluded, queued, sent, bounced, "
                                                       "responded."),
                  limit: int = typer.Option(100, min=1, max=10000)) -> None:
    """Past contacts and what the look-back did about each (names are not shown: references only)."""
    with _unit_of_work() as (session, _):
        lookback.link_responses(session)
        try:
            chosen = ContactStatus(status) if status else None
        except ValueError:
            raise InvalidInput(f"unknown status {status!r}", field="status") from None
        rows = [(c.reference, c.source_ref, f"{c.contacted_at:%Y-%m-%d}", c.status.value, c.excluded_reason or "",
                 str(c.request_id or "")) for c in lookback.list_contacts(session, status=chosen, limit=limit)]
        counts = lookback.counts(session)
    table = Table("reference", "ticket", "contacted", "status", "why not", "new request")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print("  ".join(f"{k}: {v}" for k, v in counts.items()))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date like 2024-04-01", field="since") from None


def _requests_group(app: typer.Typer) -> typer.Typer:
    """The `ombud requests` group (victim requests' own commands), or a new one when it is not there."""
    for group in app.registered_groups:
        if group.name == "requests" and group.typer_instance is not None:
            return group.typer_instance
    group_app = typer.Typer(help="Victims' records requests (FCRA 609(e)).", no_args_is_help=True)
    app.add_typer(group_app, name="requests")
    return group_app


def register(app: typer.Typer) -> None:
    """Add these commands: to the `requests` group, and the `lookback` group."""
    group = _requests_group(app)
    group.command("package")(package)
    group.command("deliver")(deliver)
    group.command("authorise-agency")(authorise_agency)
    group.command("remediate")(remediate)
    group.command("records")(show)
    group.command("verify-package")(verify_package)
    app.add_typer(lookback_app, name="lookback")
