"""Reading import files in chunks: CSV (RFC 4180) and JSON Lines, each row with its physical line number.

Rows that cannot be read as a record at all (a CSV row with the wrong number of fields, a line that is not a
JSON object, a nested value) are reported here; everything else goes on as text columns to the checks.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow as pa

from ombud.errors import InvalidInput
from ombud.retail.format import CSV_SUFFIXES, JSONL_SUFFIXES, KINDS, Kind
from ombud.retail.validate import LINE

#: Longest single CSV field accepted (support-note bodies can be long).
MAX_FIELD_CHARS = 1 << 22
ROW = "(row)"


@dataclass(frozen=True)
class Source:
    """One file to import: its kind, path and form."""

    kind: Kind
    path: Path
    form: str  # "csv" or "jsonl"

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class RawChunk:
    """Up to `chunk_rows` records of one file as text columns, with what could not be read."""

    frame: pl.DataFrame
    #: (line, field, reason) of records rejected while reading.
    errors: list[tuple[int, str, str]]
    #: How far into the file (bytes of the file as stored) reading has come.
    position: int


@dataclass
class Header:
    """A file's columns as found, and what is wrong or unexpected about them."""

    columns: list[str]
    unknown: list[str] = field(default_factory=list)


def find_sources(directory: Path) -> tuple[list[Source], list[str]]:
    """The files of `directory` to import, in import order, and the names of files that are not imported."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory", field="DIR")
    names = {p.name: p for p in directory.iterdir() if p.is_file()}
    sources: list[Source] = []
    used: set[str] = set()
    for kind in KINDS:
        found = [(form, names[kind.name + suffix]) for form, suffixes in (("csv", CSV_SUFFIXES),
                                                                            ("jsonl", JSONL_SUFFIXES))
                 for suffix in suffixes if kind.name + suffix in names]
        if len(found) > 1:
            listed = ", ".join(p.name for _, p in found)
            raise InvalidInput(f"{kind.name} is given more than once ({listed}); keep one file per kind",
                               field=kind.name)
        if found:
            form, path = found[0]
            sources.append(Source(kind, path, form))
            used.add(path.name)
    ignored = sorted(name for name in names if name not in used and not name.startswith("."))
    return sources, ignored


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


class _Position:
    """The byte offset of the file as stored, readable while a text wrapper reads ahead of it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._file = getattr(raw, "fileobj", None) or raw

    def __call__(self) -> int:
        return self._file.tell()


def _text(binary: IO[bytes]) -> io.TextIOWrapper:
    # Invalid UTF-8 becomes U+FFFD, which the checks then report per field instead of failing the file.
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline="")


def read_header(source: Source) -> Header:
    """The columns of a CSV file's header, checked against its kind; JSON Lines have no header."""
    if source.form != "csv":
        return Header(columns=list(source.kind.field_names))
    csv.field_size_limit(MAX_FIELD_CHARS)
    with _open_binary(source.path) as binary, _text(binary) as text:
        try:
            columns = next(csv.reader(text, strict=True), None)
        except csv.Error as exc:
            raise InvalidInput(f"{source.name} line 1: the header is not valid CSV ({exc})", field="header") from exc
    if not columns:
        raise InvalidInput(f"{source.name} is empty: it needs a header row", field="header")
    columns = [c.strip() for c in columns]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InvalidInput(f"{source.name} line 1: column {column!r} appears twice", field=column)
        seen.add(column)
    missing = [name for name in source.kind.required if name not in seen]
    if missing:
        raise InvalidInput(f"{source.name} line 1: required column(s) missing: {', '.join(missing)}",
                           field=missing[0])
    known = set(source.kind.field_names)
    return Header(columns=columns, unknown=[c for c in columns if c not in known and c])


def _frame(arrays: dict[str, pa.Array], lines: list[int]) -> pl.DataFrame:
    frame = pl.from_arrow(pa.table(arrays)) if arrays else pl.DataFrame()
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.Series(LINE, lines, dtype=pl.Int64))


def _starts(rows: list[list[str]], first_line: int, last_line: int | None) -> tuple[list[int], int]:
    """The first physical line of each record read in one run, and the line after the run."""
    if last_line is not None and last_line - first_line + 1 == len(rows):  # one record per line: the usual case
        return list(range(first_line, last_line + 1)), last_line + 1
    starts, line = [], first_line
    for row in rows:
        starts.append(line)
        line += 1 + sum(value.count("\n") for value in row)
    return starts, line


def read_csv(source: Source, header: Header, chunk_rows: int) -> Iterator[RawChunk]:
    """The data records of a CSV file in chunks; blank lines are skipped, ragged rows reported."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    width = len(header.columns)
    known = set(source.kind.field_names)
    wanted = [i for i, name in enumerate(header.columns) if name in known]
    with _open_binary(source.path) as binary, _text(binary) as text:
        position = _Position(binary)
        reader = csv.reader(text, strict=True)
        next(reader)
        next_line = reader.line_num + 1
        done = False
        while not done:
            records: list[list[str]] = []
            lines: list[int] = []
            errors: list[tuple[int, str, str]] = []
            while len(records) < chunk_rows:
                run: list[list[str]] = []
                try:
                    run.extend(itertools.islice(reader, chunk_rows - len(records)))
                except csv.Error as exc:
                    # The bad record starts right after the last good one; reading resumes after it.
                    starts, bad_line = _starts(run, next_line, None)
                    _keep(run, starts, width, records, lines, errors)
                    errors.append((bad_line, ROW, f"is not valid CSV ({exc})"))
                    next_line = reader.line_num + 1
                    continue
                if not run:
                    done = True
                    break
                starts, next_line = _starts(run, next_line, reader.line_num)
                _keep(run, starts, width, records, lines, errors)
            if not records and not errors:
                break
            columns = list(zip(*records, strict=True)) if records else [() for _ in range(width)]
            arrays = {header.columns[i]: pa.array(columns[i], type=pa.string()) for i in wanted}
            yield RawChunk(_frame(arrays, lines), errors, position())


def _keep(segment: list[list[str]], starts: list[int], width: int, records: list[list[str]], lines: list[int],
          errors: list[tuple[int, str, str]]) -> None:
    """Move well-formed records into the chunk; blank lines are dropped, ragged rows become errors."""
    if all(len(row) == width for row in segment):
        records.extend(segment)
        lines.extend(starts)
        return
    for row, line in zip(segment, starts, strict=True):
        if len(row) == width:
            records.append(row)
            lines.append(line)
        elif row and any(value.strip() for value in row):
            errors.append((line, ROW, f"has {len(row)} fields; the header has {width}"))


_SCALARS = (str, int, float, bool)


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_jsonl(source: Source, chunk_rows: int, unknown: set[str]) -> Iterator[RawChunk]:
    """The objects of a JSON Lines file in chunks; numbers keep their written form, blank lines are skipped."""
    names = list(source.kind.field_names)
    known = set(names)
    with _open_binary(source.path) as binary, _text(binary) as text:
        position = _Position(binary)
        number = 0
        exhausted = False
        while not exhausted:
            objects: list[dict[str, Any]] = []
            lines: list[int] = []
            errors: list[tuple[int, str, str]] = []
            while len(objects) < chunk_rows:
                raw = text.readline()
                if not raw:
                    exhausted = True
                    break
                number += 1
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw, parse_float=str, parse_int=str, parse_constant=_reject_constant)
                except ValueError as exc:
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    errors.append((number, ROW, f"is not valid JSON ({reason})"))
                    continue
                if not isinstance(obj, dict):
                    errors.append((number, ROW, "is not a JSON object"))
                    continue
                nested = [k for k in names if k in obj and obj[k] is not None and not isinstance(obj[k], _SCALARS)]
                if nested:
                    errors.extend((number, k, "must be a single value, not a list or object") for k in nested)
                    continue
                objects.append(obj)
                lines.append(number)
            if not objects and not errors:
                break
            for obj in objects:
                if obj.keys() - known:
                    unknown.update(obj.keys() - known)
            arrays = {}
            for name in names:
                values = [obj.get(name) for obj in objects]
                try:
                    arrays[name] = pa.array(values, type=pa.string())
                except (pa.ArrowInvalid, pa.ArrowTypeError):
                    arrays[name] = pa.array([_scalar(v) for v in values], type=pa.string())
            yield RawChunk(_frame(arrays, lines), errors, position())


def _reject_constant(name: str) -> str:
    raise ValueError(f"{name} is not a number JSON allows")
