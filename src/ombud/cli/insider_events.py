"""`ombud insider import-events DIR|FILE`: access logs of the retailer's other tools (video, order, support)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from ombud.cli.common import console, context, err_console
from ombud.cli.retail import _Bars, _print_report, import_columns, reject_sink


def import_events_command(
    path: Path = typer.Argument(..., help="An access-event file, or a folder of access_events*.csv / .jsonl files "
                                "(docs/access-events-format.md)."),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Write every rejected field as a JSON line (file, line, kind, field, reason, id)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Events per transaction (default: OMBUD_IMPORT_BATCH_SIZE, 5000)."
    ),
) -> None:
    """Import access events from systems Ombud does not broker; every bad row is named (file, line, field)."""
    from ombud.errors import OmbudError
    from ombud.insider.eventimport import import_events
    from ombud.retail.importer import ImportAborted

    ctx = context()
    try:
        with reject_sink(rejects) as on_reject, Progress(*import_columns(), console=console,
                                                          transient=False) as progress:
            report = import_events(ctx, path, batch_size=batch_size, progress=_Bars(progress), on_reject=on_reject)
    except ImportAborted as exc:
        _print_report(exc.report, rejects)
        err_console.print(f"[bold red]import stopped:[/] {exc.message}")
        raise typer.Exit(2) from exc
    except OmbudError as exc:
        err_console.print(f"[bold red]error ({exc.field or 'PATH'}):[/] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        ctx.close()
    _print_report(report, rejects)
    if not report.ok:
        raise typer.Exit(1)
