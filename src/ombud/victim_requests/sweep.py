"""The scheduled sweep of the 30-day clock: reminders, escalation, overdue. Run by ``ombud requests sweep``
(and ``ombud worker`` when it runs).

Set-based: per threshold one indexed range question (``received_at < cutoff``, see deadline.day_cutoff) finds
the requests that reached it and have not been handled; their timeline lines, audit leaves and flags are
written in bulk. Every action is recorded under a dedupe key (``reminder:10``, ``escalation``, ``overdue``) that
is unique per request, so a sweep run twice — or two sweeps at once — acts once. Mail goes out as one digest
per recipient and kind, listing the requests by reference.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_events
from ombud.config import Settings
from ombud.staff.models import Employee, Role
from ombud.victim_requests import deadline, mail, service, states
from ombud.victim_requests.models import RequestEvent, VictimRequest
from ombud.victim_requests.schemas import SweepReport

_CHUNK = 5000
_RUNNING = sorted(s.value for s in states.CLOCK_RUNNING)
_ACTOR = ("system", "ombud.victim_requests.sweep")


def _unhandled(key: str) -> Any:
    return ~exists().where(and_(RequestEvent.request_id == VictimRequest.id, RequestEvent.dedupe_key == key))


def _record(session: Session, rows: Sequence[tuple[int, str, int | None]], *, kind: str, action: str,
            key: str, now: datetime, detail: dict[str, Any]) -> None:
    """Timeline lines and audit leaves for these requests, in bulk."""
    for start in range(0, len(rows), _CHUNK):
        part = rows[start:start + _CHUNK]
        indexes = append_events(session, [AuditEvent(
            action=action, actor_type=_ACTOR[0], actor_id=_ACTOR[1], subject_type="victim_request",
            subject_id=str(rid), purpose=f"request:{rid}", detail={"reference": ref, **detail}, at=now,
        ) for rid, ref, _ in part])
        session.execute(insert(RequestEvent), [
            {"request_id": rid, "at": now, "kind": kind, "from_status": None, "to_status": None,
             "actor_type": _ACTOR[0], "actor_id": _ACTOR[1], "detail": detail, "audit_index": index,
             "dedupe_key": key}
            for (rid, _ref, _), index in zip(part, indexes, strict=True)
        ])


def _digest(session: Session, anchor_id: int, to: str, recipient: str, template: str, key: str, refs: list[str],
            context: dict[str, Any]) -> None:
    anchor = session.get(VictimRequest, anchor_id)
    assert anchor is not None
    digest = hashlib.sha256("\n".join([recipient, *sorted(refs)]).encode()).hexdigest()[:24]
    mail.queue(session, anchor, to=to, recipient=recipient, template=template,
               dedupe_key=f"vr-sweep:{key}:{digest}",
               context={"references": sorted(refs), "count": len(refs), **context})


def _officers(session: Session) -> list[Employee]:
    return list(session.scalars(select(Employee).where(Employee.role == Role.privacy_officer,
                                                       Employee.left_on.is_(None)).order_by(Employee.id)))


def _select(session: Session, *conditions: Any) -> list[tuple[int, str, int | None]]:
    query = select(VictimRequest.id, VictimRequest.reference, VictimRequest.assignee_id).where(
        VictimRequest.status.in_(_RUNNING), *conditions).order_by(VictimRequest.id)
    return [(r[0], r[1], r[2]) for r in session.execute(query)]


def sweep(session: Session, settings: Settings) -> SweepReport:
    """Remind, escalate and mark overdue whatever reached its day; each once, whatever runs before or after."""
    started = time.perf_counter()
    now = clock.now()
    zone = service.zone_of(settings)
    days = deadline.check_reminder_days(settings.requests_reminder_days)
    team_email = settings.requests_team_email
    emails: dict[int, str] = {}
    reminders = 0
    for n in days:
        key = f"reminder:{n}"
        rows = _select(session, VictimRequest.received_at < deadline.day_cutoff(n, now, zone), _unhandled(key))
        if not rows:
            continue
        _record(session, rows, kind="reminder", action="victim_request.reminder", key=key, now=now,
                detail={"day": n})
        by_recipient: dict[str, list[tuple[int, str]]] = defaultdict(list)
        missing = {a for _, _, a in rows if a is not None and a not in emails}
        if missing:
            emails.update(session.execute(select(Employee.id, Employee.email)
                                          .where(Employee.id.in_(missing))).tuples().all())
        for rid, ref, assignee in rows:
            by_recipient[emails.get(assignee, team_email) if assignee else team_email].append((rid, ref))
        for to, items in by_recipient.items():
            _digest(session, items[0][0], to, "assignee" if to != team_email else "team", "victim_request_reminder",
                    key, [r for _, r in items], {"day": n, "days_left": deadline.DEADLINE_DAYS - n})
        reminders += len(rows)
    officers = _officers(session)
    escalate_cutoff = deadline.day_cutoff(settings.requests_escalate_after_day + 1, now, zone)
    escalated = _flag(session, officers, "escalation", "victim_request.escalate", "victim_request_escalation",
                      VictimRequest.escalated_at, now,
                      VictimRequest.received_at < escalate_cutoff, VictimRequest.escalated_at.is_(None),
                      detail={"after_day": settings.requests_escalate_after_day})
    overdue = _flag(session, officers, "overdue", "victim_request.overdue", "victim_request_overdue",
                    VictimRequest.overdue_at, now, VictimRequest.due_at < now, VictimRequest.overdue_at.is_(None),
                    detail={})
    checked = session.scalar(select(func.count()).select_from(VictimRequest)
                             .where(VictimRequest.status.in_(_RUNNING))) or 0
    return SweepReport(reminders=reminders, escalations=escalated, overdue=overdue, checked=checked,
                       seconds=round(time.perf_counter() - started, 3))


def _flag(session: Session, officers: list[Employee], key: str, action: str, template: str, column: Any,
          now: datetime, *conditions: Any, detail: dict[str, Any]) -> int:
    rows = _select(session, *conditions, _unhandled(key))
    if not rows:
        return 0
    _record(session, rows, kind=key, action=action, key=key, now=now, detail=detail)
    ids = [r[0] for r in rows]
    for start in range(0, len(ids), _CHUNK):
        session.execute(update(VictimRequest).where(VictimRequest.id.in_(ids[start:start + _CHUNK]))
                        .values({column.key: now}).execution_options(synchronize_session=False))
    refs = [r[1] for r in rows]
    for officer in officers:
        _digest(session, rows[0][0], officer.email, f"privacy_officer:{officer.external_id}", template, key, refs, {})
    if not officers:
        _digest(session, rows[0][0], "", "privacy_officers", template, key, refs, {})
    return len(rows)
