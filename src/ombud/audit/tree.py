"""The Merkle tree kept in the store: integrating appended leaves, and serving roots and proofs.

Appends only sequence leaves (service.py). Integration extends the stored tree over newly committed
leaves: it locks the tree row, reads the leaf hashes after the stored size, and inserts the hash of every
complete subtree they complete (about one per leaf), so nothing already stored is recomputed. A proof at
any size then needs O(log n) stored hashes, fetched in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit import merkle
from ombud.audit.merkle import Frontier, NodeId
from ombud.audit.service import raw_connection, sqlite_time
from ombud.errors import Conflict, InvalidInput, NotFound, OmbudError

_CHUNK = 20_000


class TreeError(OmbudError):
    """The stored log is not what the tree expects (a missing leaf or node); the store was altered."""

    status_code = 500


@dataclass(frozen=True)
class TreeHead:
    """The stored tree: how many leaves it covers and its root."""

    size: int
    root_hash: bytes
    frontier: Frontier


def _sql(dialect_is_sqlite: bool, sql: str) -> str:
    return sql if dialect_is_sqlite else sql.replace("?", "%s")


def _lock_tree(cursor: object, sqlite: bool) -> Frontier:
    execute = cursor.execute  # type: ignore[attr-defined]
    execute(_sql(sqlite, "UPDATE audit_tree SET size = size WHERE id = 1 RETURNING size, frontier"))
    row = cursor.fetchone()  # type: ignore[attr-defined]
    if row is None:  # a store built without the migration
        execute(_sql(sqlite, "INSERT INTO audit_tree (id, size, frontier) VALUES (1, 0, ?) ON CONFLICT DO NOTHING"),
                (b"",))
        execute(_sql(sqlite, "UPDATE audit_tree SET size = size WHERE id = 1 RETURNING size, frontier"))
        row = cursor.fetchone()  # type: ignore[attr-defined]
    return Frontier.from_bytes(int(row[0]), bytes(row[1]))


def integrate(
    session: Session, *, limit: int | None = None, progress: Callable[[int], None] | None = None
) -> TreeHead:
    """Extend the stored tree over every committed leaf (or `limit` more); returns the new tree head.

    Holds the tree row's lock until the caller's transaction ends, so integrators never race.
    """
    dbapi, dialect = raw_connection(session)
    sqlite = dialect.is_sqlite
    cursor = dbapi.cursor()
    try:
        frontier = _lock_tree(cursor, sqlite)
        start = frontier.size
        select_sql = _sql(sqlite, "SELECT idx, leaf_hash FROM audit_event WHERE idx >= ? ORDER BY idx LIMIT ?")
        insert_sql = _sql(sqlite, "INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)")
        remaining = limit if limit is not None else -1
        while remaining != 0:
            batch = _CHUNK if remaining < 0 else min(_CHUNK, remaining)
            cursor.execute(select_sql, (frontier.size, batch))
            rows = cursor.fetchall()
            if not rows:
                break
            completed: list[tuple[int, int, bytes]] = []
            append = frontier.append
            for idx, leaf in rows:
                if idx != frontier.size:
                    raise TreeError(f"audit event {frontier.size} is missing (the next stored event is {idx})")
                append(bytes(leaf), completed)
            if completed:
                cursor.executemany(insert_sql, completed)
            if remaining > 0:
                remaining -= len(rows)
            if progress is not None:
                progress(len(rows))
        if frontier.size != start:
            now = clock.now()
            cursor.execute(
                _sql(sqlite, "UPDATE audit_tree SET size = ?, frontier = ?, updated_at = ? WHERE id = 1"),
                (frontier.size, frontier.to_bytes(), sqlite_time(now) if sqlite else now),
            )
    finally:
        cursor.close()
    return TreeHead(frontier.size, frontier.root(), frontier)


def tree_head(session: Session) -> TreeHead:
    """The stored tree as this transaction sees it (no lock, no integration)."""
    dbapi, _ = raw_connection(session)
    cursor = dbapi.cursor()
    try:
        cursor.execute("SELECT size, frontier FROM audit_tree WHERE id = 1")
        row = cursor.fetchone()
    finally:
        cursor.close()
    frontier = Frontier() if row is None else Frontier.from_bytes(int(row[0]), bytes(row[1]))
    return TreeHead(frontier.size, frontier.root(), frontier)


def node_source(session: Session) -> merkle.GetNodes:
    """A function fetching stored complete-subtree hashes (leaf hashes at level 0) in one query."""
    dbapi, dialect = raw_connection(session)
    mark = "?" if dialect.is_sqlite else "%s"

    def get_nodes(ids: Sequence[NodeId]) -> list[bytes]:
        leaves = [idx for level, idx in ids if level == 0]
        inner = [(level, idx) for level, idx in ids if level > 0]
        parts: list[str] = []
        params: list[int] = []
        if leaves:
            parts.append(f"SELECT 0, idx, leaf_hash FROM audit_event WHERE idx IN ({', '.join([mark] * len(leaves))})")
            params.extend(leaves)
        if inner:
            terms = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(inner))
            parts.append(f"SELECT level, idx, hash FROM audit_node WHERE {terms}")
            for level, idx in inner:
                params.extend((level, idx))
        if not parts:
            return []
        cursor = dbapi.cursor()
        try:
            cursor.execute(" UNION ALL ".join(parts), params)
            found = {(int(level), int(idx)): bytes(h) for level, idx, h in cursor.fetchall()}
        finally:
            cursor.close()
        missing = [node for node in ids if node not in found]
        if missing:
            level, idx = missing[0]
            raise TreeError(f"the stored tree has no node at level {level}, index {idx}")
        return [found[node] for node in ids]

    return get_nodes


def _covered(session: Session, size: int) -> None:
    """Make sure the stored tree reaches `size` leaves, integrating if it lags."""
    head = tree_head(session)
    if size <= head.size:
        return
    head = integrate(session)
    if size > head.size:
        # Not bad input: a tree of that size does not exist (yet); the same question later may have an answer.
        raise NotFound(f"the log holds {head.size} events; there is no tree of size {size}")


def root_at(session: Session, size: int) -> bytes:
    """The root hash of the log's first `size` events."""
    if size < 0:
        raise InvalidInput("a tree size is not negative", field="tree_size")
    _covered(session, size)
    return merkle.root_from_nodes(size, node_source(session))


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf `index` in the tree of the first `size` events."""
    if index < 0:
        raise InvalidInput("a leaf index is not negative", field="index")
    if index >= size:
        raise NotFound(f"leaf index {index} is not in a tree of size {size}")
    _covered(session, size)
    return merkle.inclusion_proof(index, size, node_source(session))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of `first` events to that of `second`."""
    if first <= 0:
        raise InvalidInput("a consistency proof needs 0 < first <= second", field="first")
    if first > second:  # each size is valid alone: no proof leads from a larger tree to a smaller one
        raise NotFound(f"there is no consistency proof from a tree of {first} events to one of {second}")
    _covered(session, second)
    return merkle.consistency_proof(first, second, node_source(session))


def require_nonempty(head: TreeHead) -> None:
    """Refuse to checkpoint an empty log."""
    if head.size == 0:
        raise Conflict("the audit log is empty; there is nothing to checkpoint")
