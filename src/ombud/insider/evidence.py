"""Evidence proofs: each brokered event of an alert with its Merkle inclusion proof against a signed checkpoint.

Anyone holding the checkpoint verifier key can check that the events an alert rests on are in the log the
checkpoint signed, unchanged: recompute nothing from Ombud's say-so, only hash the leaf up the proof to the
signed root.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ombud.audit import checkpoint as checkpoints
from ombud.audit import merkle, tree
from ombud.audit.models import AuditCheckpoint, AuditEntry
from ombud.audit.note import NoteError, Verifier, open_note, parse_checkpoint
from ombud.insider.models import InsiderAlertEvent


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class EventProof:
    """A brokered event's inclusion proof in the tree the checkpoint signed (None: not yet checkpointed)."""

    audit_index: int
    leaf_hash: str
    tree_size: int | None
    proof: tuple[str, ...]


@dataclass(frozen=True)
class AlertProofs:
    checkpoint: str | None  # the signed note
    tree_size: int | None
    root_hash: str | None
    proofs: tuple[EventProof, ...]


def proofs(session: Session, events: list[InsiderAlertEvent]) -> AlertProofs:
    """Inclusion proofs of the brokered events against the latest signed checkpoint."""
    signed: AuditCheckpoint | None = checkpoints.latest_checkpoint(session)
    indexes = sorted({e.audit_index for e in events if e.audit_index is not None})
    out: list[EventProof] = []
    for index in indexes:
        entry = session.get(AuditEntry, index)
        if entry is None:
            continue
        if signed is None or index >= signed.tree_size:
            out.append(EventProof(index, b64(bytes(entry.leaf_hash)), None, ()))
            continue
        path = tree.inclusion_proof(session, index, signed.tree_size)
        out.append(EventProof(index, b64(bytes(entry.leaf_hash)), signed.tree_size, tuple(b64(p) for p in path)))
    if signed is None:
        return AlertProofs(None, None, None, tuple(out))
    return AlertProofs(signed.note, signed.tree_size, b64(bytes(signed.root_hash)), tuple(out))


def verify(proof: EventProof, note: str, verifier: Verifier) -> bool:
    """Check one event's proof against a signed checkpoint note, trusting only the verifier key."""
    try:
        opened = open_note(note, [verifier])
    except NoteError:
        return False
    body = parse_checkpoint(opened.text)
    if proof.tree_size is None or proof.tree_size != body.size:
        return False
    return merkle.verify_inclusion(base64.b64decode(proof.leaf_hash), proof.audit_index, proof.tree_size,
                                   [base64.b64decode(p) for p in proof.proof], body.root_hash)
