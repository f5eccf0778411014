"""Helpers for the audit tests (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

from sqlalchemy import text


def empty_log(conn) -> None:
    """Empty the audit tables (events, tree, checkpoints) and reset both heads, on this connection."""
    for table in ("audit_checkpoint", "audit_node", "audit_event"):
        conn.execute(text(f"DELETE FROM {table}"))
    conn.execute(text("UPDATE audit_sequence SET next_index = 0"))
    conn.execute(text("UPDATE audit_tree SET size = 0, frontier = :f, updated_at = NULL"), {"f": b""})
