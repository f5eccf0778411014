"""`ombud access ...` and `ombud cases ...`: the broker, grants, break-glass, reviews and cases from a shell.

Commands that act for an employee take `--as` (directory id or email); approval rules depend on who acts.
Commands that only administer (open a case for a workflow, sweep) act as the system when `--as` is absent.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy.orm import Session

from ombud.access import breakglass, broker, cases, grants, reviews, service, transparency
from ombud.access.models import (
    BreakGlassReview,
    CaseOrigin,
    CaseStatus,
    CaseType,
    GrantKind,
    GrantStatus,
    ReviewDecision,
)
from ombud.access.policy import default_engine
from ombud.cli import common
from ombud.cli import tables as cli_tables
from ombud.cli.common import console, err_console
from ombud.db import transaction
from ombud.errors import InvalidInput, OmbudError
from ombud.staff import service as staff_service
from ombud.staff.models import Employee

access_app = typer.Typer(help="The access broker: reads, grants, break-glass, reviews, policies.", no_args_is_help=True)
grants_app = typer.Typer(help="Just-in-time and standing grants.", no_args_is_help=True)
glass_app = typer.Typer(help="Break-glass emergency access (always raised to security).", no_args_is_help=True)
reviews_app = typer.Typer(help="Minimisation report and recertification rounds.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases: the purposes staff read customer data for.", no_args_is_help=True)
access_app.add_typer(grants_app, name="grants")
access_app.add_typer(glass_app, name="break-glass")
access_app.add_typer(reviews_app, name="reviews")

AS_HELP = "The employee acting (directory id or email)."


@contextmanager
def _unit_of_work() -> Iterator[tuple[Session, Any]]:
    """One transaction for the command; a domain error is printed with its field and exits 2, nothing written."""
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


def _who(session: Session, ref: str | None, *, required: bool = True) -> Employee | None:
    if not ref:
        if required:
            raise InvalidInput("name the employee acting with --as", field="as")
        return None
    return service.find_employee(session, ref)


def _enum(cls: Any, value: str | None, field: str) -> Any:
    if value is None:
        return None
    try:
        return cls(value.strip().lower().replace("-", "_"))
    except ValueError:
        known = ", ".join(m.value for m in cls)
        raise InvalidInput(f"unknown {field} {value!r}; one of: {known}", field=field) from None


def _time(value: Any) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _show(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "—" if value is None else str(value)


# --- the broker -----------------------------------------------------------------------------------------------


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.\-]")


def operator_of_shell() -> str:
    """Who runs this command on this machine, as ``user:host`` (letters, digits, ``_ . -`` only: never an email)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container)
        user = f"uid{os.getuid()}"
    host = socket.gethostname()
    return f"{_SAFE_NAME.sub('_', user)[:40]}:{_SAFE_NAME.sub('_', host)[:40]}"


def token_holder(session: Session, token: str | None, actor: str | None) -> Employee:
    """The employee whose API token this is (and who ``--as`` names, when given): a shell reads only as the
    holder of a live token of theirs, never as anyone it names."""
    if not token:
        raise InvalidInput("a command-line read needs the employee's API token: set OMBUD_TOKEN (or --token)",
                           field="token")
    holder = staff_service.resolve_api_token(session, token.strip())
    if holder is None:
        raise InvalidInput("the API token is unknown, revoked or expired, or its employee has left", field="token")
    if actor:
        named = service.find_employee(session, actor)
        if named.id != holder.id:
            raise InvalidInput("--as names another employee than the token's holder", field="as")
    return holder


@access_app.command("read")
def read(
    customer_id: str = typer.Argument(..., help="The customer's account id."),
    actor: str = typer.Option(None, "--as", help=AS_HELP + " Must be the token's holder (default: the holder)."),
    token: str = typer.Option(None, "--token", envvar="OMBUD_TOKEN", show_envvar=True, hidden=False,
                              help="The employee's API token (better in OMBUD_TOKEN than on the command line)."),
    purpose: str = typer.Option(None, help="case:<id>, grant:<id> or break_glass:<id>."),
    field: list[str] = typer.Option(None, "--field", "-f", help="A field to read (repeatable)."),
    data_class: list[str] = typer.Option(None, "--class", "-c", help="A data class to read (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the view as JSON."),
) -> None:
    """Read a customer's fields through the broker as the holder of an API token (masked where denied; refused
    reads exit 3, on the record with the channel ``cli`` and the machine account that ran the command). A value
    that is not a customer id (a phone, an email...) exits 2: it is recorded as a probe by a keyed hash of what
    was typed, never as typed, as the API does."""
    with _unit_of_work() as (session, ctx):
        employee = token_holder(session, token, actor)
        view = broker.read(session, employee, customer_id=customer_id, fields=field or None,
                           classes=data_class or None, purpose=purpose, cipher=ctx.keys.field_cipher,
                           channel="cli", operator=operator_of_shell(), probe_key=ctx.keys.identifier_hash_key)
    if view.field is not None:  # malformed input, recorded as a probe: an input error, like the API's 422
        err_console.print(f"[bold red]error ({view.field}):[/] {view.reason} (the probe is audit leaf "
                          f"{view.audit_index}, by a keyed hash)")
        raise typer.Exit(2)
    if as_json:
        console.print_json(json.dumps({
            "decision": view.decision.value, "customer_id": view.customer_id, "purpose": view.purpose,
            "reason": view.reason, "fields": view.fields, "masked": list(view.masked), "classes": view.classes,
            "policy_ids": list(view.policy_ids), "audit_index": view.audit_index,
        }, ensure_ascii=False, default=str))
    elif view.refused:
        err_console.print(f"[bold red]refused:[/] {view.reason} (audit leaf {view.audit_index})")
    else:
        table = cli_tables.table("field", "value", title=f"{view.customer_id} for {view.purpose}: "
                                 f"{view.decision.value}")
        for name, value in view.fields.items():
            masked = " [yellow](masked)[/]" if name in view.masked else ""
            table.add_row(cli_tables.words(name) + masked, _show(value))
        console.print(table)
        console.print(f"audit leaf {view.audit_index}; policies: {', '.join(view.policy_ids)}")
    if view.refused:
        raise typer.Exit(3)


@access_app.command("decisions")
def decisions(
    limit: int = typer.Option(30, min=1, max=500),
    customer_id: str = typer.Option(None, "--customer", help="Only this customer."),
) -> None:
    """The broker's latest decisions."""
    with _unit_of_work() as (session, _ctx):
        rows = broker.recent_decisions(session, limit=limit, customer_id=customer_id)
        who = cli_tables.names(session, (r.employee_id for r in rows))
        table = cli_tables.table("when (UTC)", "employee", "customer", "purpose", "decision", "data")
        for r in rows:
            shown = ", ".join(cli_tables.words(c) for c in r.classes_allowed)
            masked = ", ".join(cli_tables.words(c) for c in r.classes_masked)
            data = (shown or "—") + (f"; masked: {masked}" if masked else "")
            table.add_row(cli_tables.when(r.at), who.get(r.employee_id or 0, r.employee or "—"),
                          r.customer_id or "(evidence file)", r.purpose,
                          r.decision.value + (f": {r.reason}" if r.reason else ""), data)
    console.print(table)


@access_app.command("transparency")
def show_transparency(customer_id: str = typer.Argument(..., help="The customer's account id.")) -> None:
    """Who accessed a customer's data and why (team and region, never names)."""
    with _unit_of_work() as (session, _ctx):
        entries = transparency.accesses(session, customer_id)
    table = cli_tables.table("when (UTC)", "data", "purpose", "who", title=f"Accesses to {customer_id}'s data")
    for e in entries:
        table.add_row(cli_tables.when(e.at), ", ".join(cli_tables.words(c) for c in e.data_classes), e.purpose_label,
                      f"{e.team} ({e.region})")
    console.print(table)


@access_app.command("policies")
def policies(
    record: bool = typer.Option(False, "--record", help="Record the policy version (audited if new)."),
) -> None:
    """List the Cedar policies (validated against the schema) and their hash."""
    engine = default_engine()
    table = cli_tables.table("policy", "effect", "reason")
    for p in engine.policies.values():
        table.add_row(f"{p.id}\n({p.file})", p.effect, p.reason)
    console.print(table)
    console.print(f"policy set {engine.digest}")
    if record:
        with _unit_of_work() as (session, _ctx):
            _engine, changed = service.check_policies(session, engine)
        console.print("[green]new policy version recorded (audit event written)[/]" if changed else "unchanged")


@access_app.command("sweep")
def sweep() -> None:
    """Record the expiry of every grant past its end (reads refuse them from the clock already)."""
    with _unit_of_work() as (session, _ctx):
        expired = service.sweep(session)
    console.print(f"{len(expired)} grant(s) expired")


@access_app.command("profile")
def profile(
    employee: str = typer.Argument(..., help="Directory id or email."),
    daily_limit: int = typer.Option(None, help="Reads per UTC day."),
    shift: str = typer.Option(None, help="Shift hours START-END in the employee's time zone, e.g. 8-17 or 22-6."),
    timezone: str = typer.Option(None, help="IANA time zone, e.g. America/Chicago."),
    actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system."),
) -> None:
    """Show or set an employee's daily limit, shift hours and time zone."""
    start = end = None
    if shift:
        try:
            start, end = (int(part) for part in shift.split("-", 1))
        except ValueError:
            err_console.print("[bold red]error (shift):[/] give the shift as START-END hours, e.g. 8-17")
            raise typer.Exit(2) from None
    with _unit_of_work() as (session, _ctx):
        target = service.find_employee(session, employee)
        if daily_limit is None and shift is None and timezone is None:
            p = service.profile_of(session, target)
        else:
            p = service.set_profile(session, target, actor=_who(session, actor, required=False),
                                    daily_limit=daily_limit, shift_start=start, shift_end=end, timezone=timezone)
    console.print(f"{employee}: {p.daily_limit} reads/day, shift {p.shift_start}-{p.shift_end} {p.timezone}")


# --- grants ---------------------------------------------------------------------------------------------------


@grants_app.command("request")
def grant_request(
    actor: str = typer.Option(..., "--as", help=AS_HELP),
    data_class: str = typer.Option(..., "--class", help="The data class, e.g. payment."),
    justification: str = typer.Option(..., help="Why this access, now."),
    customer_id: str = typer.Option(None, "--customer", help="The customer (just-in-time grants)."),
    minutes: int = typer.Option(None, help="Duration in minutes (just-in-time: 5-480, default 60)."),
    standing: bool = typer.Option(False, "--standing", help="A standing grant (decided by a privacy officer)."),
) -> None:
    """Ask for a grant; someone else approves it."""
    with _unit_of_work() as (session, _ctx):
        kind = GrantKind.standing if standing else GrantKind.just_in_time
        grant = grants.request_grant(session, requester=_who(session, actor), kind=kind, data_class=data_class,
                                     justification=justification, customer_id=customer_id, duration_minutes=minutes)
        console.print(f"grant {grant.id} requested ({grant.kind.value}, {grant.data_class})")


def _decide(grant_id: int, actor: str, note: str | None, verb: str) -> None:
    with _unit_of_work() as (session, _ctx):
        grant = grants.get_grant(session, grant_id)
        who = _who(session, actor)
        assert who is not None
        if verb == "approve":
            grants.approve(session, grant, approver=who, note=note)
        elif verb == "deny":
            grants.deny(session, grant, approver=who, note=note)
        else:
            grants.revoke(session, grant, actor=who, reason=note)
        until = f", until {_time(grant.expires_at)} UTC" if grant.expires_at else ""
        console.print(f"grant {grant.id} {grant.status.value}{until}")


@grants_app.command("approve")
def grant_approve(grant_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP),
                  note: str = typer.Option(None)) -> None:
    """Approve a request (never your own)."""
    _decide(grant_id, actor, note, "approve")


@grants_app.command("deny")
def grant_deny(grant_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP),
               note: str = typer.Option(None)) -> None:
    """Deny a request (never your own)."""
    _decide(grant_id, actor, note, "deny")


@grants_app.command("revoke")
def grant_revoke(grant_id: int, actor: str = typer.Option(..., "--as", help=AS_HELP),
                 reason: str = typer.Option(None)) -> None:
    """End an approved grant now."""
    _decide(grant_id, actor, reason, "revoke")


@grants_app.command("list")
def grant_list(status: str = typer.Option(None, help="requested, approved, denied, expired, revoked..."),
               limit: int = typer.Option(50, min=1, max=500)) -> None:
    """Grants, newest first."""
    with _unit_of_work() as (session, _ctx):
        rows = grants.list_grants(session, status=_enum(GrantStatus, status, "status"), limit=limit)
        who = cli_tables.names(session, (g.employee_id for g in rows))
        table = cli_tables.table("id", "grant", "holder", "customer", "status", "requested / expires (UTC)")
        for g in rows:
            table.add_row(str(g.id), f"{cli_tables.words(g.kind)}: {cli_tables.words(g.data_class)}",
                          who.get(g.employee_id, str(g.employee_id)), g.customer_id or "any case",
                          g.status.value, f"{_time(g.requested_at)}\n{_time(g.expires_at)}")
    console.print(table)


# --- break-glass ----------------------------------------------------------------------------------------------


@glass_app.command("open")
def glass_open(
    actor: str = typer.Option(..., "--as", help=AS_HELP),
    customer_id: str = typer.Option(..., "--customer"),
    justification: str = typer.Option(..., help="The emergency (at least 30 characters)."),
    data_class: list[str] = typer.Option(..., "--class", help="A data class the emergency needs (repeatable; at "
                                         "least one: break-glass never opens every class)."),
    minutes: int = typer.Option(30, min=1, max=60),
) -> None:
    """Open emergency access now; it is raised to security and reviewed afterwards."""
    with _unit_of_work() as (session, _ctx):
        record = breakglass.open_break_glass(session, employee=_who(session, actor), customer_id=customer_id,
                                             justification=justification, classes=data_class or None,
                                             minutes=minutes)
        console.print(f"break-glass {record.id} open until {_time(record.expires_at)} UTC; "
                      f"read with --purpose break_glass:{record.id}. Security has been notified.")


@glass_app.command("list")
def glass_list(pending: bool = typer.Option(False, "--pending", help="Only uses waiting for review.")) -> None:
    """Break-glass uses (security's review queue with --pending)."""
    with _unit_of_work() as (session, _ctx):
        rows = breakglass.list_break_glass(session, review=BreakGlassReview.pending if pending else None)
        who = cli_tables.names(session, (r.employee_id for r in rows))
        table = cli_tables.table("id", "employee", "customer", "data", "opened / until (UTC)", "review")
        for r in rows:
            table.add_row(str(r.id), who.get(r.employee_id, str(r.employee_id)), r.customer_id,
                          ", ".join(cli_tables.words(c) for c in r.classes),
                          f"{_time(r.opened_at)}\n{_time(r.ended_at or r.expires_at)}", r.review.value)
    console.print(table)


@glass_app.command("review")
def glass_review(record_id: int, outcome: str = typer.Argument(..., help="justified or unjustified"),
                 actor: str = typer.Option(..., "--as", help=AS_HELP), note: str = typer.Option(None)) -> None:
    """Security's verdict on a break-glass use."""
    with _unit_of_work() as (session, _ctx):
        record = breakglass.get_break_glass(session, record_id)
        breakglass.review(session, record, reviewer=_who(session, actor),
                          outcome=_enum(BreakGlassReview, outcome, "outcome"), note=note)
        console.print(f"break-glass {record.id} reviewed: {record.review.value}")


# --- reviews --------------------------------------------------------------------------------------------------


@reviews_app.command("report")
def reach_report(days: int = typer.Option(30, min=1, max=366, help="Usage window in days.")) -> None:
    """Who can reach which data class and through what, how much each used it, and unused standing grants."""
    with _unit_of_work() as (session, _ctx):
        report = reviews.reach_report(session, days=days)
        holders = cli_tables.names(session, (g.employee_id for g in report.unused_standing))
    table = cli_tables.table("employee", "data", "through", "reads", "last used", title=f"Reach (last {days} days)")
    for r in report.rows:
        table.add_row(f"{r.employee}\n{cli_tables.words(r.role)}, {r.team}", cli_tables.words(r.data_class), r.via,
                      str(r.reads), _time(r.last_used_at))
    console.print(table)
    counts = cli_tables.table("data class", "people who can reach it", title="Reach per class")
    for cls, n in report.people_per_class.items():
        counts.add_row(cls.value + (" (sensitive)" if cls in report.sensitive_counts else ""), str(n))
    console.print(counts)
    if report.unused_standing:
        console.print("[yellow]Unused standing grants (recommend revoking):[/] "
                      + ", ".join(f"{g.id} ({g.data_class}, {holders.get(g.employee_id, g.employee_id)})"
                                  for g in report.unused_standing))


@reviews_app.command("open")
def round_open(name: str = typer.Option(..., help="Name of the round, e.g. 'Q1 2027 recertification'."),
               due_days: int = typer.Option(14, min=1, max=90), unused_days: int = typer.Option(30, min=1, max=366),
               actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system.")) -> None:
    """Open a recertification round over every standing grant."""
    with _unit_of_work() as (session, _ctx):
        round_ = reviews.open_round(session, actor=_who(session, actor, required=False), name=name,
                                    due_days=due_days, unused_days=unused_days)
        n = len(reviews.items(session, round_.id))
        console.print(f"review round {round_.id} open with {n} item(s), due {_time(round_.due_at)} UTC")


@reviews_app.command("show")
def round_show(round_id: int) -> None:
    """The items of a round."""
    with _unit_of_work() as (session, _ctx):
        round_ = reviews.get_round(session, round_id)
        items = reviews.items(session, round_id)
        who = cli_tables.names(session, [i.employee_id for i in items] + [i.reviewer_id for i in items])
        table = cli_tables.table("item", "holder / reviewer", "grant", "reads", "decision",
                                 title=f"{round_.name} ({round_.status.value})")
        for i in items:
            table.add_row(str(i.id), f"{who.get(i.employee_id, i.employee_id)}\n"
                          f"{who.get(i.reviewer_id or 0, 'a privacy officer')}",
                          f"{i.grant_id}: {cli_tables.words(i.data_class)}",
                          str(i.reads_in_window) + (" (unused)" if i.flagged_unused else ""), i.decision.value)
    console.print(table)


@reviews_app.command("decide")
def round_decide(item_id: int, decision: str = typer.Argument(..., help="confirmed or revoked"),
                 actor: str = typer.Option(..., "--as", help=AS_HELP), note: str = typer.Option(None)) -> None:
    """Confirm or revoke one standing grant of a report of yours."""
    with _unit_of_work() as (session, _ctx):
        item = session.get(reviews.ReviewItem, item_id)
        if item is None:
            raise InvalidInput(f"no review item {item_id}", field="item")
        value = {"confirm": "confirmed", "revoke": "revoked"}.get(decision, decision)
        reviews.decide_item(session, item, reviewer=_who(session, actor),
                            decision=_enum(ReviewDecision, value, "decision"), note=note)
        console.print(f"item {item.id}: {item.decision.value}")


@reviews_app.command("close")
def round_close(round_id: int, revoke_unreviewed: bool = typer.Option(False, "--revoke-unreviewed"),
                actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system.")) -> None:
    """Close a round (optionally revoking every grant nobody confirmed)."""
    with _unit_of_work() as (session, _ctx):
        round_ = reviews.close_round(session, reviews.get_round(session, round_id),
                                     actor=_who(session, actor, required=False), revoke_unreviewed=revoke_unreviewed)
        console.print(f"review round {round_.id} closed")


# --- cases ----------------------------------------------------------------------------------------------------


@cases_app.command("open")
def case_open(
    customer_id: str = typer.Argument(..., help="The customer's account id."),
    case_type: str = typer.Option(
        ..., "--type", help="victim_request, support_ticket, insider_investigation or incident."
    ),
    title: str = typer.Option(..., help="Short description (no personal data)."),
    assignee: str = typer.Option(None, help="Employee (directory id or email)."),
    team: str = typer.Option(None, help="Team the case is assigned to."),
    actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system."),
    origin: str = typer.Option(None, help="customer_contact, victim_request, manager_assigned or self_opened "
                               "(default: what the act shows; staff cannot declare a contact or victim request)."),
    origin_ref: str = typer.Option(None, "--origin-ref", help="The retailer's ticket or request id."),
) -> None:
    """Open a case; its id is the purpose case:<id> of reads about its customer."""
    with _unit_of_work() as (session, _ctx):
        case = cases.open_case(session, case_type=_enum(CaseType, case_type, "type"), customer_id=customer_id,
                               title=title, actor=_who(session, actor, required=False),
                               assignee=_who(session, assignee, required=False), team=team,
                               origin=_enum(CaseOrigin, origin, "origin"), origin_ref=origin_ref)
        console.print(f"case {case.id} open ({case.case_type.value}, {case.customer_id}, {case.origin.value}); "
                      f"purpose case:{case.id}")


@cases_app.command("list")
def case_list(
    status: str = typer.Option(None, help="open or closed"),
    customer_id: str = typer.Option(None, "--customer"),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """Cases, newest first."""
    with _unit_of_work() as (session, _ctx):
        rows = cases.list_cases(session, status=_enum(CaseStatus, status, "status"), customer_id=customer_id,
                                limit=limit)
        who = cli_tables.names(session, (c.assignee_id for c in rows))
        table = cli_tables.table("case", "customer", "title", "status", "assigned to", "opened (UTC)")
        for c in rows:
            table.add_row(f"{c.id}\n{cli_tables.words(c.case_type)}", c.customer_id, c.title,
                          f"{c.status.value}\n{cli_tables.words(c.origin)}",
                          " / ".join(x for x in (who.get(c.assignee_id or 0), c.team) if x) or "—",
                          _time(c.opened_at))
    console.print(table)


@cases_app.command("assign")
def case_assign(case_id: int, assignee: str = typer.Option(None), team: str = typer.Option(None),
                actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system.")) -> None:
    """Give a case to an employee and/or a team."""
    with _unit_of_work() as (session, _ctx):
        case = cases.assign(session, cases.get_case(session, case_id), actor=_who(session, actor, required=False),
                            assignee=_who(session, assignee, required=False), team=team)
        console.print(f"case {case.id} assigned to {case.assignee_id or '—'} / {case.team or '—'}")


@cases_app.command("close")
def case_close(case_id: int, reason: str = typer.Option(None),
               actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system.")) -> None:
    """Close a case; reads for it are refused from now on."""
    with _unit_of_work() as (session, _ctx):
        case = cases.close(session, cases.get_case(session, case_id), actor=_who(session, actor, required=False),
                           reason=reason)
        console.print(f"case {case.id} closed")


@cases_app.command("reopen")
def case_reopen(case_id: int, reason: str = typer.Option(None),
                actor: str = typer.Option(None, "--as", help=AS_HELP + " Default: the system.")) -> None:
    """Reopen a closed case."""
    with _unit_of_work() as (session, _ctx):
        case = cases.reopen(session, cases.get_case(session, case_id), actor=_who(session, actor, required=False),
                            reason=reason)
        console.print(f"case {case.id} reopened")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(access_app, name="access")
    app.add_typer(cases_app, name="cases")
