"""`ombud audit ...`: checkpoints, verification, proofs, the verifier key, export and the event listing."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.orm import Session

from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, service, tree
from ombud.audit.note import NoteError, Verifier, parse_verifier
from ombud.audit.verify import VerifyReport, verify_log
from ombud.cli.common import console, context, err_console
from ombud.clock import ensure_utc
from ombud.context import Context
from ombud.db import transaction
from ombud.errors import OmbudError

audit_app = typer.Typer(
    help="The tamper-evident audit log: checkpoints, verification, proofs, export.", no_args_is_help=True
)


@contextmanager
def _unit_of_work(ctx: Context) -> Iterator[Session]:
    """One transaction; a domain error is printed with its field and exits 2, nothing written."""
    try:
        with transaction(ctx.sessions) as session:
            yield session
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err_console.print(f"[bold red]error{where}:[/] {exc.message}")
        raise typer.Exit(2) from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sign_once(ctx: Context) -> None:
    with _unit_of_work(ctx) as session:
        backlog = service.log_size(session) - tree.tree_head(session).size
        if backlog > 50_000:  # a big import since the last checkpoint: show the tree catching up
            with Progress(TextColumn("adding events to the tree"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=err_console, transient=True) as progress:
                task = progress.add_task("tree", total=backlog)
                tree.integrate(session, progress=lambda n: progress.advance(task, n))
        result = checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        note = result.checkpoint.note
        size = result.checkpoint.tree_size
    if result.created:
        err_console.print(f"[green]signed a checkpoint of {size} events[/]")
    else:
        err_console.print(f"the log has not grown since the checkpoint of {size} events")
    typer.echo(note, nl=False)  # exact bytes: a signed note must not be re-wrapped


@audit_app.command("checkpoint")
def checkpoint(
    every: float = typer.Option(
        None, "--every", min=1, help="Keep running: sign a checkpoint every SECONDS when the log has grown."
    ),
) -> None:
    """Sign a checkpoint of the log now (integrating new events into the tree) and print it."""
    ctx = context()
    try:
        if every is None:
            _sign_once(ctx)
            return
        err_console.print(f"signing a checkpoint every {every:g}s when the log grows; Ctrl-C stops")
        while True:
            with _unit_of_work(ctx) as session:
                record = checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings, interval=timedelta(0))
            if record is not None:
                err_console.print(f"{datetime.now().astimezone():%H:%M:%S} signed a checkpoint of {record.tree_size}")
            time.sleep(every)
    except KeyboardInterrupt:
        err_console.print("stopped")
    finally:
        ctx.close()


def _verifiers(ctx: Context, keys: list[str]) -> list[Verifier]:
    found = [checkpoints.verifier(ctx.keys, ctx.settings)]
    for value in keys:
        text = Path(value).read_text(encoding="utf-8") if Path(value).is_file() else value
        try:
            found.append(parse_verifier(text))
        except NoteError as exc:
            err_console.print(f"[bold red]error (key):[/] {exc}")
            raise typer.Exit(2) from exc
    return found


def _print_report(report: VerifyReport) -> None:
    rate = f"{report.leaves_per_second:,.0f} leaves/s" if report.seconds else ""
    summary = Table.grid(padding=(0, 2))
    summary.add_row("events", f"{report.events:,}")
    summary.add_row("stored tree", f"{report.tree_size:,} leaves, {report.nodes_checked:,} nodes checked")
    latest = "none" if report.latest_checkpoint is None else f"size {report.latest_checkpoint:,}"
    summary.add_row("checkpoints", f"{report.checkpoints:,} signed (latest {latest})")
    summary.add_row("time", f"{report.seconds:.2f}s {rate}")
    console.print(summary)
    if report.ok:
        console.print("[bold green]OK[/] every event, tree node, checkpoint signature and consistency proof checks out")
        if report.uncovered:
            console.print(
                f"[yellow]note:[/] {report.uncovered:,} events after the latest checkpoint are not yet covered by a "
                "signature; `ombud audit checkpoint` signs them"
            )
        return
    first = report.first_problem
    assert first is not None
    where = "" if first.index is None else (
        f"event {first.index}" if first.index == first.last else f"events {first.index}..{first.last}"
    )
    err_console.print(f"[bold red]TAMPERED[/] first bad entry: {where or 'the log as a whole'} ({first.kind})")
    err_console.print(f"  {first.message}")
    rest = report.sorted_problems()[1:]
    if rest:
        err_console.print(f"{report.problem_count - 1} more problem(s), e.g.:")
        for problem in rest[:10]:
            err_console.print(f"  - [{problem.kind}] {problem.message}", markup=False)


@audit_app.command("verify")
def verify(
    key: list[str] = typer.Option(
        [], "--key", help="Another trusted verifier key (text or file), e.g. one the log was signed with before."
    ),
    published_dir: Path = typer.Option(
        None, "--checkpoints", help="Also check against checkpoints published outside the database (an export folder)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Recompute every leaf, node and checkpoint root from the stored events; exit 1 naming the first bad entry."""
    ctx = context()
    published: list[str] = []
    if published_dir is not None:
        if not published_dir.is_dir():
            err_console.print(f"[bold red]error (checkpoints):[/] {published_dir} is not a folder")
            raise typer.Exit(2)
        published = [p.read_text(encoding="utf-8") for p in sorted(published_dir.glob("*.checkpoint"))]
    try:
        verifiers = _verifiers(ctx, key)
        with _unit_of_work(ctx) as session:
            progress = Progress(
                TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=err_console, transient=True, disable=as_json,
            )
            with progress:
                task = progress.add_task("events", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                report = verify_log(
                    session, verifiers, ctx.settings.audit_origin, progress=advance, published=published
                )
    finally:
        ctx.close()
    if as_json:
        first = report.first_problem
        console.print_json(json.dumps({
            "ok": report.ok,
            "events": report.events,
            "tree_size": report.tree_size,
            "checkpoints": report.checkpoints,
            "latest_checkpoint": report.latest_checkpoint,
            "uncovered": report.uncovered,
            "seconds": round(report.seconds, 3),
            "first_problem": None if first is None else first.__dict__,
            "problem_count": report.problem_count,
            "problems": [p.__dict__ for p in report.sorted_problems()],
        }))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("prove")
def prove(
    index: int = typer.Option(..., "--index", min=0, help="Leaf index (sequence number) of the event."),
    as_json: bool = typer.Option(False, "--json", help="Print the proof as JSON."),
) -> None:
    """Print the inclusion proof of one event against the latest checkpoint, and check it."""
    ctx = context()
    try:
        with _unit_of_work(ctx) as session:
            latest = checkpoints.latest_checkpoint(session)
            if latest is None:
                err_console.print("[bold red]error:[/] no checkpoint yet; run `ombud audit checkpoint` first")
                raise typer.Exit(2)
            if index >= latest.tree_size:
                err_console.print(
                    f"[bold red]error (index):[/] event {index} is not in the latest checkpoint "
                    f"(size {latest.tree_size}); sign a newer one with `ombud audit checkpoint`"
                )
                raise typer.Exit(2)
            record = service.get_event(session, index)
            leaf = merkle.leaf_hash(record.leaf_data())
            proof = tree.inclusion_proof(session, index, latest.tree_size)
            root = bytes(latest.root_hash)
            note = latest.note
            size = latest.tree_size
    finally:
        ctx.close()
    ok = merkle.verify_inclusion(leaf, index, size, proof, root)
    if as_json:
        console.print_json(json.dumps({
            "index": index, "tree_size": size, "leaf_hash": _b64(leaf), "root_hash": _b64(root),
            "proof": [_b64(p) for p in proof], "verified": ok, "checkpoint": note,
        }))
    else:
        table = Table.grid(padding=(0, 2))
        table.add_row("event", f"{index} ({record.action} at {record.at:%Y-%m-%d %H:%M:%S} UTC)")
        table.add_row("leaf hash", _b64(leaf))
        table.add_row("tree size", str(size))
        table.add_row("root hash", _b64(root))
        for i, node in enumerate(proof):
            table.add_row(f"proof[{i}]", _b64(node))
        console.print(table)
        console.print("[bold green]verified[/] against the signed checkpoint" if ok else "[bold red]does NOT verify[/]")
    if not ok:
        raise typer.Exit(1)


@audit_app.command("key")
def key() -> None:
    """Print the public verifier key of checkpoints, in signed-note format (name+keyid+key)."""
    ctx = context()
    typer.echo(checkpoints.verifier(ctx.keys, ctx.settings).text())


@audit_app.command("export")
def export(
    directory: Path = typer.Argument(..., help="Folder to write <size>.checkpoint files and audit.vkey to."),
) -> None:
    """Write every checkpoint as a signed-note file, plus the verifier key, for publishing outside the database."""
    ctx = context()
    try:
        with _unit_of_work(ctx) as session:
            written = checkpoints.export_checkpoints(session, ctx.keys, ctx.settings, directory)
    finally:
        ctx.close()
    console.print(f"wrote {len(written)} files to {directory}")


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value))
    except ValueError:
        err_console.print(f"[bold red]error ({name}):[/] {value!r} is not an ISO date or time")
        raise typer.Exit(2) from None


@audit_app.command("events")
def events(
    customer_id: str = typer.Option(None, "--customer-id", help="Only events about this customer."),
    actor_id: str = typer.Option(None, "--actor-id", help="Only events by this actor (employee id)."),
    action: str = typer.Option(None, "--action", help="Only actions starting with these dotted words."),
    since: str = typer.Option(None, help="From this UTC time (ISO), inclusive."),
    until: str = typer.Option(None, help="Until this UTC time (ISO), exclusive."),
    after: int = typer.Option(None, "--after", help="Only events after this leaf index."),
    limit: int = typer.Option(50, min=1, max=1000, help="At most this many events."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List audit events, oldest first."""
    ctx = context()
    try:
        with _unit_of_work(ctx) as session:
            records = service.list_events(
                session, customer_id=customer_id, actor_id=actor_id, action_prefix=action,
                since=_parse_time(since, "since"), until=_parse_time(until, "until"), after_index=after, limit=limit,
            )
    finally:
        ctx.close()
    if as_json:
        for r in records:
            console.print_json(json.dumps({
                "index": r.index, "at": r.at.isoformat(), "action": r.action, "actor_type": r.actor_type,
                "actor_id": r.actor_id, "customer_id": r.customer_id, "subject_type": r.subject_type,
                "subject_id": r.subject_id, "fields": list(r.fields), "purpose": r.purpose, "decision": r.decision,
                "detail": dict(r.detail), "leaf_hash": _b64(r.leaf_hash),
            }), indent=None)
        return
    table = Table("#", "at (UTC)", "action", "actor", "customer", "subject", "fields", "purpose", "decision")
    for r in records:
        subject = f"{r.subject_type}:{r.subject_id}" if r.subject_type else (r.subject_id or "")
        table.add_row(
            str(r.index), f"{r.at:%Y-%m-%d %H:%M:%S}", r.action, f"{r.actor_type}:{r.actor_id or ''}",
            r.customer_id or "", subject, ",".join(r.fields), r.purpose or "", r.decision or "",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""
    app.add_typer(audit_app, name="audit")
