"""`ombud import DIR`: read the retailer's files, check every row, land the good ones in batches, report the rest.

One row is one unit: it lands whole or is rejected whole, with its file, line, field and reason. A row that
refers to a rejected or unknown row is rejected too (an order line of a rejected order, an order shipping to
another account's address). Importing the same files again writes nothing: rows are matched on the
retailer's ids and only rows that differ are updated. After each batch lands, the `on_batch` callbacks run
in the same transaction with the internal ids of the rows inserted or changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import polars as pl
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from ombud import clock
from ombud.context import Context
from ombud.errors import OmbudError
from ombud.keys import KeyRing
from ombud.retail import reader
from ombud.retail.format import KINDS_BY_NAME, Kind
from ombud.retail.landing import Lander
from ombud.retail.links import (
    KeyTracker,
    References,
    Rejected,
    refuse_own_manager,
    resolve_managers,
    resolve_references,
)
from ombud.retail.store import STORE_ERRORS, Landed, Store, TableWrite, sqlite_rows
from ombud.retail.tables import WRITES, table_rows
from ombud.retail.validate import LINE, check, empty_errors, normalise

#: Called after each batch lands, inside its transaction: (session, kind, ids of rows inserted or changed).
BatchCallback = Callable[[Session, str, list[int]], None]
#: Records read and checked together; batches of `batch_size` rows are written from each chunk.
MIN_CHUNK_ROWS = 100_000
#: Errors kept in the report for display; all of them go to `on_reject`.
ERRORS_KEPT = 1000


@dataclass(frozen=True)
class RowError:
    """One rejected field of one row: where it is and why (never the value)."""

    file: str
    line: int
    kind: str
    field: str
    reason: str
    key: str | None = None
    #: "error": the row was rejected; "warning": the row landed without this field's value (a soft field).
    severity: str = "error"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "kind": self.kind, "field": self.field,
                "reason": self.reason, "id": self.key, "severity": self.severity}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass
class KindReport:
    """What happened to one kind's rows."""

    kind: str
    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    #: Time from the previous file landing to this one landing (reading a file overlaps writing the one before).
    seconds: float = 0.0
    #: CPU time of this process (all its threads) over the same span; the store's own work on a server excluded.
    cpu_seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ImportReport:
    """The outcome of one import: counts per kind, the first errors, and notes about the files."""

    directory: Path
    kinds: list[KindReport] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Problems with soft fields of rows that landed (the first ERRORS_KEPT; all go to `on_reject`).
    field_warnings: list[RowError] = field(default_factory=list)
    warning_count: int = 0
    ignored_files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        return sum(k.rejected for k in self.kinds)

    @property
    def read(self) -> int:
        return sum(k.read for k in self.kinds)

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def kind(self, name: str) -> KindReport:
        """The report of one kind (an empty one if its file was absent)."""
        for report in self.kinds:
            if report.kind == name:
                return report
        return KindReport(name, "")


class ImportProgress(Protocol):
    """Receives progress while files are read (the CLI draws bars from it)."""

    def start(self, kind: str, file: str, size: int) -> None: ...

    def advance(self, kind: str, position: int, rows: int) -> None: ...

    def finish(self, kind: str) -> None: ...


class ImportAborted(OmbudError):
    """The store refused a batch (not a row problem); rows landed before it stay, the report says which."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message)
        self.report = report


def import_directory(
    ctx: Context,
    directory: Path,
    *,
    batch_size: int | None = None,
    on_batch: Sequence[BatchCallback] = (),
    on_reject: Callable[[RowError], None] | None = None,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Import every known file of `directory` (see docs/import-format.md) and report what happened."""
    started = time.perf_counter()
    sources, ignored = reader.find_sources(directory)
    if not sources:
        raise OmbudError(f"{directory} holds no import file (expected e.g. accounts.csv or accounts.jsonl)",
                         field="DIR")
    headers = {s.kind.name: reader.read_header(s) for s in sources}  # refuse a bad header before writing
    _check_store(ctx.sessions)
    report = ImportReport(directory=directory, ignored_files=ignored)
    for source in sources:
        for column in headers[source.kind.name].unknown:
            report.warnings.append(f"{source.name}: column {column!r} is not part of the format; ignored")
    run = _Run(ctx.sessions, ctx.keys, report, batch_size or ctx.settings.import_batch_size,
               list(on_batch), on_reject, progress)
    try:
        for source in sources:
            run.import_source(source, headers[source.kind.name])
        run.lander.drain()
    except BaseException:
        run.lander.close(cancel=True)
        raise
    run.lander.close()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Target:
    """Where one file's rows land, and how: straight inserts when its table was empty when the file began."""

    kind: Kind
    write: TableWrite
    #: Decided by the first batch: True when the table was empty (every row is new: a first import).
    fresh: bool | None = None


class _Run:
    """State of one import: the report, what was rejected (for better reasons downstream), the sinks.

    The calling thread reads and checks; a `Lander` thread writes. The writer runs at most a couple of chunks
    behind; a file's references are resolved only once every earlier file has landed.
    """

    def __init__(self, sessions: sessionmaker[Session], keys: KeyRing, report: ImportReport, batch_size: int,
                 on_batch: list[BatchCallback], on_reject: Callable[[RowError], None] | None,
                 progress: ImportProgress | None) -> None:
        self.sessions = sessions
        self.keys = keys
        self.report = report
        self.batch_size = max(1, batch_size)
        self.chunk_rows = max(self.batch_size, MIN_CHUNK_ROWS)
        self.on_batch = on_batch
        self.on_reject = on_reject
        self.progress = progress
        self.rejected = Rejected()
        self.references = References()
        self._pending_warnings = empty_errors()
        self.now: datetime = clock.now()
        self.lander = Lander()
        with sessions() as session:  # which store, without connecting
            self.sqlite = session.get_bind().dialect.name == "sqlite"
        #: The kind whose references may be resolved now (every earlier file has landed).
        self._resolving: str | None = None
        #: Wall and CPU clocks when the previous file finished landing.
        self._landed_at = (time.perf_counter(), time.process_time())

    # --- reading and checking (calling thread) -----------------------------------------------------------

    def _chunks(self, source: reader.Source, header: reader.Header) -> Iterator[reader.RawChunk]:
        if source.form == "csv":
            yield from reader.read_csv(source, header, self.chunk_rows)
            return
        unknown: set[str] = set()
        yield from reader.read_jsonl(source, self.chunk_rows, unknown)
        for name in sorted(unknown):
            self.report.warnings.append(f"{source.name}: field {name!r} is not part of the format; ignored")

    def _checked(self, source: reader.Source, chunk: reader.RawChunk, tracker: KeyTracker,
                 expected_rows: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(rows that passed every check, their errors, the normalised chunk) for one raw chunk."""
        kind = source.kind
        raw = normalise(kind, chunk.frame)
        checked = check(kind, raw, today=self.now.date())
        self._pending_warnings = checked.warnings
        errors = [checked.errors, _frame_errors(chunk.errors)]
        rows = checked.rows
        rows, dup_errors = tracker.claim(rows)
        errors.append(dup_errors)
        if kind.name == "staff_hr":
            rows, own_errors = refuse_own_manager(rows)
            errors.append(own_errors)
        if kind.name != "employees":
            rows, ref_errors = self._resolve(source, rows, expected_rows)
            errors.append(ref_errors)
        return rows, pl.concat(errors), raw

    def _resolve(self, source: reader.Source, rows: pl.DataFrame,
                 expected_rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        kind = source.kind
        if self._resolving != kind.name:
            self.lander.drain()  # the rows referred to must have landed
            self._resolving = kind.name
        if self.references.ready(kind):  # every id map in memory: no lookup in the store
            return resolve_references(kind, rows, None, self.rejected, self.references, expected_rows)
        with self.lander.lock, self.sessions() as session:
            try:
                return resolve_references(kind, rows, Store(session), self.rejected, self.references,
                                          expected_rows)
            except STORE_ERRORS as exc:
                raise ImportAborted(f"{source.name}: looking up references failed ({_describe(exc)})",
                                    self.report) from exc
            finally:
                session.rollback()  # lookups only

    def _reject(self, source: reader.Source, errors: pl.DataFrame, raw: pl.DataFrame, kind_report: KindReport) -> None:
        """Report each error and remember the rejected rows' ids for the kinds that refer to them."""
        if errors.is_empty():
            return
        errors = errors.unique(maintain_order=True).sort("line", maintain_order=True)
        key_text = _key_text(source.kind)
        keys = raw.select(pl.col(LINE).alias("line"), key_text.alias("key")).unique("line")
        errors = errors.join(keys, on="line", how="left", maintain_order="left")
        lines = errors.get_column("line").unique()
        kind_report.rejected += lines.len()
        self.rejected.add(source.kind.name, keys.filter(pl.col("line").is_in(lines.implode())), source.name)
        for line, field_name, reason, key in errors.iter_rows():
            error = RowError(source.name, line, source.kind.name, field_name, reason, key)
            self.report.error_count += 1
            if len(self.report.errors) < ERRORS_KEPT:
                self.report.errors.append(error)
            if self.on_reject is not None:
                self.on_reject(error)

    def _warn(self, source: reader.Source, rows: pl.DataFrame, raw: pl.DataFrame) -> None:
        """Report the soft-field problems of the rows that are landing (reported like rejects, as warnings)."""
        warnings, self._pending_warnings = self._pending_warnings, empty_errors()
        if warnings.is_empty():
            return
        warnings = warnings.filter(pl.col("line").is_in(rows.get_column(LINE).implode()))
        keys = raw.select(pl.col(LINE).alias("line"), _key_text(source.kind).alias("key")).unique("line")
        for line, field_name, reason, key in warnings.join(keys, on="line", how="left",
                                                           maintain_order="left").iter_rows():
            warning = RowError(source.name, line, source.kind.name, field_name, reason, key, "warning")
            self.report.warning_count += 1
            if len(self.report.field_warnings) < ERRORS_KEPT:
                self.report.field_warnings.append(warning)
            if self.on_reject is not None:
                self.on_reject(warning)

    def import_source(self, source: reader.Source, header: reader.Header) -> None:
        kind = source.kind
        kind_report = KindReport(kind.name, source.name)
        self.report.kinds.append(kind_report)
        size = source.path.stat().st_size
        if self.progress:
            self.progress.start(kind.name, source.name, size)
        tracker = KeyTracker(kind)
        target = _Target(kind, WRITES[kind.name])
        pending: list[pl.DataFrame] = []
        for chunk in self._chunks(source, header):
            kind_report.read += chunk.frame.height + len({line for line, _, _ in chunk.errors})
            # Rows the whole file will hold, from the bytes per row read so far.
            expected_rows = int(size * kind_report.read / chunk.position) if chunk.position else kind_report.read
            rows, errors, raw = self._checked(source, chunk, tracker, expected_rows)
            self._reject(source, errors, raw, kind_report)
            self._warn(source, rows, raw)
            if kind.name == "employees":
                pending.append(rows)  # managers may be listed after their reports: land the file at once
                if self.progress:
                    self.progress.advance(kind.name, chunk.position, chunk.frame.height)
                continue
            # Card fingerprints, SSNs and the driver's row tuples are made on this thread, leaving the writer
            # only the store's own work.
            table = table_rows(kind, rows, self.keys, self.now)
            encoded = sqlite_rows(table) if self.sqlite else None
            self.lander.submit(partial(self._write, source, target, table, encoded, rows.get_column(LINE),
                                       kind_report, chunk.position, chunk.frame.height))
        if kind.name == "employees":
            self.lander.drain()
            with self.lander.lock:
                self._employees(source, pending, kind_report)
        self.references.release(kind.name)
        self.lander.submit(partial(self._finish, target, kind_report))

    # --- landing (writer thread) -------------------------------------------------------------------------

    def _land(self, session: Session, kind: str, landed: Landed, kind_report: KindReport) -> None:
        kind_report.inserted += len(landed.inserted)
        kind_report.updated += len(landed.updated)
        kind_report.unchanged += landed.unchanged
        ids = landed.inserted + landed.updated
        if ids:
            for callback in self.on_batch:
                callback(session, kind, ids)

    def _write(self, source: reader.Source, target: _Target, table: pl.DataFrame,
               encoded: list[tuple[Any, ...]] | None, lines: pl.Series, kind_report: KindReport, position: int,
               rows_read: int) -> None:
        """Land one chunk's rows in transactions of `batch_size` rows, each with its callbacks."""
        with self.sessions() as session:
            store = Store(session)
            for offset in range(0, table.height, self.batch_size):
                batch = table.slice(offset, self.batch_size)
                batch_encoded = encoded[offset : offset + self.batch_size] if encoded is not None else None
                with self.lander.lock:
                    try:
                        landed = self._store_batch(store, target, batch, batch_encoded)
                        self._land(session, target.kind.name, landed, kind_report)
                        session.commit()
                    except STORE_ERRORS as exc:
                        session.rollback()
                        batch_lines = lines.slice(offset, self.batch_size)
                        raise ImportAborted(
                            f"{source.name}: the store refused the batch of lines {batch_lines.min()}-"
                            f"{batch_lines.max()} ({_describe(exc)}); rows before it have landed",
                            self.report,
                        ) from exc
        if self.progress:
            self.progress.advance(target.kind.name, position, rows_read)

    def _store_batch(self, store: Store, target: _Target, batch: pl.DataFrame,
                     encoded: list[tuple[Any, ...]] | None) -> Landed:
        """Write one batch: updates only (HR facts), straight inserts (a table empty at the start) or upserts."""
        write = target.write
        if write.update_only:
            return store.update_existing(write, batch)
        if target.fresh is None:
            target.fresh = store.is_empty(write.table)
            store.session.rollback()  # the writes begin a transaction of their own
        if target.fresh:
            return Landed(store.insert_new(write, batch, encoded), [], 0)
        return store.upsert(write, batch, encoded)

    def _finish(self, target: _Target, kind_report: KindReport) -> None:
        """After a file's last batch: fresh statistics for the planner, and the file's share of the time."""
        with self.lander.lock, self.sessions() as session:
            Store(session).analyze(target.write.table)
            session.commit()
        now, cpu = time.perf_counter(), time.process_time()
        kind_report.seconds = now - self._landed_at[0]
        kind_report.cpu_seconds = cpu - self._landed_at[1]
        self._landed_at = (now, cpu)
        if self.progress:
            self.progress.finish(target.kind.name)

    def _employees(self, source: reader.Source, pending: list[pl.DataFrame], kind_report: KindReport) -> None:
        """The staff directory lands in one transaction: rows first, then each manager link."""
        rows = pl.concat(pending) if pending else None
        if rows is None or rows.is_empty():
            return
        with self.sessions() as session:
            store = Store(session)
            everyone = rows
            rows, errors = resolve_managers(rows, store)
            self._reject(source, errors, everyone, kind_report)
            write = WRITES["employees"]
            try:
                landed = store.upsert(write, table_rows(source.kind, rows, self.keys, self.now))
                ids = store.select_in(write.table, "external_id", rows.get_column("employee_id").to_list(),
                                      {"id": pl.Int64})
                links = (rows.select(pl.col("employee_id").alias("external_id"), pl.col("manager_id"))
                         .join(ids.rename({"external_id": "manager_id", "id": "manager"}), on="manager_id",
                               how="left")
                         .select("external_id", pl.col("manager").alias("manager_id")))
                relinked = store.update_where_different(write, ("manager_id",), links)
                inserted = set(landed.inserted)
                updated = set(landed.updated) | {i for i in relinked if i not in inserted}
                landed = Landed(landed.inserted, sorted(updated), rows.height - len(inserted) - len(updated))
                self._land(session, "employees", landed, kind_report)
                session.commit()
            except STORE_ERRORS as exc:
                session.rollback()
                raise ImportAborted(f"{source.name}: the store refused the staff directory "
                                    f"({_describe(exc)}); no employee landed", self.report) from exc


def _check_store(sessions: sessionmaker[Session]) -> None:
    """Refuse to start on a store without the tables (before any file is read)."""
    with sessions() as session:
        inspector = inspect(session.connection())
        missing = [w.table for w in WRITES.values() if not inspector.has_table(w.table)]
    if missing:
        raise OmbudError(f"the store has no table {missing[0]}: run `ombud db upgrade` first", field="database")


def _describe(exc: Exception) -> str:
    """A store error without the statement's parameters (they may hold personal data)."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    if diag is not None:  # PostgreSQL: the constraint and SQLSTATE, never the offending values
        parts = [getattr(orig, "sqlstate", None), diag.constraint_name, diag.table_name]
        return f"{type(orig).__name__}: " + ", ".join(p for p in parts if p)
    return f"{type(orig).__name__}: {str(orig).splitlines()[0] if str(orig) else ''}"


def _frame_errors(errors: list[tuple[int, str, str]]) -> pl.DataFrame:
    if not errors:
        return empty_errors()
    return pl.DataFrame(errors, schema=empty_errors().schema, orient="row")


def _key_text(kind: Kind) -> pl.Expr:
    """The retailer's id of a row as one text (order lines: ORDER#LINE)."""
    if len(kind.key) == 1:
        return pl.col(kind.key[0])
    return pl.concat_str([pl.col(k) for k in kind.key], separator="#")


def kind_names() -> list[str]:
    """Every kind, in import order."""
    return list(KINDS_BY_NAME)
