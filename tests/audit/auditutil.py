"""Helpers for the audit tests (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

from sqlalchemy import text


def empty_log(conn) -> None:
    """Empty the audit tables (events, tree, checkpoints) and reset both heads, on this connection."""
    for table in ("audit_checkpoint", "audit_node", "audit_event"):
        conn.execute(text(f"DELETE FROM {table}"))
    conn.execute(text("UPDATE audit_sequence SET next_index = 0"))
    conn.execute(text("UPDATE audit_tree SET size = 0, frontier = :f, updated_at = NULL"), {"f": b""})


def insert_stray_event(session, index: int, at) -> None:
    """A row written straight into audit_event at `index` (as only tampering makes one)."""
    session.execute(text(
        "INSERT INTO audit_event (idx, at, action, actor_type, fields, detail, leaf_hash) "
        "VALUES (:idx, :at, 'x', 'system', '[]', '{}', :h)"
    ), {"idx": index, "at": at.replace(tzinfo=None) if session.bind.dialect.name == "sqlite" else at,
        "h": bytes(32)})
