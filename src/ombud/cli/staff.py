"""`ombud staff ...`: staff accounts, passwords and API tokens from the command line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import typer
from sqlalchemy.orm import Session

from ombud import clock
from ombud.cli import tables as cli_tables
from ombud.cli.common import console, context, err_console
from ombud.db import transaction
from ombud.errors import InvalidInput, OmbudError
from ombud.staff import service
from ombud.staff.models import Role
from ombud.staff.service import UNCHANGED

staff_app = typer.Typer(help="Staff accounts: add, list, passwords, API tokens, deactivation.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for internal tools.", no_args_is_help=True)
staff_app.add_typer(token_app, name="token")


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """One transaction for the command; a domain error is printed with its field and exits 2, nothing written."""
    ctx = context()
    try:
        with transaction(ctx.sessions) as session:
            yield session
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        ctx.close()


def _read_password(password: str | None, from_stdin: bool, *, prompt: str = "Password") -> str:
    if password is not None and from_stdin:
        err_console.print("[bold red]error (password):[/] give --password or --password-stdin, not both")
        raise typer.Exit(2)
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
        if not value:
            err_console.print("[bold red]error (password):[/] nothing on standard input")
            raise typer.Exit(2)
        return value
    if password is not None:
        return password
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


def _parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        err_console.print(f"[bold red]error (role):[/] unknown role {value!r}; one of: {known}")
        raise typer.Exit(2) from None


@staff_app.command("add")
def add(
    email: str = typer.Option(..., help="Work email; also the sign-in name."),
    name: str = typer.Option(..., help="Full name."),
    role: str = typer.Option(..., help="agent, privacy_officer, security_analyst or admin."),
    team: str = typer.Option(..., help="Team, e.g. 'Trust & Safety'."),
    region: str = typer.Option(..., help="Region the employee works in, e.g. us-east."),
    external_id: str = typer.Option(None, "--external-id", help="Directory id; generated when not given."),
    manager: str = typer.Option(None, help="Email of the employee's manager."),
    hired: str = typer.Option(None, help="Hire date, YYYY-MM-DD."),
    password: str = typer.Option(None, help="Password (visible in shell history; prefer the prompt)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    no_password: bool = typer.Option(False, "--no-password", help="Create without a password (no sign-in yet)."),
) -> None:
    """Create a staff account (prompts for the password twice unless given another way)."""
    parsed_role = _parse_role(role)
    hired_on = None
    if hired:
        try:
            hired_on = date.fromisoformat(hired)
        except ValueError:
            err_console.print(f"[bold red]error (hired):[/] not a date (YYYY-MM-DD): {hired!r}")
            raise typer.Exit(2) from None
    if no_password and (password is not None or password_stdin):
        err_console.print("[bold red]error (password):[/] --no-password excludes --password and --password-stdin")
        raise typer.Exit(2)
    secret = None if no_password else _read_password(password, password_stdin)
    with _unit_of_work() as session:
        manager_id = service.require_employee_by_email(session, manager).id if manager else None
        employee = service.create_employee(
            session,
            name=name,
            email=email,
            team=team,
            role=parsed_role,
            region=region,
            external_id=external_id,
            manager_id=manager_id,
            hired_on=hired_on,
            password=secret,
        )
        console.print(
            f"[green]added[/] {employee.name} <{employee.email}> as {employee.role.value} "
            f"(id {employee.external_id})"
        )


@staff_app.command("list")
def list_(
    role: str = typer.Option(None, help="Only this role."),
    all_: bool = typer.Option(False, "--all", help="Also employees who have left."),
) -> None:
    """List staff accounts."""
    parsed_role = _parse_role(role) if role else None
    with _unit_of_work() as session:
        employees = service.list_employees(session, role=parsed_role, include_departed=all_)
        bosses = cli_tables.names(session, (e.manager_id for e in employees))
        table = cli_tables.table("employee", "email", "role / team", "manager", "sign-in", title="Staff")
        for e in employees:
            table.add_row(
                f"{e.name}\n{e.external_id}",
                e.email,
                f"{cli_tables.words(e.role)}\n{e.team} ({e.region})",
                bosses.get(e.manager_id or 0, "—"),
                f"left {e.left_on.isoformat()}" if e.left_on else (
                    "password set" if e.password_hash else "no password"),
            )
        console.print(table)
        console.print(f"{len(employees)} employee(s)")


@staff_app.command("set-password")
def set_password(
    email: str = typer.Argument(..., help="The employee's email."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
) -> None:
    """Set an employee's password (prompts twice); their browser sessions end."""
    with _unit_of_work() as session:
        employee = service.require_employee_by_email(session, email)
        secret = _read_password(None, password_stdin, prompt="New password")
        service.set_password(session, employee, secret)
        console.print(f"[green]password set[/] for {employee.email}; their sessions were ended")


@staff_app.command("update")
def update(
    employee: str = typer.Argument(..., help="The employee (email or directory id)."),
    role: str = typer.Option(None, help="New role: agent, privacy_officer, security_analyst or admin."),
    team: str = typer.Option(None, help="New team."),
    manager: str = typer.Option(None, help="New manager (email or directory id)."),
    no_manager: bool = typer.Option(False, "--no-manager", help="Remove the manager."),
) -> None:
    """Change an employee's role, team or manager (audited)."""
    with _unit_of_work() as session:
        target = _find(session, employee)
        boss: Any = UNCHANGED
        if no_manager:
            boss = None
        elif manager:
            boss = _find(session, manager)
        changes = service.update_employee(session, target, role=_parse_role(role) if role else None, team=team,
                                          manager=boss)
        said = "; ".join(f"{k}: {v[0] or '—'} -> {v[1] or '—'}" for k, v in changes.items()) or "nothing changed"
        console.print(f"{target.name}: {said}")


@staff_app.command("reset-password")
def reset_password(employee: str = typer.Argument(..., help="The employee (email or directory id).")) -> None:
    """Give an employee a new random password, printed once; their sessions end."""
    with _unit_of_work() as session:
        target = _find(session, employee)
        password = service.reset_password(session, target)
    console.print(f"new password for {target.email}: [bold]{password}[/] (shown once; they should change it)")


def _find(session: Session, ref: str) -> Any:
    ref = ref.strip()
    found = service.get_employee_by_email(session, ref) if "@" in ref else service.get_employee_by_external_id(
        session, ref)
    if found is None:
        raise InvalidInput(f"no employee {ref}", field="employee")
    return found


@staff_app.command("deactivate")
def deactivate(
    email: str = typer.Argument(..., help="The employee's email."),
    left_on: str = typer.Option(None, "--left-on", help="Last day, YYYY-MM-DD (default: today)."),
) -> None:
    """Mark an employee as gone: no more sign-in, sessions ended, API tokens revoked."""
    day = None
    if left_on:
        try:
            day = date.fromisoformat(left_on)
        except ValueError:
            err_console.print(f"[bold red]error (left-on):[/] not a date (YYYY-MM-DD): {left_on!r}")
            raise typer.Exit(2) from None
    with _unit_of_work() as session:
        employee = service.require_employee_by_email(session, email)
        ended, revoked = service.deactivate_employee(session, employee, left_on=day)
        console.print(
            f"[green]deactivated[/] {employee.email} (left {employee.left_on}); "
            f"{ended} session(s) ended, {revoked} token(s) revoked"
        )


@token_app.command("create")
def token_create(
    email: str = typer.Argument(..., help="The employee the token acts as."),
    name: str = typer.Option(..., help="What the token is for (e.g. the tool's name)."),
    days: int = typer.Option(90, min=1, max=366, help="Days until it expires."),
) -> None:
    """Create an API token; it is printed once, only its hash is kept."""
    with _unit_of_work() as session:
        employee = service.require_employee_by_email(session, email)
        new = service.create_api_token(session, employee, name=name, valid_for=timedelta(days=days))
        err_console.print(
            f"token {new.record.prefix} ({new.record.name}) for {employee.email}, "
            f"expires {new.record.expires_at:%Y-%m-%d %H:%M} UTC; shown once, store it now:"
        )
        # The token alone on stdout, so `TOKEN=$(ombud staff token create ...)` works.
        typer.echo(new.token)


@token_app.command("list")
def token_list(email: str = typer.Argument(..., help="The employee whose tokens to list.")) -> None:
    """List an employee's API tokens (never the secrets)."""
    with _unit_of_work() as session:
        employee = service.require_employee_by_email(session, email)
        table = cli_tables.table("prefix", "name", "created", "expires", "last used", "state",
                                 title=f"Tokens of {email}")
        now = clock.now()
        for t in service.list_api_tokens(session, employee):
            expired = t.expires_at is not None and t.expires_at <= now
            state = "revoked" if t.revoked_at else "expired" if expired else "active"
            table.add_row(
                t.prefix,
                t.name,
                f"{t.created_at:%Y-%m-%d %H:%M}",
                f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never",
                f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never",
                state,
            )
        console.print(table)


@token_app.command("revoke")
def token_revoke(prefix: str = typer.Argument(..., help="The token's prefix (the 8 characters after omb_).")) -> None:
    """Revoke an API token."""
    with _unit_of_work() as session:
        record = service.revoke_api_token(session, prefix)
        console.print(f"[green]revoked[/] token {record.prefix} ({record.name})")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(staff_app, name="staff")
