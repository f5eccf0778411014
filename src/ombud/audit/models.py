"""Tables of the audit domain: the events (leaves), the tree's stored nodes, the two heads, checkpoints.

The append path writes these with plain DB-API statements for speed (see service.py); the column types
here are what the migration creates and what the faces read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, UTCDateTime


class AuditEntry(Base):
    """One audit event, the leaf at position `idx` of the log; `leaf_hash` = SHA-256(0x00 || leaf data)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_customer_id_idx", "customer_id", "idx"),
        Index("ix_audit_event_actor_id_idx", "actor_id", "idx"),
        Index("ix_audit_event_at", "at"),
    )

    # INTEGER on SQLite so the leaf index is the rowid; given explicitly, never autoincremented.
    idx: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(100))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(100))
    # Canonical JSON text, hashed exactly as stored (JSONB would reorder and respace it).
    fields: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(String(200))
    decision: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditNode(Base):
    """The hash of the complete subtree over leaves [idx * 2**level, (idx + 1) * 2**level), level >= 1."""

    __tablename__ = "audit_node"
    __table_args__ = {"sqlite_with_rowid": False}

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditSequence(Base):
    """The one row every appender locks: the next leaf index (so the sequence is gapless)."""

    __tablename__ = "audit_sequence"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    next_index: Mapped[int] = mapped_column(BigInteger)


class AuditTree(Base):
    """How far the stored tree reaches: its size and right edge (one hash per set bit of the size)."""

    __tablename__ = "audit_tree"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditCheckpoint(Base):
    """A signed checkpoint: the C2SP signed note over (origin, tree size, root hash)."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_name: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
