"""The scheduled sweep of the 30-day clock: reminders, escalation, overdue. Run by ``ombud requests sweep`` on a
schedule (or ``POST /api/victim-requests/sweep``).

Each open request carries ``next_check_at``, the first instant at which the sweep has something left to do for
it (the next reminder day, the escalation day, the due instant; computed by ``deadline.next_check``), and the
sweep reads only the rows whose time has come, through an index: a sweep with nothing to do costs one empty
index range, however many requests are open. For each due row it works out what is owed (reminders not sent
yet for days reached, the escalation after day 25, the overdue mark), writes the timeline lines and audit leaves
in bulk, and moves ``next_check_at`` on. Every action is also recorded under a dedupe key unique per request
(``reminder:10``, ``escalation``, ``overdue``), so even two sweeps at once act once (the second one's insert fails
and its transaction rolls back). Mail goes out as one digest per recipient and kind, listing the references.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
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


def schedule(request: VictimRequest, settings: Settings) -> None:
    """Set a request's next_check_at from its clock and what was already done (None once the clock stopped)."""
    if request.status not in states.CLOCK_RUNNING:
        request.next_check_at = None
        return
    request.next_check_at = deadline.next_check(
        request.received_at, request.due_at, service.zone_of(settings),
        reminder_days=deadline.check_reminder_days(settings.requests_reminder_days),
        reminders_sent=request.reminders_sent or 0, escalate_after=settings.requests_escalate_after_day,
        escalated=request.escalated_at is not None, overdue=request.overdue_at is not None)


def _record(session: Session, items: Sequence[tuple[int, str, str, str, dict[str, Any]]], now: datetime) -> None:
    """Timeline lines and audit leaves, in bulk: (request id, reference, kind, dedupe key, detail)."""
    for start in range(0, len(items), _CHUNK):
        part = items[start:start + _CHUNK]
        indexes = append_events(session, [AuditEvent(
            action=f"victim_request.{'reminder' if kind == 'reminder' else kind}", actor_type=_ACTOR[0],
            actor_id=_ACTOR[1], subject_type="victim_request", subject_id=str(rid), purpose=f"request:{rid}",
            detail={"reference": ref, **detail}, at=now,
        ) for rid, ref, kind, _key, detail in part])
        session.execute(insert(RequestEvent), [
            {"request_id": rid, "at": now, "kind": kind, "from_status": None, "to_status": None,
             "actor_type": _ACTOR[0], "actor_id": _ACTOR[1], "detail": detail, "audit_index": index,
             "dedupe_key": key}
            for (rid, _ref, kind, key, detail), index in zip(part, indexes, strict=True)
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


_COLUMNS = (VictimRequest.id, VictimRequest.reference, VictimRequest.assignee_id, VictimRequest.received_at,
            VictimRequest.due_at, VictimRequest.reminders_sent, VictimRequest.escalated_at, VictimRequest.overdue_at)


def sweep(session: Session, settings: Settings) -> SweepReport:
    """Remind, escalate and mark overdue whatever reached its day; each once, whatever runs before or after."""
    started = time.perf_counter()
    now = clock.now()
    zone = service.zone_of(settings)
    days = deadline.check_reminder_days(settings.requests_reminder_days)
    after = settings.requests_escalate_after_day
    rows = session.execute(select(*_COLUMNS).where(VictimRequest.next_check_at <= now,
                                                   VictimRequest.status.in_(_RUNNING))
                           .order_by(VictimRequest.id)).all()
    items: list[tuple[int, str, str, str, dict[str, Any]]] = []
    reminders: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
    escalate: list[tuple[int, str]] = []
    overdue: list[tuple[int, str]] = []
    updates: list[dict[str, Any]] = []
    for rid, ref, assignee, received, due, sent, escalated_at, overdue_at in rows:
        day = deadline.day_number(received, now, zone)
        owed = [n for n in days if n > (sent or 0) and day >= n]
        for n in owed:
            items.append((rid, ref, "reminder", f"reminder:{n}", {"day": n}))
            reminders[n].append((rid, ref, assignee))
        new_escalated = escalated_at
        if escalated_at is None and day > after:
            items.append((rid, ref, "escalation", "escalation", {"after_day": after}))
            escalate.append((rid, ref))
            new_escalated = now
        new_overdue = overdue_at
        if overdue_at is None and now > due:
            items.append((rid, ref, "overdue", "overdue", {}))
            overdue.append((rid, ref))
            new_overdue = now
        new_sent = max([sent or 0, *owed])
        updates.append({"rid": rid, "sent": new_sent, "esc": new_escalated, "over": new_overdue,
                        "next": deadline.next_check(received, due, zone, reminder_days=days, reminders_sent=new_sent,
                                                    escalate_after=after, escalated=new_escalated is not None,
                                                    overdue=new_overdue is not None)})
    _record(session, items, now)
    if updates:
        statement = (update(VictimRequest).where(VictimRequest.id == bindparam("rid"))
                     .values(reminders_sent=bindparam("sent"), escalated_at=bindparam("esc"),
                             overdue_at=bindparam("over"), next_check_at=bindparam("next")))
        connection = session.connection()
        for start in range(0, len(updates), _CHUNK):
            connection.execute(statement, updates[start:start + _CHUNK])
    _mail(session, settings, reminders, escalate, overdue)
    checked = session.scalar(select(func.count()).select_from(VictimRequest)
                             .where(VictimRequest.status.in_(_RUNNING))) if rows else None
    return SweepReport(reminders=sum(len(v) for v in reminders.values()), escalations=len(escalate),
                       overdue=len(overdue), checked=len(rows) if checked is None else checked,
                       seconds=round(time.perf_counter() - started, 3))


def _mail(session: Session, settings: Settings, reminders: dict[int, list[tuple[int, str, int | None]]],
          escalate: list[tuple[int, str]], overdue: list[tuple[int, str]]) -> None:
    team_email = settings.requests_team_email
    assignees = {a for rows in reminders.values() for _, _, a in rows if a is not None}
    emails = dict(session.execute(select(Employee.id, Employee.email).where(Employee.id.in_(assignees)))
                  .tuples().all()) if assignees else {}
    for n, rows in sorted(reminders.items()):
        by_recipient: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for rid, ref, assignee in rows:
            by_recipient[emails.get(assignee, team_email) if assignee else team_email].append((rid, ref))
        for to, found in by_recipient.items():
            _digest(session, found[0][0], to, "assignee" if to != team_email else "team", "victim_request_reminder",
                    f"reminder:{n}", [r for _, r in found], {"day": n, "days_left": deadline.DEADLINE_DAYS - n})
    officers = _officers(session) if (escalate or overdue) else []
    for key, template, found in (("escalation", "victim_request_escalation", escalate),
                                 ("overdue", "victim_request_overdue", overdue)):
        if not found:
            continue
        refs = [ref for _, ref in found]
        for officer in officers:
            _digest(session, found[0][0], officer.email, f"privacy_officer:{officer.external_id}", template, key,
                    refs, {})
        if not officers:
            _digest(session, found[0][0], "", "privacy_officers", template, key, refs, {})
