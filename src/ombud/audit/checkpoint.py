"""Signed checkpoints of the audit log: made on demand or on a schedule, stored, exported as files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.models import AuditCheckpoint
from ombud.audit.note import Signer, Verifier, checkpoint_body
from ombud.audit.tree import TreeError, TreeHead, integrate, require_nonempty
from ombud.config import Settings
from ombud.keys import KeyRing


def signer(keys: KeyRing, settings: Settings) -> Signer:
    """The deployment's checkpoint signer: the audit signing key under the configured key name."""
    return Signer(settings.audit_key_name, keys.audit_signing_key)


def verifier(keys: KeyRing, settings: Settings) -> Verifier:
    """The public half of the checkpoint signer, which anyone may hold to check checkpoints."""
    return signer(keys, settings).verifier


@dataclass(frozen=True)
class CheckpointResult:
    """A checkpoint and whether this call signed it (False: the log had not grown since the latest)."""

    checkpoint: AuditCheckpoint
    created: bool


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The checkpoint of the largest tree size, or None before the first."""
    return session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1))


def get_checkpoint(session: Session, tree_size: int) -> AuditCheckpoint | None:
    """The checkpoint of exactly this tree size, if one was signed."""
    return session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.tree_size == tree_size))


def list_checkpoints(session: Session) -> list[AuditCheckpoint]:
    """Every stored checkpoint, smallest tree first."""
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))


def _sign(session: Session, keys: KeyRing, settings: Settings, head: TreeHead) -> AuditCheckpoint:
    sign = signer(keys, settings)
    body = checkpoint_body(settings.audit_origin, head.size, head.root_hash)
    record = AuditCheckpoint(
        tree_size=head.size,
        root_hash=head.root_hash,
        key_name=sign.name,
        key_id=f"{sign.verifier.key_id:08x}",
        note=sign.sign(body.text()),
        created_at=clock.now(),
    )
    session.add(record)
    session.flush()
    return record


def _check_not_behind(latest: AuditCheckpoint | None, head: TreeHead) -> None:
    if latest is not None and latest.tree_size > head.size:
        raise TreeError(f"the latest checkpoint covers {latest.tree_size} events but the stored tree only {head.size}")


def create_checkpoint(session: Session, keys: KeyRing, settings: Settings) -> CheckpointResult:
    """Integrate every committed event into the tree and sign a checkpoint of it (or return the current one)."""
    head = integrate(session)  # takes the tree lock first: concurrent checkpointers wait here, then see ours
    require_nonempty(head)
    latest = latest_checkpoint(session)
    _check_not_behind(latest, head)
    if latest is not None and latest.tree_size == head.size:
        return CheckpointResult(latest, False)
    return CheckpointResult(_sign(session, keys, settings, head), True)


def maybe_checkpoint(
    session: Session, keys: KeyRing, settings: Settings, *, interval: timedelta | None = None
) -> AuditCheckpoint | None:
    """The scheduled job: integrate new events, and sign a checkpoint when the log grew and the interval passed.

    The interval defaults to settings.audit_checkpoint_interval_seconds; returns the new checkpoint or None.
    """
    head = integrate(session)  # the tree lock first, so the checks below see what the other workers committed
    if head.size == 0:
        return None
    latest = latest_checkpoint(session)
    _check_not_behind(latest, head)
    if latest is not None and latest.tree_size == head.size:
        return None
    wait = interval if interval is not None else timedelta(seconds=settings.audit_checkpoint_interval_seconds)
    if latest is not None and clock.now() - latest.created_at < wait:
        return None
    return _sign(session, keys, settings, head)


def export_checkpoints(session: Session, keys: KeyRing, settings: Settings, directory: Path) -> list[Path]:
    """Write every checkpoint as <size>.checkpoint, the latest also as `checkpoint`, and the verifier key."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    checkpoints = list_checkpoints(session)
    for record in checkpoints:
        path = directory / f"{record.tree_size}.checkpoint"
        path.write_text(record.note, encoding="utf-8", newline="\n")
        written.append(path)
    if checkpoints:
        latest = directory / "checkpoint"
        latest.write_text(checkpoints[-1].note, encoding="utf-8", newline="\n")
        written.append(latest)
    key_path = directory / "audit.vkey"
    key_path.write_text(verifier(keys, settings).text() + "\n", encoding="utf-8", newline="\n")
    written.append(key_path)
    return written
