"""Full verification, vectorised: the checks of verify.py over columns instead of rows.

The log is cut into chunks of 2**17 events, checked in worker processes (one per core): a worker reads its
chunk as an Arrow table (ADBC drivers for SQLite and PostgreSQL), encodes every leaf with Arrow compute (the
version-1 encoding of events.py, column by column), hashes them (OpenSSL, one call for the whole array
through the small native module `ombud.audit._sha256many`; hashlib in a tight loop where that module was
not built), compares them with the stored leaf hashes as one byte string, folds them level by level into
the chunk's subtrees (one call per level) and compares every level with the stored tree nodes, again as
whole byte strings. A last task joins the chunk roots into the levels above;
the parent folds the roots at the checkpoint sizes.

Workers are separate processes on purpose: the ADBC SQLite driver carries its own copy of SQLite, and two
copies of SQLite in one process break each other's file locks (see sqlite.org/howtocorrupt.html).

This path only answers "is every check satisfied?". When it is not (or anything about the store is
unexpected) the caller runs the row-by-row verifier, which names the first bad entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ombud.audit import merkle

try:  # compiled at install time (hatch_build.py); optional: hashlib gives the same hashes, ~3x slower here
    from ombud.audit import _sha256many as native
except ImportError:  # pragma: no cover - a build without a C compiler or OpenSSL's headers
    native = None

if TYPE_CHECKING:  # the workers never import SQLAlchemy: the parent hands them a plain target
    from sqlalchemy.engine import URL

#: Events per chunk: 2**CHUNK_LEVEL (the chunk roots are stored nodes of this level).
CHUNK_LEVEL = 17
#: Seconds one chunk may take before the fast pass gives up (and the detailed pass runs).
_CHUNK_TIMEOUT = 600
_COLUMNS = (
    "idx, at, action, actor_type, actor_id, customer_id, subject_type, subject_id, fields, purpose, decision, "
    "detail, leaf_hash"
)
#: (column, may be null) of the text values, in encoding order.
_TEXTS = (
    ("action", False), ("actor_type", False), ("actor_id", True), ("customer_id", True), ("subject_type", True),
    ("subject_id", True), ("fields", False), ("purpose", True), ("decision", True), ("detail", False),
)


class Mismatch(Exception):
    """The fast path saw something the detailed verifier must look at."""


def available() -> bool:
    """Whether the libraries of the fast path are installed."""
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
        import adbc_driver_sqlite.dbapi  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def store_target(url: URL | str) -> tuple[str, str]:
    """("sqlite", file path) or ("postgresql", libpq URL) for a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return "sqlite", url.database or ":memory:"
    return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)


def _open(backend: str, target: str) -> Any:
    if backend == "sqlite":
        import adbc_driver_sqlite.dbapi

        return adbc_driver_sqlite.dbapi.connect(target)
    import adbc_driver_postgresql.dbapi

    return adbc_driver_postgresql.dbapi.connect(target)


def connect(url: URL | str) -> Any:
    """An ADBC connection to the store at this SQLAlchemy URL (only ever opened inside a worker process)."""
    return _open(*store_target(url))


@dataclass
class FastResult:
    """What the fast path established: either everything holds, or the first check that did not."""

    ok: bool
    events: int = 0
    nodes_checked: int = 0
    reason: str | None = None
    roots: dict[int, bytes] = field(default_factory=dict)
    head_frontier: list[bytes] = field(default_factory=list)
    cpu_seconds: float = 0.0  # spent by the workers on the chunks


_OFFSETS: dict[tuple[int, int], Any] = {}


def _fixed_offsets(count: int, width: int) -> Any:
    """The offsets buffer of `count` binary values of `width` bytes each (kept: every chunk has the same)."""
    import pyarrow as pa

    buffer = _OFFSETS.get((count, width))
    if buffer is None:
        if len(_OFFSETS) > 8:
            _OFFSETS.clear()
        buffer = _OFFSETS[(count, width)] = pa.py_buffer(array("i", range(0, (count + 1) * width, width)).tobytes())
    return buffer


def _big_endian(values: Any, code: str, width: int) -> Any:
    """A column of integers as fixed-width big-endian byte strings (a binary array over one new buffer)."""
    import pyarrow as pa

    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if values.null_count:
        raise Mismatch("a null where a number belongs")
    raw = array(code)
    if raw.itemsize != width or values.type.byte_width != width:
        raise Mismatch(f"a {values.type} column where {width}-byte integers belong")
    raw.frombytes(memoryview(values.buffers()[1])[values.offset * width : (values.offset + len(values)) * width])
    raw.byteswap()
    count = len(values)
    return pa.Array.from_buffers(pa.binary(), count, [None, _fixed_offsets(count, width), pa.py_buffer(raw)])


def _text(column: Any, nullable: bool) -> list[Any]:
    """A text column as (4-byte big-endian length or 0xFFFFFFFF for null, UTF-8 bytes) columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_null(column.type) or column.null_count == len(column):  # all null: no type to infer
        column = pa.nulls(len(column), pa.string())
    if not pa.types.is_string(column.type):
        raise Mismatch(f"a text column came back as {column.type}")
    if column.null_count and not nullable:
        raise Mismatch("a null where text belongs")
    data = column.cast(pa.binary())  # the same buffers: UTF-8 is what the encoding wants
    lengths = pc.binary_length(data)
    if column.null_count:
        lengths = pc.fill_null(lengths, pa.scalar(-1, pa.int32()))  # 0xFFFFFFFF
    return [_big_endian(lengths, "i", 4), data]


def encode(table: Any) -> Any:
    """The RFC 6962 leaf input (0x00 || version-1 leaf data) of every row of an events table, as binary."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    at = table.column("at")
    if pa.types.is_string(at.type) or pa.types.is_large_string(at.type):  # SQLite keeps UTC as text
        at = at.cast(pa.timestamp("us"))
    at_us = at.cast(pa.timestamp("us", tz=at.type.tz) if at.type.tz else pa.timestamp("us")).cast(pa.int64())
    if n and pc.min(at_us).as_py() < 0:
        raise Mismatch("a time before 1970")
    parts = [pa.repeat(pa.scalar(b"\x00\x01", pa.binary()), n), _big_endian(table.column("idx"), "q", 8),
             _big_endian(at_us, "q", 8)]
    for name, nullable in _TEXTS:
        parts.extend(_text(table.column(name), nullable))
    # A null value's bytes are empty (its length field already says null).
    return pc.binary_join_element_wise(
        *parts, pa.scalar(b"", pa.binary()), null_handling="replace", null_replacement=""
    )


_sha256 = hashlib.sha256
#: Below this many nodes a level is hashed straight from the bytes (Arrow's per-call cost is not worth it).
_SMALL_LEVEL = 64


def hash_all(inputs: Any) -> bytes:
    """SHA-256 of every value of a binary Arrow array, the digests back to back.

    Natively, one call over the array's buffers (0.25 µs a leaf here). Otherwise one list comprehension over
    the values: per hash the OpenSSL call plus Python's call overhead (~1 µs), which still measured cheaper
    than DuckDB's sha256() on the same inputs.
    """
    if native is not None and len(inputs):
        import pyarrow as pa

        if pa.types.is_binary(inputs.type):  # int32 offsets; the array's own offset applied to them
            data, offsets = inputs.buffers()[2], inputs.buffers()[1]
            start = inputs.offset * 4
            return native.each(data or b"", memoryview(offsets)[start : start + (len(inputs) + 1) * 4],
                               len(inputs))
    sha = _sha256
    return b"".join([sha(value).digest() for value in inputs.to_pylist()])


def _next_level(current: bytes) -> bytes:
    """The parents of consecutive pairs of 32-byte hashes (a lone last hash has none)."""
    if native is not None:
        return native.parents(current)
    import pyarrow as pa
    import pyarrow.compute as pc

    pairs = len(current) // 64
    if pairs < _SMALL_LEVEL:
        sha = _sha256
        return b"".join([sha(b"\x01" + current[i : i + 64]).digest() for i in range(0, pairs * 64, 64)])
    children = pa.Array.from_buffers(pa.binary(64), pairs, [None, pa.py_buffer(current)])
    prefix, nothing = pa.scalar(b"\x01", pa.binary()), pa.scalar(b"", pa.binary())
    inputs = pc.binary_join_element_wise(prefix, children.cast(pa.binary()), nothing)  # 0x01 || left || right
    return hash_all(inputs)


def _levels(leaves: bytes) -> list[bytes]:
    """Every level of complete subtrees over these leaf hashes (level 0 first), each as concatenated hashes."""
    levels = [leaves]
    current = leaves
    while len(current) >= 64:
        current = _next_level(current)
        levels.append(current)
    return levels


def _stored_level(cursor: Any, level: int, lo: int, hi: int) -> Any:
    """The stored hashes of nodes lo..hi-1 of a level, in order, as one binary array."""
    cursor.execute(f"SELECT hash FROM audit_node WHERE level = {level} AND idx >= {lo} AND idx < {hi} ORDER BY idx")
    return cursor.fetch_arrow_table().column(0).combine_chunks()


def packed_hashes(column: Any) -> bytes | None:
    """The values of a column of 32-byte hashes back to back; None when any is null or not 32 bytes long."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array_ = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array_) == 0:
        return b""
    if array_.null_count or not (pa.types.is_binary(array_.type) or pa.types.is_large_binary(array_.type)):
        return None
    lengths = pc.min_max(pc.binary_length(array_))
    if lengths["min"].as_py() != 32 or lengths["max"].as_py() != 32:
        return None
    return bytes(_values(array_))


def _values(array_: Any) -> memoryview:
    """The bytes of a binary array's values, back to back (no copy)."""
    import pyarrow as pa

    raw = memoryview(array_.buffers()[1]).cast("B")
    offsets = raw.cast("q") if pa.types.is_large_binary(array_.type) else raw.cast("i")
    first, last = offsets[array_.offset], offsets[array_.offset + len(array_)]
    return memoryview(array_.buffers()[2]).cast("B")[first:last]


def _same_hashes(stored: Any, expected: bytes) -> bool:
    """Whether a binary array holds exactly these 32-byte hashes, in order."""
    return len(stored) == len(expected) // 32 and packed_hashes(stored) == expected


# --- inside a worker process --------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(backend: str, target: str) -> None:
    _worker["conn"] = _open(backend, target)
    _worker["sqlite"] = backend == "sqlite"


@dataclass
class _Chunk:
    begin: int
    end: int
    ok: bool = True
    reason: str | None = None
    root: bytes | None = None
    nodes_checked: int = 0
    found: dict[merkle.NodeId, bytes] = field(default_factory=dict)
    cpu_seconds: float = 0.0


def _check_chunk(task: tuple[int, int, int, int, list[merkle.NodeId]]) -> _Chunk:
    """Every leaf and stored node of events [begin, end); the wanted nodes of the chunk handed back."""
    begin, end, tree_size, chunk_level, wanted = task
    out = _Chunk(begin, end)
    started = time.process_time()
    try:
        _chunk_work(out, tree_size, chunk_level, wanted)
    except Mismatch as exc:
        out.ok, out.reason = False, str(exc)
    except Exception as exc:  # an unexpected store: the detailed pass decides
        out.ok, out.reason = False, f"{type(exc).__name__}: {exc}"
    out.cpu_seconds = time.process_time() - started
    return out


def _chunk_work(out: _Chunk, tree_size: int, chunk_level: int, wanted: list[merkle.NodeId]) -> None:
    import pyarrow.compute as pc

    begin, end = out.begin, out.end
    cursor = _worker["conn"].cursor()
    try:
        if _worker["sqlite"]:  # one Arrow batch per chunk, not many small ones
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(end - begin)})
        cursor.execute(f"SELECT {_COLUMNS} FROM audit_event WHERE idx >= {begin} AND idx < {end} ORDER BY idx")
        table = cursor.fetch_arrow_table()
        if table.num_rows != end - begin:
            raise Mismatch(f"events {begin}..{end - 1}: {table.num_rows} stored of {end - begin}")
        idx = table.column("idx")
        if pc.min(idx).as_py() != begin or pc.max(idx).as_py() != end - 1:
            raise Mismatch(f"events {begin}..{end - 1} are not numbered in order")
        leaves = hash_all(encode(table))
        if packed_hashes(table.column("leaf_hash")) != leaves:
            raise Mismatch(f"a leaf in {begin}..{end - 1} differs from its stored hash")
        levels = _levels(leaves)
        for level in range(1, len(levels)):
            lo, hi = begin >> level, min(end, tree_size) >> level
            if hi > lo:
                if not _same_hashes(_stored_level(cursor, level, lo, hi), levels[level][: (hi - lo) * 32]):
                    raise Mismatch(f"a stored tree node at level {level} over {begin}..{end - 1} differs")
                out.nodes_checked += hi - lo
        for level, index in wanted:
            offset = (index - (begin >> level)) * 32
            out.found[(level, index)] = levels[level][offset : offset + 32]
        if end - begin == 1 << chunk_level:
            out.root = levels[chunk_level]
    finally:
        cursor.close()


def _check_upper(task: tuple[list[bytes], int, int, list[merkle.NodeId]]) -> _Chunk:
    """The levels above the chunks, from the chunk roots, compared with the stored nodes there."""
    chunk_roots, tree_size, chunk_level, wanted = task
    out = _Chunk(0, 0)
    levels = _levels(b"".join(chunk_roots))
    cursor = _worker["conn"].cursor()
    try:
        for offset, hashes in enumerate(levels):
            level = chunk_level + offset
            for lv, index in wanted:
                if lv == level and (index + 1) * 32 <= len(hashes):
                    out.found[(lv, index)] = hashes[index * 32 : index * 32 + 32]
            count = min(len(hashes) // 32, tree_size >> level)
            if offset == 0 or count == 0:
                continue  # the chunk roots themselves were compared with their chunk
            if not _same_hashes(_stored_level(cursor, level, 0, count), hashes[: count * 32]):
                out.ok, out.reason = False, f"a stored tree node at level {level} differs"
                return out
            out.nodes_checked += count
    finally:
        cursor.close()
    return out


# --- in the verifying process ------------------------------------------------------------------------------


def _processes() -> Any:
    """Workers forked from a clean server process (never from this one, which has SQLite files open)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ombud.audit.fastverify", "pyarrow.compute", "adbc_driver_sqlite.dbapi",
                                    "adbc_driver_postgresql.dbapi"])
    return context


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start workers without re-running the __main__ module in each.

    multiprocessing makes every new worker import the parent's main script (for `ombud` that is the whole
    command line app, about 1.5 s of CPU per worker); the workers need nothing from it. While the pool
    starts, __main__ shows neither a file nor a module spec, so nothing is re-run (this also lets
    verification start from code piped to `python -`, whose "file" does not exist).
    """
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    with _MAIN_LOCK:
        saved: dict[str, Any] = {name: main.__dict__[name] for name in ("__file__", "__spec__")
                                 if name in main.__dict__}
        main.__dict__.pop("__file__", None)
        main.__dict__["__spec__"] = None
        try:
            yield
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


def _finish(pool: Any) -> None:
    """Close the pool and wait for its workers to exit (every task answered or abandoned by them, not killed)."""
    pool.close()
    pool.join()


def check(
    url: URL | str,
    *,
    events: int,
    tree_size: int,
    sizes: Iterable[int],
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    chunk_level: int | None = None,
) -> FastResult:
    """Recompute every leaf and every stored node over the first `events` events; roots at `sizes` returned."""
    level_of_chunk = CHUNK_LEVEL if chunk_level is None else chunk_level
    chunk = 1 << level_of_chunk
    result = FastResult(ok=False)
    wanted_sizes = sorted({s for s in sizes if 0 < s <= events} | ({tree_size} if 0 < tree_size <= events else set()))
    wanted: set[merkle.NodeId] = {node for s in wanted_sizes for node in merkle.range_nodes(0, s)}
    by_chunk: dict[int, list[merkle.NodeId]] = {}
    upper: list[merkle.NodeId] = []
    for level, index in wanted:
        if level <= level_of_chunk:
            by_chunk.setdefault((index << level) >> level_of_chunk, []).append((level, index))
        else:
            upper.append((level, index))
    tasks = [
        (begin, min(begin + chunk, events), tree_size, level_of_chunk, by_chunk.get(begin >> level_of_chunk, []))
        for begin in range(0, events, chunk)
    ]
    found: dict[merkle.NodeId, bytes] = {}
    roots: list[bytes] = []
    target = store_target(url)
    count = workers or min(len(tasks), multiprocessing.cpu_count() or 1) or 1
    with _main_hidden():
        pool = _processes().Pool(count, initializer=_init_worker, initargs=target)
    with pool:
        parts = pool.imap(_check_chunk, tasks)
        for _ in tasks:
            part = parts.next(timeout=_CHUNK_TIMEOUT)  # a worker that cannot start must not hang verification
            if not part.ok:
                # Let the workers finish what they hold and exit, rather than terminate(): a worker killed
                # while writing its result holds the result queue's lock, and the pool's shutdown then waits on
                # that lock forever (a hang seen in CI). The remaining chunks cost time only on a bad log.
                _finish(pool)
                result.reason = part.reason
                return result
            found.update(part.found)
            result.nodes_checked += part.nodes_checked
            result.cpu_seconds += part.cpu_seconds
            result.events = part.end
            if part.root is not None:
                roots.append(part.root)
            if progress is not None:
                progress(part.end, events)
        top = pool.apply_async(_check_upper, ((roots, tree_size, level_of_chunk, upper),)).get(_CHUNK_TIMEOUT)
        _finish(pool)
    if not top.ok:
        result.reason = top.reason
        return result
    found.update(top.found)
    result.nodes_checked += top.nodes_checked
    for size in wanted_sizes:
        result.roots[size] = merkle.fold([found[node] for node in merkle.range_nodes(0, size)])
    if 0 < tree_size <= events:
        result.head_frontier = [found[node] for node in merkle.range_nodes(0, tree_size)]
    result.ok = True
    return result
