"""Reading import files in chunks: CSV (RFC 4180) and JSON Lines, each row with its physical line number.

Rows that cannot be read as a record at all (a CSV row with the wrong number of fields, a line that is not a
JSON object, a nested value) are reported here; everything else goes on as text columns to the checks.
"""

from __future__ import annotations

import codecs
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
import pyarrow.csv as pacsv

from ombud.errors import InvalidInput
from ombud.retail.format import CSV_SUFFIXES, JSONL_SUFFIXES, KINDS, Kind
from ombud.retail.validate import LINE

#: Longest single CSV field accepted (support-note bodies can be long).
MAX_FIELD_CHARS = 1 << 22
ROW = "(row)"
UNCLOSED = "has a quote that is never closed"


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
    #: Physical lines the header takes (a quoted column name may hold a line break).
    lines: int = 1


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
            header_reader = csv.reader(text, strict=True)
            columns = next(header_reader, None)
            lines = header_reader.line_num
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
    return Header(columns=columns, unknown=[c for c in columns if c not in known and c], lines=lines)


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
    if header.lines == 1 and _plain(source.path):
        yield from _read_csv_arrow(source, header, chunk_rows)
    else:  # the exact, slower reader names each value that is not UTF-8 and each quote left open
        yield from _read_csv_python(source, header, chunk_rows)


def _plain(path: Path) -> bool:
    """True when the file is valid UTF-8 and its quotes pair up (Arrow's parser would accept either silently)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    quotes = 0
    with _open_binary(path) as binary:
        try:
            while block := binary.read(1 << 23):
                decoder.decode(block)
                quotes += block.count(b'"')
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return quotes % 2 == 0


def _read_csv_arrow(source: Source, header: Header, chunk_rows: int) -> Iterator[RawChunk]:
    """Arrow's CSV parser (C++), with the physical line of each record worked out from its record number.

    Arrow numbers records (the header is record 1) and reports a ragged one with its number; a record's line
    is its number plus the line breaks inside quoted values of the records before it.
    """
    known = set(source.kind.field_names)
    wanted = [name for name in header.columns if name in known]
    ragged: list[tuple[int, int, int, str]] = []

    def on_ragged(row: Any) -> str:
        # Only the field count and the line breaks and quotes of the text are kept: never the values.
        ragged.append((row.number, row.actual_columns, row.text.count("\n"), row.text.count('"') % 2))
        return "skip"

    read = pacsv.ReadOptions(use_threads=False, block_size=1 << 22, column_names=header.columns, skip_rows=1)
    parse = pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_ragged)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(header.columns, pa.string()), include_columns=wanted,
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    width = len(header.columns)
    next_record, extra_lines = 2, 0
    with _open_binary(source.path) as binary:
        position = _Position(binary)
        stream = pacsv.open_csv(binary, read_options=read, parse_options=parse, convert_options=convert)
        pending: list[pa.RecordBatch] = []
        rows = 0
        for batch in itertools.chain(stream, [None]):
            if batch is not None:
                pending.append(batch)
                rows += batch.num_rows
                if rows < chunk_rows:
                    continue
            if not pending and not ragged:
                break
            table = pa.Table.from_batches(pending, schema=stream.schema)
            frame = pl.from_arrow(table) if table.num_columns else pl.DataFrame(height=table.num_rows)
            assert isinstance(frame, pl.DataFrame)
            frame, errors, next_record, extra_lines = _number_lines(frame, ragged, width, next_record, extra_lines)
            ragged.clear()
            pending, rows = [], 0
            yield RawChunk(frame, errors, position())


def _number_lines(frame: pl.DataFrame, ragged: list[tuple[int, int, int, int]], width: int, next_record: int,
                  extra_lines: int) -> tuple[pl.DataFrame, list[tuple[int, str, str]], int, int]:
    """Give each record its physical line; drop blank lines; the ragged records as errors."""
    breaks = (pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True) for c in frame.columns)
              if frame.width else pl.lit(0))
    records = frame.with_row_index("__i").with_columns(breaks.cast(pl.Int64).alias("__breaks"))
    skipped = sorted(ragged)
    if skipped:
        numbers, record, queue = [], next_record, [r[0] for r in skipped]
        position = 0
        for _ in range(frame.height):
            while position < len(queue) and queue[position] == record:
                record += 1
                position += 1
            numbers.append(record)
            record += 1
        number = pl.Series("__record", numbers, dtype=pl.Int64)
    else:
        number = pl.int_range(next_record, next_record + frame.height, eager=True, dtype=pl.Int64).alias("__record")
    records = records.with_columns(number)
    marks = pl.DataFrame({"__record": [r[0] for r in skipped], "__breaks": [r[2] for r in skipped]},
                         schema={"__record": pl.Int64, "__breaks": pl.Int64})
    every = pl.concat([records.select("__record", "__breaks"), marks]).sort("__record")
    every = every.with_columns((pl.col("__breaks").cum_sum() - pl.col("__breaks") + extra_lines).alias("__before"))
    lines = every.with_columns((pl.col("__record") + pl.col("__before")).alias(LINE))
    records = records.join(lines.select("__record", LINE), on="__record", how="left", maintain_order="left")
    errors = []
    for record, actual, _, odd_quotes in skipped:
        line = lines.filter(pl.col("__record") == record).get_column(LINE)[0]
        reason = UNCLOSED if odd_quotes else f"has {actual} fields; the header has {width}"
        errors.append((line, ROW, reason))
    last_record = max([next_record - 1, *(records.get_column("__record").to_list()[-1:]), *(r[0] for r in skipped)])
    extra_lines += int(every.get_column("__breaks").sum())
    values = list(frame.columns)
    blank = pl.all_horizontal(pl.col(c) == "" for c in values) if values else pl.lit(False)
    records = records.filter(~blank) if values else records
    return records.select(*values, LINE), errors, last_record + 1, extra_lines


def _read_csv_python(source: Source, header: Header, chunk_rows: int) -> Iterator[RawChunk]:
    """Python's csv module, one record at a time: exact about every odd file, and slower."""
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
                    unclosed = "unexpected end of data" in str(exc)
                    errors.append((bad_line, ROW, UNCLOSED if unclosed else f"is not valid CSV ({exc})"))
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
                    obj = _JSON.decode(raw)
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


#: Numbers keep the text they were written with (so `12.345` is seen as having three decimals).
_JSON = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=_reject_constant)
