"""Pydantic shapes of the audit API: events, checkpoints and proofs (hashes in standard base64)."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, Field

from ombud.audit.events import AuditRecord, DetailValue


def b64(data: bytes) -> str:
    """Standard base64 of bytes, as checkpoints and proofs carry hashes."""
    return base64.b64encode(data).decode()


class AuditEventRead(BaseModel):
    """One event of the log: references only (ids, field names), never personal data."""

    index: int = Field(description="Leaf index: the event's place in the gapless sequence.")
    at: datetime
    action: str
    actor_type: str
    actor_id: str | None
    customer_id: str | None
    subject_type: str | None
    subject_id: str | None
    fields: list[str]
    purpose: str | None
    decision: str | None
    detail: dict[str, DetailValue]
    leaf_hash: str = Field(description="base64 of SHA-256(0x00 || canonical leaf data).")

    @classmethod
    def of(cls, record: AuditRecord) -> AuditEventRead:
        return cls(
            index=record.index, at=record.at, action=record.action, actor_type=record.actor_type,
            actor_id=record.actor_id, customer_id=record.customer_id, subject_type=record.subject_type,
            subject_id=record.subject_id, fields=list(record.fields), purpose=record.purpose,
            decision=record.decision, detail=dict(record.detail), leaf_hash=b64(record.leaf_hash),
        )


class AuditEventPage(BaseModel):
    items: list[AuditEventRead]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null when this page is the last."
    )


class CheckpointRead(BaseModel):
    """A signed checkpoint: the C2SP signed note and the values it signs."""

    origin: str
    tree_size: int
    root_hash: str = Field(description="base64 Merkle tree hash of the first tree_size events.")
    key_name: str
    key_id: str = Field(description="Hex key id of the signing key (see GET /api/audit/key).")
    created_at: datetime
    note: str = Field(description="The signed note, verifiable with any C2SP signed-note verifier.")


class InclusionProofRead(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str] = Field(description="RFC 9162 inclusion path, bottom up, base64.")
    checkpoint: str | None = Field(description="The signed note of this tree size, when one was signed.")


class ConsistencyProofRead(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64.")
