"""Reading and requeueing rows of either outbox (mail or webhooks): one listing, one count, one requeue."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.errors import InvalidInput

Row = TypeVar("Row")


def list_rows(session: Session, model: type[Row], *, status: StrEnum | None, purpose: str | None, limit: int,
              before_id: int | None = None) -> list[Row]:
    """Rows newest first, filtered by status and purpose prefix (`victim_request` finds `victim_request:…`)."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    table: Any = model
    query = select(model)
    if status is not None:
        query = query.where(table.status == status)
    if purpose:
        query = query.where((table.purpose == purpose) | table.purpose.startswith(purpose + ":"))
    if before_id is not None:
        query = query.where(table.id < before_id)
    return list(session.scalars(query.order_by(table.id.desc()).limit(limit)))


def count_by_status(session: Session, model: type[Any], statuses: type[StrEnum]) -> dict[str, int]:
    """How many rows are in each status (every status listed, zero included)."""
    rows = session.execute(select(model.status, func.count()).group_by(model.status))
    counts = {s.value: 0 for s in statuses}
    counts.update({str(getattr(s, "value", s)): n for s, n in rows})
    return counts


def requeue(row: Any, pending: StrEnum) -> None:
    """Make a row due now with a fresh count of attempts and no lease."""
    row.status = pending
    row.attempts = 0
    row.next_attempt_at = clock.now()
    row.lease_until = None
    row.leased_by = None
