"""Commands of the synth domain: `ombud synth` writes a synthetic retailer with identity-theft ground truth."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ombud.cli.common import console, fail


def synth(
    accounts: int = typer.Option(10_000, "--accounts", "-n", min=1, help="How many customer accounts to write."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed: the same seed writes the same bytes."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write (import files, plus truth/)."),
    fmt: str = typer.Option("csv", "--format", help="csv (default) or jsonl."),
    victim_rate: float = typer.Option(0.02, "--victim-rate", min=0.0, max=0.25,
                                      help="Share of people who are identity-theft victims."),
    as_of: str = typer.Option("2026-11-01", "--as-of", help="The day the data ends (YYYY-MM-DD, UTC)."),
    force: bool = typer.Option(False, "--force", help="Replace an earlier synth output in --out."),
    workers: int = typer.Option(0, "--workers", min=0, help="Writer processes (0: one per core, at most 8). "
                                "The output is the same whatever the number."),
    insider: bool = typer.Option(False, "--insider", help="Also write sellers, reviews, support contacts, staff HR "
                                 "facts, staff access events and injected insider scenarios (truth/insider.jsonl)."),
    insider_days: int = typer.Option(90, "--insider-days", help="With --insider: days of staff activity."),
    insider_load: float = typer.Option(12.0, "--insider-load", help="With --insider: customer contacts a support "
                                       "agent handles per working day (drives the number of access events)."),
    insider_staff: int = typer.Option(0, "--insider-staff", help="With --insider: about this many employees "
                                      "(0: as many as --accounts gives, 30 + accounts/1000)."),
    insider_scenarios: float = typer.Option(1.0, "--insider-scenarios", help="With --insider: injected scenarios "
                                            "of each kind per 100 agents (at least one; 0 for none)."),
    households: bool = typer.Option(False, "--households", help="Add victims' household members: juniors and "
                                    "seniors with their name, twins, spouses (docs/synth.md)."),
    messy: float = typer.Option(0.0, "--messy", min=0.0, max=10.0, help="Damage the export as real ones are "
                                "(regions, cities, names left out; impossible birth dates); 1.0 is the usual rate."),
    no_logins: bool = typer.Option(False, "--no-logins", help="Leave out the sign-in history (a retailer that "
                                   "does not send it)."),
) -> None:
    """Write a synthetic retailer in the import format, a staff directory, and identity-theft ground truth."""
    from ombud.errors import InvalidInput
    from ombud.synth import generate
    from ombud.synth.generate import default_workers
    from ombud.synth.insider import InsiderOptions

    try:
        parsed = datetime.fromisoformat(as_of)
        as_of_dt = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise fail(f"--as-of: not a date: {as_of!r} (expected YYYY-MM-DD)") from None
    if fmt not in ("csv", "jsonl"):
        raise fail(f"--format: expected csv or jsonl, got {fmt!r}")
    options = InsiderOptions(insider_days, insider_load, insider_scenarios, insider_staff or None) if insider else None
    columns = (TextColumn("[bold]synth"), BarColumn(), MofNCompleteColumn(), TextColumn("accounts"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("accounts", total=accounts)
        try:
            summary = generate(out, accounts, seed, victim_rate=victim_rate, fmt=fmt, as_of=as_of_dt,
                               overwrite=force, workers=workers or default_workers(),
                               on_progress=lambda n: progress.advance(task, n),
                               insider=options, households=households, messy=messy, logins=not no_logins)
        except InvalidInput as exc:
            raise fail(f"--{exc.field or 'out'}: {exc.message}") from None
    table = Table("file", "rows", title=f"synthetic retailer in {out}")
    for kind, count in summary.rows.items():
        table.add_row(f"{kind}.{fmt}", f"{count:,}")
    console.print(table)
    cases = ", ".join(f"{kind} {count:,}" for kind, count in sorted(summary.cases.items())) or "none"
    console.print(f"victims: {summary.victims:,} (truth/victims.jsonl)   fraudulent accounts: "
                  f"{summary.fraudulent_accounts:,}   cases: {cases}")
    if summary.insider is not None:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.insider.items()))
        console.print(f"insider scenarios (truth/insider.jsonl): {kinds}")
    rate = sum(summary.rows.values()) / summary.seconds if summary.seconds else 0
    console.print(f"[green]done in {summary.seconds:.1f} s[/] ({rate:,.0f} rows/s)")


def synth_victim(
    folder: Path = typer.Argument(..., help="A folder written by `ombud synth`."),
    victim_id: str = typer.Argument(None, help="A victim id (e.g. V0000001); default: the first victim."),
    kind: str = typer.Option(None, "--kind", help="Without an id: the first victim with a case of this kind "
                             "(new_account, credit_application, card_added, account_takeover)."),
    truth: bool = typer.Option(False, "--truth", help="Print the whole truth line, not only the profile."),
) -> None:
    """Print a victim's profile (their own identifiers) as JSON, e.g. for `ombud discover --profile`."""
    import json

    from ombud.errors import OmbudError
    from ombud.synth.truth import find_victim

    try:
        victim = find_victim(folder, victim_id, kind)
    except OmbudError as exc:
        raise fail(exc.message) from None
    typer.echo(json.dumps(victim if truth else victim["profile"], indent=2))


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.command("synth")(synth)
    app.command("synth-victim")(synth_victim)
