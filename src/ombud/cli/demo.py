"""`ombud demo`: a fresh embedded store with a small synthetic retailer, staff, and a walk through each capability."""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from ombud import migrate
from ombud.cli.common import console, fail
from ombud.config import Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.retail import models as retail
from ombud.staff import service as staff_service
from ombud.staff.models import Role

#: Marks a data folder the demo made, so a rerun may replace it and never touches anything else.
DEMO_MARKER = ".ombud-demo"
RETAILER_DIR = "demo-retailer"
CREDENTIALS_FILE = "demo-credentials.txt"


@dataclass(frozen=True)
class DemoStaff:
    email: str
    name: str
    role: Role
    team: str
    region: str


DEMO_STAFF = (
    DemoStaff("admin@ombud.example.com", "Ada Admin", Role.admin, "platform", "us-east"),
    DemoStaff("agent@ombud.example.com", "Avery Agent", Role.agent, "trust-safety", "us-east"),
    DemoStaff("privacy@ombud.example.com", "Priya Privacy", Role.privacy_officer, "privacy", "us-east"),
    DemoStaff("security@ombud.example.com", "Sam Security", Role.security_analyst, "insider-risk", "us-east"),
)


def _fresh_data_dir(settings: Settings) -> None:
    data_dir = settings.data_dir
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            raise fail(
                f"{data_dir} holds data the demo did not make; point OMBUD_DATA_DIR at an empty folder "
                "or use --data-dir"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DEMO_MARKER).write_text("made by `ombud demo`; a rerun replaces this folder\n")


def _store_summary(ctx: Context) -> Table:
    counts = [
        ("accounts", retail.Account),
        ("addresses", retail.Address),
        ("cards (fingerprints only)", retail.PaymentMethod),
        ("orders", retail.Order),
        ("order lines", retail.OrderLine),
        ("credit applications", retail.CreditApplication),
        ("logins", retail.Login),
        ("support notes", retail.SupportNote),
    ]
    table = Table(title="what the store holds", title_justify="left")
    table.add_column("records")
    table.add_column("count", justify="right")
    with ctx.sessions() as session:
        for label, model in counts:
            table.add_row(label, f"{session.scalar(select(func.count()).select_from(model)):,}")
    return table


def _create_staff(ctx: Context) -> list[tuple[DemoStaff, str]]:
    created = []
    with transaction(ctx.sessions) as session:
        for number, person in enumerate(DEMO_STAFF, start=1):
            password = secrets.token_urlsafe(12)
            staff_service.create_employee(
                session, external_id=f"DEMO-{number:03d}", name=person.name, email=person.email, team=person.team,
                role=person.role, region=person.region, password=password,
            )
            created.append((person, password))
    path = ctx.settings.data_dir / CREDENTIALS_FILE
    path.touch(mode=0o600)
    path.write_text("".join(f"{p.email}\t{p.role.value}\t{password}\n" for p, password in created))
    return created


def _steps(ctx: Context, retailer: Path) -> None:
    """The capabilities walked through after the store is loaded, each from its own domain."""
    from ombud.access.demo import run_demo as access_demo
    from ombud.audit.demo import run_demo as audit_demo
    from ombud.identity.demo import run_demo as identity_demo
    from ombud.incidents.demo import run_demo as incidents_demo
    from ombud.insider.demo import run_demo as insider_demo
    from ombud.records.demo import run_demo as records_demo
    from ombud.victim_requests.demo import run_demo as requests_demo

    identity_demo(ctx, console, retailer / "truth" / "victims.jsonl")
    access_demo(ctx, console)
    audit_demo(ctx, console)
    requests_demo(ctx, console, retailer)
    records_demo(ctx, console)
    insider_demo(ctx, console)
    incidents_demo(ctx, console)


def register(app: typer.Typer) -> None:
    """Add `ombud demo` to the root app."""

    @app.command("demo")
    def demo(
        accounts: int = typer.Option(3000, min=100, max=50_000, help="Accounts in the synthetic retailer."),
        seed: int = typer.Option(2026, help="Seed of the synthetic retailer."),
        data_dir: Path = typer.Option(None, help="Data folder (default: OMBUD_DATA_DIR, ./ombud-data)."),
    ) -> None:
        """Build a fresh embedded store with a small synthetic retailer and walk through what Ombud does."""
        from ombud.synth import generate

        started = time.perf_counter()
        settings = Settings()
        if settings.database_url:
            raise fail("the demo builds a fresh embedded store; unset OMBUD_DATABASE_URL to run it")
        if data_dir is not None:
            settings = settings.model_copy(update={"data_dir": data_dir})
        _fresh_data_dir(settings)
        ctx = Context(settings)
        console.rule("Ombud demo")
        console.print(f"fresh embedded store in [bold]{settings.data_dir.resolve()}[/]")
        migrate.upgrade(settings.resolved_database_url)

        retailer = settings.data_dir / RETAILER_DIR
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
                      TimeElapsedColumn(), console=console, transient=True) as bars:
            task = bars.add_task("synthetic retailer", total=accounts)
            summary = generate(retailer, accounts=accounts, seed=seed,
                               on_progress=lambda n: bars.advance(task, n))
        console.print(f"synthetic retailer: {accounts:,} accounts, {summary.victims:,} identity-theft victims "
                      f"(ground truth in {retailer / 'truth' / 'victims.jsonl'})")

        from ombud.cli.retail import build_index, index_upkeep
        from ombud.retail.importer import import_directory

        upkeep = index_upkeep(ctx)  # a fresh store: the identity index is built once, after the import
        report = import_directory(ctx, retailer, on_batch=upkeep.callbacks())
        console.print(f"imported {report.read:,} rows in {report.seconds:.1f} s, {report.rejected} rejected")
        build_index(upkeep, transient=True)
        console.print(_store_summary(ctx))

        staff = _create_staff(ctx)
        table = Table(title="demo staff (passwords also in " f"{settings.data_dir / CREDENTIALS_FILE})",
                      title_justify="left")
        for column in ("email", "role", "password"):
            table.add_column(column)
        for person, password in staff:
            table.add_row(person.email, person.role.value, password)
        console.print(table)

        _steps(ctx, retailer)
        ctx.close()
        console.rule()
        console.print(f"demo done in {time.perf_counter() - started:.0f} s. Open the console:")
        env = "" if data_dir is None else f"OMBUD_DATA_DIR={settings.data_dir} "
        console.print(f"  {env}ombud serve    then http://{settings.host}:{settings.port}/ "
                      "and sign in with a demo account above")
