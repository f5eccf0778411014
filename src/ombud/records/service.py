"""Generating a records package (and its audit leaf) and checking a package file against the audit log.

Functions take the caller's session, flush, never commit. The package's zip is written to
`<data_dir>/packages/<reference>-v<version>.zip`; the manifest's SHA-256 is appended to the audit log as the
package's leaf (action `records.package.generate`, subject `records_package:<reference>-v<version>`) in the same
transaction as the package's row, so a package exists on record exactly when its leaf does.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit import merkle
from ombud.audit.checkpoint import latest_checkpoint
from ombud.audit.events import AuditEvent
from ombud.audit.models import AuditEntry
from ombud.audit.service import append_event, to_record
from ombud.audit.tree import TreeError, inclusion_proof
from ombud.config import Settings
from ombud.errors import InvalidInput, NotFound
from ombud.records import bundle, render
from ombud.records.collect import NAVIGATIONAL_DESCRIPTION, Subject, collect, parse_subjects
from ombud.records.models import RecordsPackage

GENERATE_ACTION = "records.package.generate"
SUBJECT_TYPE = "records_package"


@dataclass(frozen=True)
class Built:
    """A package built in memory: the zip, its manifest's hash, what it holds."""

    name: str
    zip_bytes: bytes
    manifest_sha256: str
    meta: dict[str, Any]
    counts: dict[str, int]
    pdf_name: str


def build(session: Session, settings: Settings, *, subjects: list[Subject], reference: str, version: int,
          include_navigational: bool = False) -> Built:
    """Collect the subjects' records and render every file of the package (nothing written)."""
    if not subjects:
        raise InvalidInput("a package needs at least one confirmed-fraud account, card or application",
                           field="subjects")
    now = clock.now()
    document = collect(session, subjects, include_navigational=include_navigational)
    name = f"{reference}-v{version}"
    meta = {
        "name": name, "reference": reference, "version": version, "generated_at": now.isoformat(),
        "generated_at_text": now.strftime("%Y-%m-%d %H:%M UTC"), "retailer": settings.retailer_name,
        "contact": settings.records_contact, "free_of_charge": True,
        "navigational_included": include_navigational,
        "navigational_data": {"included": include_navigational, "covers": NAVIGATIONAL_DESCRIPTION},
        "subjects": [s.as_json() for s in subjects], "counts": document["counts"],
    }
    pdf_name = f"{reference}-records.pdf"
    files = {
        pdf_name: render.render_pdf(document, meta, now),
        "records.json": render.render_json(document, meta),
        "README.txt": render.readme(meta, pdf_name),
        **render.render_csv(document),
    }
    zip_bytes, manifest_sha = bundle.build_zip(files, meta, now)
    return Built(name, zip_bytes, manifest_sha, meta, document["counts"], pdf_name)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def package_folder(settings: Settings) -> Path:
    return settings.data_dir / "packages"


def next_version(session: Session, *, request_id: int | None, reference: str) -> int:
    """1 for a first package, else one more than the last (a repeat request gets a fresh package)."""
    query = select(func.max(RecordsPackage.version))
    query = query.where(RecordsPackage.request_id == request_id) if request_id is not None else \
        query.where(RecordsPackage.reference == reference, RecordsPackage.request_id.is_(None))
    return int(session.scalar(query) or 0) + 1


def generate_package(
    session: Session, settings: Settings, *, subjects: list[Any], reference: str, actor_type: str, actor_id: str,
    request_id: int | None = None, include_navigational: bool = False,
) -> RecordsPackage:
    """Build the package of these confirmed-fraud subjects, store its zip, record its manifest hash in the audit
    log and return its row; earlier packages of the same request are marked superseded."""
    parsed = parse_subjects(subjects)
    version = next_version(session, request_id=request_id, reference=reference)
    built = build(session, settings, subjects=parsed, reference=reference, version=version,
                  include_navigational=include_navigational)
    folder = package_folder(settings)
    path = folder / f"{built.name}.zip"
    _write(path, built.zip_bytes)
    now = clock.now()
    index = append_event(session, AuditEvent(
        action=GENERATE_ACTION, actor_type=actor_type, actor_id=actor_id, subject_type=SUBJECT_TYPE,
        subject_id=built.name, purpose=f"request:{request_id}" if request_id is not None else None,
        decision="generated",
        detail={"manifest_sha256": built.manifest_sha256, "version": version,
                "navigational_included": include_navigational, "accounts": built.counts["accounts"],
                "orders": built.counts["orders"], "bytes": len(built.zip_bytes)},
    ))
    previous = RecordsPackage.request_id == request_id if request_id is not None else \
        (RecordsPackage.reference == reference) & RecordsPackage.request_id.is_(None)
    for earlier in session.scalars(select(RecordsPackage).where(previous, RecordsPackage.superseded_at.is_(None))):
        earlier.superseded_at = now
    package = RecordsPackage(
        request_id=request_id, reference=reference, version=version, subjects=[s.as_json() for s in parsed],
        navigational_included=include_navigational, counts=built.counts, manifest_sha256=built.manifest_sha256,
        audit_index=index, file_name=f"{built.name}.zip", storage_path=str(path.relative_to(settings.data_dir)),
        size_bytes=len(built.zip_bytes), generated_at=now, generated_by=actor_id,
    )
    session.add(package)
    session.flush()
    return package


def package_file(settings: Settings, package: RecordsPackage) -> Path:
    """Where the package's zip is stored."""
    return settings.data_dir / package.storage_path


def read_package(settings: Settings, package: RecordsPackage) -> bytes:
    """The package's zip; NotFound when the file is gone from the data folder."""
    path = package_file(settings, package)
    if not path.is_file():
        raise NotFound(f"the file of package {package.file_name} is missing from {path.parent}")
    return path.read_bytes()


def get_package(session: Session, package_id: int) -> RecordsPackage:
    package = session.get(RecordsPackage, package_id)
    if package is None:
        raise NotFound(f"no records package {package_id}", field="package")
    return package


def packages_of(session: Session, request_id: int) -> list[RecordsPackage]:
    """A request's packages, newest first."""
    return list(session.scalars(select(RecordsPackage).where(RecordsPackage.request_id == request_id)
                                .order_by(RecordsPackage.version.desc())))


def current_package(session: Session, request_id: int) -> RecordsPackage | None:
    """The request's newest package (None before the first)."""
    packages = packages_of(session, request_id)
    return packages[0] if packages else None


# --- verification --------------------------------------------------------------------------------------------


@dataclass
class PackageVerification:
    """What `ombud requests verify-package` found."""

    name: str | None = None
    manifest_sha256: str | None = None
    files_checked: int = 0
    audit_index: int | None = None
    in_checkpoint: int | None = None  # the size of the signed checkpoint that proves the leaf, if any
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.audit_index is not None


def verify_package(session: Session, data: bytes) -> PackageVerification:
    """Check a package zip: every file against its manifest, the manifest's hash against the package's leaf in the
    audit log (the leaf itself recomputed from its stored columns), and the leaf's inclusion in the latest signed
    checkpoint when one covers it."""
    check = bundle.check_zip(data)
    result = PackageVerification(manifest_sha256=check.manifest_sha256, files_checked=check.files_checked,
                                 problems=list(check.problems))
    if check.manifest_sha256 is None:
        return result
    name = check.package.get("name")
    result.name = name if isinstance(name, str) else None
    if result.name is None:
        result.problems.append("the manifest does not name its package")
        return result
    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == GENERATE_ACTION, AuditEntry.subject_type == SUBJECT_TYPE,
        AuditEntry.subject_id == result.name).order_by(AuditEntry.idx)))
    if not entries:
        result.problems.append(f"the audit log has no record of a package named {result.name}")
        return result
    matching = [e for e in entries if json.loads(e.detail).get("manifest_sha256") == check.manifest_sha256]
    if not matching:
        result.problems.append(
            f"the manifest's SHA-256 ({check.manifest_sha256[:16]}…) is not the one the audit log recorded for "
            f"{result.name}: the package differs from what was generated")
        return result
    entry = matching[0]
    record = to_record(entry)
    if merkle.leaf_hash(record.leaf_data()) != bytes(entry.leaf_hash):
        result.problems.append(f"audit leaf {entry.idx} does not match its own stored hash (the log was edited)")
        return result
    result.audit_index = entry.idx
    checkpoint = latest_checkpoint(session)
    if checkpoint is None or checkpoint.tree_size <= entry.idx:
        result.notes.append("no signed checkpoint covers the leaf yet; run `ombud audit checkpoint` to seal it")
        return result
    try:
        proof = inclusion_proof(session, entry.idx, checkpoint.tree_size)
    except TreeError as exc:
        result.problems.append(f"no inclusion proof for leaf {entry.idx}: {exc}")
        return result
    if merkle.verify_inclusion(bytes(entry.leaf_hash), entry.idx, checkpoint.tree_size, proof,
                               bytes(checkpoint.root_hash)):
        result.in_checkpoint = checkpoint.tree_size
    else:
        result.problems.append(f"leaf {entry.idx} is not in the signed checkpoint of size {checkpoint.tree_size}")
    return result
