"""Commands of the retail domain: `ombud import DIR`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ombud.cli.common import console, context, err_console

if TYPE_CHECKING:  # imported where used: the importer brings Polars and Arrow, which other commands never need
    from ombud.context import Context
    from ombud.identity import index as identity_index
    from ombud.retail.importer import ImportReport, RowError

#: Errors printed per file at the end of an import (all of them go to --rejects).
ERRORS_SHOWN_PER_FILE = 5


def index_upkeep(ctx: Context) -> identity_index.ImportUpkeep:
    """How this import keeps the identity index current: per batch, or built once at the end of a first import."""
    from ombud.identity import index as identity_index

    return identity_index.ImportUpkeep(ctx.sessions, ctx.keys, workers=ctx.settings.identity_build_workers)


def build_index(upkeep: identity_index.ImportUpkeep, *, transient: bool = False) -> None:
    """Build the identity index after an import that left it to the end (a progress bar); else nothing."""
    total = upkeep.sources()
    if not total:
        return
    columns = (TextColumn("{task.description:<26}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.completed:>11,} records"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=transient) as progress:
        task = progress.add_task("identity index", total=total)
        result = upkeep.finish(progress=lambda n: progress.advance(task, n))
    console.print(f"identity index built: {result.records:,} records under {result.keys:,} keys "
                  f"in {result.seconds:.1f} s")


def import_columns() -> tuple[ProgressColumn, ...]:
    """The columns of an import's per-file progress bars."""
    return (TextColumn("{task.description:<26}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>11,} rows"), TimeElapsedColumn())


@contextmanager
def reject_sink(rejects: Path | None) -> Iterator[Callable[[RowError], None] | None]:
    """A callback writing each rejected field to `rejects` as a JSON line (None without a file)."""
    if rejects is None:
        yield None
        return
    with rejects.open("w", encoding="utf-8") as sink:

        def write(error: RowError) -> None:
            sink.write(json.dumps(error.as_dict()) + "\n")

        yield write


class _Bars:
    """Rich progress bars, one per file, advancing by bytes read."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.rows: dict[str, int] = {}

    def start(self, kind: str, file: str, size: int) -> None:
        self.rows[kind] = 0
        self.tasks[kind] = self.progress.add_task(file, total=max(size, 1), rows=0)

    def advance(self, kind: str, position: int, rows: int) -> None:
        self.rows[kind] += rows
        self.progress.update(self.tasks[kind], completed=position, rows=self.rows[kind])

    def finish(self, kind: str) -> None:
        task = self.tasks[kind]
        self.progress.update(task, completed=self.progress.tasks[task].total, rows=self.rows[kind])


def _summary(report: ImportReport) -> Table:
    # Compact (no vertical rules, no edges): the summary of a 1M-row import still fits 80 columns.
    table = Table(title=f"import of {report.directory}", show_footer=True, box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1),
                  pad_edge=False, show_edge=False)
    totals = [report.read, *(sum(getattr(k, name) for k in report.kinds)
                             for name in ("inserted", "updated", "unchanged", "rejected"))]
    table.add_column("kind", footer="total", no_wrap=True)  # the kind names stay whole on a narrow terminal
    for name, total in zip(("read", "inserted", "updated", "unchanged", "rejected"), totals, strict=True):
        table.add_column(name, justify="right", footer=f"{total:,}", no_wrap=True)
    table.add_column("rows/s", justify="right", no_wrap=True,
                     footer=f"{report.read / report.seconds:,.0f}" if report.seconds else "")
    for k in report.kinds:
        rejected = f"[red]{k.rejected:,}[/]" if k.rejected else "0"
        table.add_row(k.kind, f"{k.read:,}", f"{k.inserted:,}", f"{k.updated:,}", f"{k.unchanged:,}",
                      rejected, f"{k.rows_per_second:,.0f}")
    table.caption = f"{report.seconds:.1f} s"
    return table


def _print_report(report: ImportReport, rejects: Path | None) -> None:
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if report.ignored_files:
        console.print("not import files, left alone: " + ", ".join(report.ignored_files))
    console.print(_summary(report))
    if report.warning_count:
        per_file_warned: dict[str, int] = {}
        err_console.print(f"[yellow]{report.warning_count:,} field warning(s)[/]: the rows landed without these "
                          "values (missing or invalid), or with an unissuable SSN marked weak:")
        for warning in report.field_warnings:
            per_file_warned[warning.file] = per_file_warned.get(warning.file, 0) + 1
            if per_file_warned[warning.file] <= ERRORS_SHOWN_PER_FILE:
                err_console.print(f"  {warning.file}:{warning.line}  [bold]{warning.field}[/]  {warning.reason}",
                                  highlight=False)
        shown_warnings = sum(min(n, ERRORS_SHOWN_PER_FILE) for n in per_file_warned.values())
        if report.warning_count > shown_warnings:
            where = f"all of them are in {rejects}" if rejects else "use --rejects FILE.jsonl to list them all"
            err_console.print(f"  ... and {report.warning_count - shown_warnings:,} more; {where}")
    if report.error_count:
        per_file: dict[str, int] = {}
        shown = 0
        err_console.print(f"[bold red]{report.rejected:,} row(s) rejected[/] ({report.error_count:,} problem(s)):")
        for error in report.errors:
            per_file[error.file] = per_file.get(error.file, 0) + 1
            if per_file[error.file] <= ERRORS_SHOWN_PER_FILE:
                shown += 1
                err_console.print(f"  {error.file}:{error.line}  [bold]{error.field}[/]  {error.reason}",
                                  highlight=False)
        if report.error_count > shown:
            where = f"all of them are in {rejects}" if rejects else "use --rejects FILE.jsonl to list them all"
            err_console.print(f"  ... and {report.error_count - shown:,} more; {where}")


def register(app: typer.Typer) -> None:
    """Add this domain's commands to the root app."""

    @app.command("import")
    def import_command(
        directory: Path = typer.Argument(..., help="Folder holding the retailer's files (docs/import-format.md)."),
        rejects: Path | None = typer.Option(
            None, "--rejects", help="Write every rejected field, and every field warning, as a JSON line (file, line, "
                                    "kind, field, reason, id, severity)."
        ),
        batch_size: int | None = typer.Option(
            None, "--batch-size", min=1, help="Rows per transaction (default: OMBUD_IMPORT_BATCH_SIZE, 5000)."
        ),
    ) -> None:
        """Import the retailer's records; every bad row is named (file, line, field) and the rest land."""
        from ombud.retail.importer import ImportAborted, import_directory

        ctx = context()
        try:
            upkeep = index_upkeep(ctx)
            try:
                with reject_sink(rejects) as on_reject, Progress(*import_columns(), console=console,
                                                                  transient=False) as progress:
                    report = import_directory(ctx, directory, batch_size=batch_size, progress=_Bars(progress),
                                              on_batch=upkeep.callbacks(), on_reject=on_reject)
            except ImportAborted as exc:
                _print_report(exc.report, rejects)
                err_console.print(f"[bold red]import stopped:[/] {exc.message}")
                build_index(upkeep)  # the rows before the failure have landed: they are indexed too
                raise typer.Exit(2) from exc
            _print_report(report, rejects)
            build_index(upkeep)
        finally:
            ctx.close()
        if not report.ok:
            raise typer.Exit(1)
