"""`ombud insider import-events`: access logs of the retailer's other tools, checked row by row, landed in batches.

The files are read and checked with the retail import's reader and checks (`ombud.retail.reader`,
`ombud.retail.validate`), so a bad row is named by file, line and field in the same way and nothing of it
lands. Events are keyed on (source_system, event_id): importing the same files again writes nothing, and a
corrected event replaces the stored one. Each run is one `insider_import_batch` row; an event keeps the id
of the run that last wrote it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from ombud import clock
from ombud.context import Context
from ombud.errors import InvalidInput, OmbudError
from ombud.insider.eventformat import ACCESS_EVENTS, FILE_PREFIX, form_of
from ombud.insider.events import AccessEvent, ImportBatch
from ombud.retail import reader
from ombud.retail.importer import MIN_CHUNK_ROWS, ImportAborted, ImportProgress, ImportReport, KindReport, RowError
from ombud.retail.links import KeyTracker, References, Rejected, resolve_references
from ombud.retail.store import STORE_ERRORS, Landed, Store, TableWrite
from ombud.retail.tables import resolved
from ombud.retail.validate import LINE, check, empty_errors, normalise

WRITE = TableWrite(
    AccessEvent.__tablename__, ("source_system", "external_id"),
    ("source_system", "external_id", "employee_id", "customer_id", "data_class", "at", "ip", "site", "ticket_ref",
     "break_glass", "batch_id"),
    # The run that last changed the event; an identical event keeps the run that first brought it.
    not_compared=("batch_id",),
)
ERRORS_KEPT = 1000


def find_event_files(path: Path) -> tuple[list[reader.Source], list[str]]:
    """The files to import: `path` itself, or the access_events*.csv/.jsonl files of a folder; and the others."""
    if path.is_file():
        form = form_of(path)
        if form is None:
            raise InvalidInput(f"{path.name}: expected a .csv, .jsonl, .csv.gz or .jsonl.gz file", field="PATH")
        return [reader.Source(ACCESS_EVENTS, path, form)], []
    if not path.is_dir():
        raise InvalidInput(f"{path} is neither a file nor a folder", field="PATH")
    sources, ignored = [], []
    for entry in sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")):
        form = form_of(entry)
        if form is not None and entry.name.startswith(FILE_PREFIX):
            sources.append(reader.Source(ACCESS_EVENTS, entry, form))
        else:
            ignored.append(entry.name)
    if not sources:
        raise InvalidInput(f"{path} holds no {FILE_PREFIX}*.csv or {FILE_PREFIX}*.jsonl file", field="PATH")
    return sources, ignored


def import_events(ctx: Context, path: Path, *, batch_size: int | None = None,
                  on_reject: Callable[[RowError], None] | None = None,
                  progress: ImportProgress | None = None) -> ImportReport:
    """Import access-event files (see docs/access-events-format.md) and report what happened to every row."""
    started = time.perf_counter()
    sources, ignored = find_event_files(path)
    headers = {s.path: reader.read_header(s) for s in sources}  # a bad header stops the run before any write
    report = ImportReport(directory=path, ignored_files=ignored)
    for source in sources:
        for column in headers[source.path].unknown:
            report.warnings.append(f"{source.name}: column {column!r} is not part of the format; ignored")
    run = _EventRun(ctx.sessions, report, batch_size or ctx.settings.import_batch_size, on_reject, progress)
    run.begin([s.name for s in sources])
    try:
        for source in sources:
            run.import_file(source, headers[source.path])
    finally:
        run.end()
    report.seconds = time.perf_counter() - started
    return report


class _EventRun:
    """One run: its batch row, what it rejected, the id maps of employees and customers it has read."""

    def __init__(self, sessions: sessionmaker[Session], report: ImportReport, batch_size: int,
                 on_reject: Callable[[RowError], None] | None, progress: ImportProgress | None) -> None:
        self.sessions = sessions
        self.report = report
        self.batch_size = max(1, batch_size)
        self.chunk_rows = max(self.batch_size, MIN_CHUNK_ROWS)
        self.on_reject = on_reject
        self.progress = progress
        self.references = References()
        self.rejected = Rejected()
        self.batch_id = 0
        #: True while every row is new: the table was empty when the run began and only its first file is read.
        self.fresh = False
        self.now = clock.now()

    def begin(self, files: list[str]) -> None:
        with self.sessions() as session:
            if not inspect(session.connection()).has_table(AccessEvent.__tablename__):
                raise OmbudError(f"the store has no table {AccessEvent.__tablename__}: run `ombud db upgrade` first",
                                 field="database")
            self.fresh = session.execute(select(AccessEvent.id).limit(1)).first() is None
            batch = ImportBatch(started_at=self.now, files=files, read=0, inserted=0, updated=0, unchanged=0,
                                rejected=0)
            session.add(batch)
            session.commit()
            self.batch_id = batch.id

    def end(self) -> None:
        """Stamp the run's batch row with its counts (also after a failure: what landed is counted)."""
        kinds = self.report.kinds
        with self.sessions() as session:
            session.execute(update(ImportBatch).where(ImportBatch.id == self.batch_id).values(
                finished_at=clock.now(), read=sum(k.read for k in kinds), inserted=sum(k.inserted for k in kinds),
                updated=sum(k.updated for k in kinds), unchanged=sum(k.unchanged for k in kinds),
                rejected=sum(k.rejected for k in kinds)))
            session.commit()

    def import_file(self, source: reader.Source, header: reader.Header) -> None:
        file_started = time.perf_counter()
        kind_report = KindReport(ACCESS_EVENTS.name, source.name)
        self.report.kinds.append(kind_report)
        size = source.path.stat().st_size
        if self.progress:
            self.progress.start(source.name, source.name, size)
        tracker = KeyTracker(ACCESS_EVENTS)
        if source.form == "csv":
            chunks = reader.read_csv(source, header, self.chunk_rows)
        else:
            unknown: set[str] = set()
            chunks = reader.read_jsonl(source, self.chunk_rows, unknown)
        for chunk in chunks:
            kind_report.read += chunk.frame.height + len({line for line, _, _ in chunk.errors})
            expected = int(size * kind_report.read / chunk.position) if chunk.position else kind_report.read
            raw = normalise(ACCESS_EVENTS, chunk.frame)
            checked = check(ACCESS_EVENTS, raw, today=self.now.date())
            rows, dups = tracker.claim(checked.rows)
            rows, ref_errors = self._resolve(source, rows, expected)
            errors = pl.concat([checked.errors, dups, ref_errors, _frame_errors(chunk.errors)])
            self._reject(source, errors, raw, kind_report)
            self._write(source, _table_rows(rows, self.batch_id), rows.get_column(LINE), kind_report)
            if self.progress:
                self.progress.advance(source.name, chunk.position, chunk.frame.height)
        if source.form == "jsonl":
            for name in sorted(unknown):
                self.report.warnings.append(f"{source.name}: field {name!r} is not part of the format; ignored")
        self.fresh = False  # a later file may repeat an event of this one: it is then matched, not inserted
        kind_report.seconds = time.perf_counter() - file_started
        if self.progress:
            self.progress.finish(source.name)

    def _resolve(self, source: reader.Source, rows: pl.DataFrame, expected: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        if self.references.ready(ACCESS_EVENTS):
            return resolve_references(ACCESS_EVENTS, rows, None, self.rejected, self.references, expected)
        with self.sessions() as session:
            try:
                return resolve_references(ACCESS_EVENTS, rows, Store(session), self.rejected, self.references,
                                          expected)
            except STORE_ERRORS as exc:
                raise ImportAborted(f"{source.name}: looking up employees and customers failed "
                                    f"({type(exc).__name__})", self.report) from exc
            finally:
                session.rollback()

    def _reject(self, source: reader.Source, errors: pl.DataFrame, raw: pl.DataFrame,
                kind_report: KindReport) -> None:
        if errors.is_empty():
            return
        errors = errors.unique(maintain_order=True).sort("line", maintain_order=True)
        keys = raw.select(pl.col(LINE).alias("line"),
                          pl.concat_str([pl.col("source_system"), pl.col("event_id")], separator="#").alias("key"))
        errors = errors.join(keys.unique("line"), on="line", how="left", maintain_order="left")
        kind_report.rejected += errors.get_column("line").n_unique()
        for line, field_name, reason, key in errors.iter_rows():
            error = RowError(source.name, line, ACCESS_EVENTS.name, field_name, reason, key)
            self.report.error_count += 1
            if len(self.report.errors) < ERRORS_KEPT:
                self.report.errors.append(error)
            if self.on_reject is not None:
                self.on_reject(error)

    def _write(self, source: reader.Source, table: pl.DataFrame, lines: pl.Series, kind_report: KindReport) -> None:
        """Land the chunk's events in transactions of `batch_size` rows."""
        with self.sessions() as session:
            store = Store(session)
            for offset in range(0, table.height, self.batch_size):
                batch = table.slice(offset, self.batch_size)
                try:
                    landed = Landed(store.insert_new(WRITE, batch), [], 0) if self.fresh else store.upsert(WRITE, batch)
                    session.commit()
                except STORE_ERRORS as exc:
                    session.rollback()
                    part = lines.slice(offset, self.batch_size)
                    raise ImportAborted(f"{source.name}: the store refused the events of lines {part.min()}-"
                                        f"{part.max()} ({type(exc).__name__}); events before them have landed",
                                        self.report) from exc
                kind_report.inserted += len(landed.inserted)
                kind_report.updated += len(landed.updated)
                kind_report.unchanged += landed.unchanged


def _table_rows(rows: pl.DataFrame, batch_id: int) -> pl.DataFrame:
    """Checked, resolved events as rows of insider_access_event (the customer kept as the retailer's id)."""
    employee = ACCESS_EVENTS.get("employee_id")
    return rows.select(
        "source_system", pl.col("event_id").alias("external_id"), pl.col(resolved(employee)).alias("employee_id"),
        "customer_id", "data_class", "at", "ip", "site", "ticket_ref", "break_glass",
        pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
    )


def _frame_errors(errors: list[tuple[int, str, str]]) -> pl.DataFrame:
    if not errors:
        return empty_errors()
    return pl.DataFrame(errors, schema=empty_errors().schema, orient="row")
