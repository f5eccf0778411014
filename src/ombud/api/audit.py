"""Audit API: the latest signed checkpoint, inclusion and consistency proofs, and a paged event listing.

For privacy officers, security analysts and admins. Hashes are standard base64, as in checkpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from ombud.api.deps import CustomerIdQuery, DbSession, Staff, get_context, require_roles
from ombud.audit import checkpoint as checkpoints
from ombud.audit import service, tree
from ombud.audit.models import AuditCheckpoint
from ombud.audit.note import parse_checkpoint
from ombud.audit.schemas import (
    AuditEventPage,
    AuditEventRead,
    CheckpointRead,
    ConsistencyProofRead,
    InclusionProofRead,
    b64,
)
from ombud.errors import InvalidInput, NotFound
from ombud.staff.models import Role

router = APIRouter(prefix="/api/audit", tags=["audit"])

Auditor = Annotated[Staff, Depends(require_roles(Role.privacy_officer, Role.security_analyst, Role.admin))]

NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"


def _read(record: AuditCheckpoint) -> CheckpointRead:
    body = parse_checkpoint(record.note[: record.note.rfind("\n\n") + 1])
    return CheckpointRead(
        origin=body.origin, tree_size=record.tree_size, root_hash=b64(bytes(record.root_hash)),
        key_name=record.key_name, key_id=record.key_id, created_at=record.created_at, note=record.note,
    )


def _latest(session: DbSession) -> AuditCheckpoint:
    record = checkpoints.latest_checkpoint(session)
    if record is None:
        raise NotFound("no checkpoint has been signed yet")
    return record


@router.get(
    "/checkpoint",
    response_model=CheckpointRead,
    responses={200: {"content": {"text/plain": {}}, "description": "The signed note (default), or JSON."}},
)
def latest_checkpoint(
    request: Request,
    session: DbSession,
    _staff: Auditor,
    fmt: Annotated[
        str | None, Query(alias="format", pattern="^(note|json)$", description="note or json; default by Accept.")
    ] = None,
) -> Response | CheckpointRead:
    """The latest signed checkpoint: the C2SP signed note as text/plain, or JSON (format=json or Accept)."""
    record = _latest(session)
    wants_json = fmt == "json" or (fmt is None and "application/json" in request.headers.get("accept", ""))
    if wants_json:
        return _read(record)
    return PlainTextResponse(record.note, media_type=NOTE_MEDIA_TYPE)


@router.get("/checkpoints/{tree_size}", response_model=CheckpointRead)
def checkpoint_of_size(tree_size: int, session: DbSession, _staff: Auditor) -> CheckpointRead:
    """The checkpoint signed at exactly this tree size."""
    record = checkpoints.get_checkpoint(session, tree_size)
    if record is None:
        raise NotFound(f"no checkpoint was signed at tree size {tree_size}", field="tree_size")
    return _read(record)


@router.get("/key", response_class=PlainTextResponse)
def verifier_key(request: Request, _staff: Auditor) -> PlainTextResponse:
    """The checkpoint verifier key in signed-note format (<name>+<hex key id>+<base64 key>)."""
    ctx = get_context(request)
    return PlainTextResponse(checkpoints.verifier(ctx.keys, ctx.settings).text() + "\n", media_type=NOTE_MEDIA_TYPE)


@router.get("/proof/inclusion", response_model=InclusionProofRead)
def inclusion_proof(
    session: DbSession,
    _staff: Auditor,
    index: Annotated[int, Query(ge=0, description="Leaf index of the event.")],
    tree_size: Annotated[int | None, Query(ge=1, description="Tree size; default: the latest checkpoint's.")] = None,
) -> InclusionProofRead:
    """The RFC 9162 inclusion proof of one event in the tree of `tree_size` events."""
    size = tree_size if tree_size is not None else _latest(session).tree_size
    if index >= size:  # each value is valid alone; together they name no event
        raise NotFound(f"event {index} is not in a tree of {size} events")
    record = service.get_event(session, index)
    proof = tree.inclusion_proof(session, index, size)
    signed = checkpoints.get_checkpoint(session, size)
    return InclusionProofRead(
        index=index, tree_size=size, leaf_hash=b64(record.leaf_hash), root_hash=b64(tree.root_at(session, size)),
        proof=[b64(p) for p in proof], checkpoint=signed.note if signed else None,
    )


@router.get("/proof/consistency", response_model=ConsistencyProofRead)
def consistency_proof(
    session: DbSession,
    _staff: Auditor,
    first: Annotated[int, Query(ge=1, description="The older tree size.")],
    second: Annotated[
        int | None, Query(ge=1, description="The newer tree size; default: the latest checkpoint's.")
    ] = None,
) -> ConsistencyProofRead:
    """The RFC 9162 proof that the tree of `second` events extends the tree of `first` events."""
    size = second if second is not None else _latest(session).tree_size
    if first > size:  # each size is valid alone; no proof leads from a larger tree to a smaller one
        raise NotFound(f"there is no consistency proof from a tree of {first} events to one of {size}")
    proof = tree.consistency_proof(session, first, size)
    return ConsistencyProofRead(
        first=first, second=size, first_root=b64(tree.root_at(session, first)),
        second_root=b64(tree.root_at(session, size)), proof=[b64(p) for p in proof],
    )


@router.get("/events", response_model=AuditEventPage)
def list_events(
    session: DbSession,
    _staff: Auditor,
    after: Annotated[int | None, Query(ge=-1, description="Only events after this leaf index (paging).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    customer_id: CustomerIdQuery = None,
    actor_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100, description="Dotted action prefix, e.g. access.")] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Until this time (exclusive).")] = None,
) -> AuditEventPage:
    """Events in log order, filtered; page with `after` = the previous page's `next_after`."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (e.g. Z)", field=name)
    records = service.list_events(
        session, customer_id=customer_id, actor_id=actor_id, action_prefix=action, since=since, until=until,
        after_index=after, limit=limit, one_more=True,
    )
    more = len(records) > limit
    records = records[:limit]
    return AuditEventPage(
        items=[AuditEventRead.of(r) for r in records], next_after=records[-1].index if more and records else None
    )
