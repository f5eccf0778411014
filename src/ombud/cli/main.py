"""The `ombud` command line: one Typer app, each domain adding its commands from its own module."""

from __future__ import annotations

import sys

import typer
import typer.core

from ombud import __version__
from ombud.cli import access as access_cli
from ombud.cli import audit as audit_cli
from ombud.cli import demo as demo_cli
from ombud.cli import identity as identity_cli
from ombud.cli import incidents as incidents_cli
from ombud.cli import insider as insider_cli
from ombud.cli import notify as notify_cli
from ombud.cli import records as records_cli
from ombud.cli import requests as requests_cli
from ombud.cli import retail as retail_cli
from ombud.cli import staff as staff_cli
from ombud.cli import synth as synth_cli
from ombud.cli.common import console, context, err_console
from ombud.errors import ConfigurationError, OmbudError

#: Where the root group keeps its command line for the production check (click empties `ctx.args` before the
#: root callback runs).
_ARGV = "ombud.argv"


class _Root(typer.core.TyperGroup):
    """The root group: it keeps the command line it parsed, so the production check can answer a request for help."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = list(args)
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_Root,
    name="ombud",
    help="Ombud: identity-theft records requests and brokered, audited staff access to customer data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The store: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


#: Commands that run whatever the settings (they only describe them).
_ANY_SETTINGS = frozenset({"config"})


@app.callback()
def _root(
    cli: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()
    # Every command passes here first: production settings are refused before a prompt, a file or the store.
    # (Context refuses them too, for the server and any other program.)
    if cli.invoked_subcommand not in _ANY_SETTINGS:
        from ombud.config import Settings
        from ombud.keys import check_production_ready

        try:
            check_production_ready(Settings())
        except ConfigurationError:
            _answer_help_if_asked(cli)
            raise


def _answer_help_if_asked(root: typer.Context) -> None:
    """Print the help the command line asks for and exit: describing a command needs no settings.

    The line is parsed the way click will parse it, without running anything (no prompt, no file): `--help`
    counts only where click reads it as the help flag, not where it is the value of an option
    (`discover --profile --help` is still refused), and a group named without a command shows its help."""
    try:
        asked = _help_asked(root)
    except typer.TyperException:
        return  # a line click would refuse anyway (an unknown command or option): the production refusal answers
    if asked is not None:
        ctx, code = asked
        typer.echo(ctx.get_help(), color=ctx.color)
        ctx.exit(code)


def _help_asked(root: typer.Context) -> tuple[typer.Context, int] | None:
    """The context whose help the line asks for and the exit code click gives it, or None."""
    cmd, ctx = root.command, root
    _, rest, _ = cmd.make_parser(ctx).parse_args(list(root.meta.get(_ARGV, [])))  # past the root's own options
    while isinstance(cmd, typer.core.TyperGroup):
        if not rest:
            return ctx, 2  # a group named without a command (click answers its help with 2)
        name, sub, rest = cmd.resolve_command(ctx, rest)
        if sub is None:
            return None
        cmd, ctx = sub, sub.context_class(sub, info_name=name, parent=ctx)
        options, rest, _ = cmd.make_parser(ctx).parse_args(list(rest))
        if options.get("help"):
            return ctx, 0
    return None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Create or migrate the store's tables to the newest revision."""
    from ombud import migrate

    ctx = context()
    migrate.upgrade(ctx.settings.resolved_database_url, revision)
    console.print(f"[green]store at revision {migrate.head_revision() if revision == 'head' else revision}[/]")


@db_app.command("current")
def db_current() -> None:
    """Print the store's current revision and the newest one shipped."""
    from alembic.runtime.migration import MigrationContext

    from ombud import migrate

    ctx = context()
    with ctx.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    console.print(f"store: {current or '(empty)'}   newest: {migrate.head_revision()}")


@app.command("config")
def show_config(
    explain: bool = typer.Option(False, "--explain", help="Also say what each setting means."),
) -> None:
    """The settings in effect and where each comes from (secrets: only whether set, never the value)."""
    from ombud.cli import settings as settings_cli

    settings_cli.show(explain)


def _serve_log_config() -> dict:
    """uvicorn's logging, with Ombud's own loggers (ombud.http: one line per request) at INFO beside it."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["ombud"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Address to listen on (default: OMBUD_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: OMBUD_PORT, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Run the staff console, the victim portal and the API."""
    import uvicorn

    ctx = context()
    from ombud.keys import check_production_ready

    check_production_ready(ctx.settings)
    uvicorn.run(
        "ombud.app:create_app",
        factory=True,
        host=host or ctx.settings.host,
        port=port or ctx.settings.port,
        workers=workers,
        log_level="info",
        access_log=False,  # ombud.http logs each request by its route's template, never the address as sent
        log_config=_serve_log_config(),
    )


for module in (demo_cli, retail_cli, synth_cli, staff_cli, audit_cli, identity_cli, access_cli, incidents_cli,
               insider_cli, notify_cli, requests_cli, records_cli):  # records adds to the requests group
    module.register(app)


def main() -> None:
    """Entry point: run the app, turning domain errors into a message and exit code 2."""
    try:
        app()
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}")
        sys.exit(2)
