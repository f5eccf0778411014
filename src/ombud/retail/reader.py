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
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from ombud.errors import InvalidInput
from ombud.retail.format import CSV_SUFFIXES, JSONL_SUFFIXES, KINDS, Kind
from ombud.retail.validate import LINE, NOT_UTF8_MARK

#: Longest single CSV field accepted (support-note bodies can be long).
MAX_FIELD_CHARS = 1 << 22
#: Longest JSON Lines record (one line) read at all: room for a value at the field limit and the rest.
MAX_JSON_LINE = 2 * MAX_FIELD_CHARS
#: Most fields a JSON Lines record may have (the largest kind has a few dozen; the rest are reported unknown).
MAX_JSON_KEYS = 200
_OVER_FIELD_LIMIT = f"has a value over the field-length limit of {MAX_FIELD_CHARS:,} characters"
ROW = "(row)"
UNCLOSED = "has a quote that is never closed"
#: Arrow's CSV block size: a record must fit in one block, so a file with a longer line goes to Python's reader.
ARROW_BLOCK = 1 << 22
#: The longest record Arrow is given (a quarter of a block: a record must never straddle two blocks).
ARROW_LINE = ARROW_BLOCK // 4
GZIP_MAGIC = b"\x1f\x8b"
#: A line of nothing but commas (an empty record Arrow cannot tell from a blank line).
_COMMAS = re.compile(rb"(?m)^,+\r?$")
#: What Python's decoder puts for each byte that is not UTF-8 (`surrogateescape`); never in decoded UTF-8.
_ESCAPED = re.compile("[\udc80-\udcff]")
_ESCAPED_OR_SURROGATE = re.compile("[\ud800-\udfff]")


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
    #: From the pre-pass: Arrow's fast parser reads the file exactly (see `_scan`); None when not yet scanned.
    plain: bool | None = None


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


#: What a damaged gzip stream raises while it is read.
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def _gzip_problem(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "the gzip stream ends early (the file is truncated)"
    return f"the gzip stream is damaged ({exc})"


def check_compressed(source: Source) -> None:
    """Refuse a `.gz` file that is not gzip before anything is read from it (its first two bytes)."""
    if not source.path.name.endswith(".gz"):
        return
    with source.path.open("rb") as raw:
        magic = raw.read(2)
    if magic != GZIP_MAGIC:
        raise InvalidInput(f"{source.name}: is not a gzip file (a .gz file must start with bytes 1f 8b)",
                           field=source.name)


class _Position:
    """The byte offset of the file as stored, readable while a text wrapper reads ahead of it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._file = getattr(raw, "fileobj", None) or raw

    def __call__(self) -> int:
        return self._file.tell()


def _text(binary: IO[bytes], *, exact: bool = False) -> io.TextIOWrapper:
    # Invalid UTF-8 becomes U+FFFD (the header) or, `exact`, lone surrogates (`surrogateescape`) that valid
    # UTF-8 never decodes to: the reader marks those values (`_column`), so a real U+FFFD in a name is kept.
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape" if exact else "replace",
                            newline="")


def read_header(source: Source) -> Header:
    """The columns of a CSV file's header, checked against its kind; JSON Lines have no header.

    A compressed file is read through once here (for CSV, by the pre-pass that also decides the parser), so a
    damaged or truncated gzip stream stops the import before anything lands.
    """
    check_compressed(source)
    if source.form != "csv":
        if source.path.name.endswith(".gz"):
            _scan(source, csv=False)
        return Header(columns=list(source.kind.field_names))
    plain = _scan(source, csv=True)
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
    return Header(columns=columns, unknown=[c for c in columns if c not in known and c], lines=lines, plain=plain)


def _frame(arrays: dict[str, pa.Array], lines: list[int]) -> pl.DataFrame:
    frame = pl.from_arrow(pa.table(arrays)) if arrays else pl.DataFrame()
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.Series(LINE, lines, dtype=pl.Int64))


def _column(name: str, values: list[Any] | tuple[Any, ...], arrays: dict[str, pa.Array],
            pattern: re.Pattern[str] = _ESCAPED) -> None:
    """One column of text as an Arrow array; values holding bytes that were not UTF-8 are marked.

    Arrow refuses a surrogate (it is not UTF-8), so the usual column costs nothing more; only a column Arrow
    refuses is looked at value by value. The mark, column `<name>__not_utf8`, tells the checks which values
    were replaced, so a U+FFFD written in the file is kept as the character it is.
    """
    try:
        arrays[name] = pa.array(values, type=pa.string())
        return
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = [_scalar(v) for v in values]
    except UnicodeEncodeError:
        pass
    if not pattern.search("\x00".join(v for v in values if isinstance(v, str))):
        arrays[name] = pa.array(values, type=pa.string())
        return
    marks = [isinstance(v, str) and pattern.search(v) is not None for v in values]
    arrays[name] = pa.array([pattern.sub("\ufffd", v) if m else v for v, m in zip(values, marks, strict=True)],
                            type=pa.string())
    arrays[name + NOT_UTF8_MARK] = pa.array(marks, type=pa.bool_())


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
    plain = header.plain if header.plain is not None else _scan(source, csv=True)
    if header.lines == 1 and plain:
        yield from _read_csv_arrow(source, header, chunk_rows)
    else:  # the exact, slower reader names each value that is not UTF-8, each quote left open, each long field
        yield from _read_csv_python(source, header, chunk_rows)


def _scan(source: Source, *, csv: bool) -> bool:
    """Read the file through once: a damaged gzip stream stops the import here, before anything lands.

    For CSV, True when Arrow's parser reads the file exactly: valid UTF-8, quotes that pair up, no record
    longer than `ARROW_LINE` (a quoted value's line breaks are inside its record) and no line of only commas
    (Arrow would accept the first two silently, fail mid-file on the third, a record straddling its blocks,
    and take the fourth for a blank line). Vectorised per block: no work per line in Python.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid, quotes, commas, longest, since = True, 0, False, 0, 0
    with _open_binary(source.path) as binary:
        try:
            while block := binary.read(1 << 23):
                if not csv:
                    continue
                if valid:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        valid = False
                if not commas and (b"\n," in block or block.startswith(b",")):  # the regex only when it may match
                    commas = _COMMAS.search(block) is not None
                data = np.frombuffer(block, dtype=np.uint8)
                breaks = np.flatnonzero(data == 10)
                marks = np.flatnonzero(data == 34)
                if breaks.size and marks.size + quotes:  # a break inside quotes does not end a record
                    breaks = breaks[(np.searchsorted(marks, breaks) + quotes) % 2 == 0]
                quotes += int(marks.size)
                if breaks.size:
                    gaps = int(np.diff(breaks).max()) if breaks.size > 1 else 0
                    longest = max(longest, since + int(breaks[0]), gaps)
                    since = len(block) - int(breaks[-1]) - 1
                else:
                    since += len(block)
                longest = max(longest, since)
        except _GZIP_ERRORS as exc:
            raise InvalidInput(f"{source.name}: {_gzip_problem(exc)}; nothing was imported",
                               field=source.name) from exc
    if csv and valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return valid and quotes % 2 == 0 and not commas and longest <= ARROW_LINE


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

    read = pacsv.ReadOptions(use_threads=False, block_size=ARROW_BLOCK, column_names=header.columns, skip_rows=1)
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
    with _open_binary(source.path) as binary, _text(binary, exact=True) as text:
        position = _Position(binary)
        source_lines = _Lines(text)
        reader = csv.reader(source_lines, strict=True)
        next(reader)
        next_line = source_lines.count + 1
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
                    # The bad record starts right after the last good one; reading resumes after it (after all
                    # of it: the rest of a quoted value over the limit is not read as records of its own).
                    starts, bad_line = _starts(run, next_line, None)
                    _keep(run, starts, width, records, lines, errors)
                    errors.append((bad_line, ROW, _csv_problem(exc)))
                    source_lines.end_record(skip="field limit" in str(exc))
                    next_line = source_lines.count + 1
                    continue
                if not run:
                    done = True
                    break
                starts, next_line = _starts(run, next_line, source_lines.count)
                _keep(run, starts, width, records, lines, errors)
            if not records and not errors:
                break
            columns = list(zip(*records, strict=True)) if records else [() for _ in range(width)]
            arrays: dict[str, pa.Array] = {}
            for i in wanted:
                _column(header.columns[i], columns[i], arrays)
            yield RawChunk(_frame(arrays, lines), errors, position())


class _Lines:
    """A text's lines for csv.reader, counted, with whether a quoted value is open after the last one given."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.count = 0
        self.open_quote = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._text)
        self.count += 1
        if line.count('"') % 2:
            self.open_quote = not self.open_quote
        return line

    def end_record(self, *, skip: bool) -> None:
        """After a record the reader gave up on: read past the rest of its open quoted value (``skip``), or
        start afresh on the next line as the reader does."""
        while skip and self.open_quote and next(self, None) is not None:
            pass
        self.open_quote = False


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return UNCLOSED
    if "field larger than field limit" in text:
        return _OVER_FIELD_LIMIT
    return f"is not valid CSV ({text})"


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
        elif len(row) > 1 or (row and row[0].strip()):  # a line of only commas is a record too; blank lines are not
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
    with _open_binary(source.path) as binary, _text(binary, exact=True) as text:
        position = _Position(binary)
        number = 0
        exhausted = False
        while not exhausted:
            objects: list[dict[str, Any]] = []
            lines: list[int] = []
            errors: list[tuple[int, str, str]] = []
            while len(objects) < chunk_rows:
                raw = text.readline(MAX_JSON_LINE + 1)
                if not raw:
                    exhausted = True
                    break
                number += 1
                if len(raw) > MAX_JSON_LINE:  # never held whole: the rest of the line is read past in pieces
                    while raw and not raw.endswith("\n"):
                        raw = text.readline(MAX_JSON_LINE)
                    errors.append((number, ROW, f"is longer than {MAX_JSON_LINE:,} characters"))
                    continue
                if not raw.strip():
                    continue
                try:
                    obj = _JSON.decode(raw)
                except ValueError as exc:
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    errors.append((number, ROW, f"is not valid JSON ({reason})"))
                    continue
                except RecursionError:
                    errors.append((number, ROW, "is nested too deeply to read (a record's values are single values)"))
                    continue
                if not isinstance(obj, dict):
                    errors.append((number, ROW, "is not a JSON object"))
                    continue
                if len(obj) > MAX_JSON_KEYS:
                    errors.append((number, ROW, f"has {len(obj):,} fields; a record has at most {MAX_JSON_KEYS}"))
                    continue
                nested = [k for k in names if k in obj and obj[k] is not None and not isinstance(obj[k], _SCALARS)]
                if nested:
                    errors.extend((number, k, "must be a single value, not a list or object") for k in nested)
                    continue
                long = [k for k in names if isinstance(obj.get(k), str) and len(obj[k]) > MAX_FIELD_CHARS]
                if long:
                    errors.extend((number, k, _OVER_FIELD_LIMIT) for k in long)
                    continue
                objects.append(obj)
                lines.append(number)
            if not objects and not errors:
                break
            for obj in objects:
                if len(unknown) < MAX_JSON_KEYS and obj.keys() - known:  # names only, cut short, never values
                    unknown.update(k if len(k) <= 40 else k[:40] + "…" for k in obj.keys() - known)
            arrays: dict[str, pa.Array] = {}
            for name in names:
                values = [obj.get(name) for obj in objects]
                # A JSON escape of a lone surrogate (`"\\udc80"`) is no more a character than a byte that is not UTF-8.
                _column(name, values, arrays, _ESCAPED_OR_SURROGATE)
            yield RawChunk(_frame(arrays, lines), errors, position())


def _reject_constant(name: str) -> str:
    raise ValueError(f"{name} is not a number JSON allows")


#: Numbers keep the text they were written with (so `12.345` is seen as having three decimals).
_JSON = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=_reject_constant)
