"""Minimisation and recertification: who can reach which data class, how much they used it, and rounds in which
managers confirm or revoke their reports' standing access.

Reach through a role is read from the Cedar policies themselves (each role x case type x class is asked of the
engine with a neutral context), so the report cannot drift from what the broker enforces. Use comes from the
broker's decisions as their audit leaves record them (``ombud.access.events``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import grants, trail
from ombud.access.broker import DEFAULT_DAILY_LIMIT
from ombud.access.classes import SENSITIVE, DataClass
from ombud.access.events import Usage, usage_by_employee
from ombud.access.models import (
    CaseType,
    Grant,
    GrantKind,
    GrantStatus,
    ReviewDecision,
    ReviewItem,
    ReviewRound,
    RoundStatus,
)
from ombud.access.policy import PolicyEngine, Principal, default_engine
from ombud.errors import InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.staff.models import Employee, Role

DEFAULT_WINDOW_DAYS = 30
#: The longest a recertification round may run before it is due (days).
MAX_DUE_DAYS = 90


def role_reach(engine: PolicyEngine | None = None) -> dict[Role, dict[CaseType, frozenset[DataClass]]]:
    """For each role and case type, the data classes the policies let it see (asked of Cedar)."""
    engine = engine or default_engine()
    out: dict[Role, dict[CaseType, frozenset[DataClass]]] = {}
    for role in Role:
        principal = Principal(employee_id=0, role=role.value, team="-", serves=("*",),
                              daily_limit=DEFAULT_DAILY_LIMIT.get(role, 100), shift_start=0, shift_end=24)
        out[role] = {}
        for case_type in CaseType:
            context = {"purpose": "case", "case_type": case_type.value, "granted": [], "customer_country": "US",
                       "local_hour": 12, "reads_today": 1}
            decided = engine.decide(principal, list(DataClass), context)
            out[role][case_type] = frozenset(cls for cls, d in decided.items() if d.allowed)
    return out


@dataclass
class ReachRow:
    """One employee's reach to one data class, the ways they have it, and their use of it."""

    employee_id: int
    employee: str
    role: str
    team: str
    data_class: DataClass
    via_roles: list[str] = field(default_factory=list)  # case types whose cases open this class to the role
    via_grants: list[int] = field(default_factory=list)  # standing grant ids
    reads: int = 0
    last_used_at: datetime | None = None

    @property
    def via(self) -> str:
        parts = []
        if self.via_roles:
            parts.append("role (" + ", ".join(self.via_roles) + ")")
        parts += [f"standing grant {g}" for g in self.via_grants]
        return "; ".join(parts)


@dataclass
class ReachReport:
    """The minimisation report: reach rows, people able to reach each class, unused standing grants."""

    since: datetime
    rows: list[ReachRow]
    people_per_class: dict[DataClass, int]
    unused_standing: list[Grant]

    @property
    def sensitive_counts(self) -> dict[DataClass, int]:
        return {cls: n for cls, n in self.people_per_class.items() if cls in SENSITIVE}


def standing_grants(session: Session, now: datetime) -> list[Grant]:
    """Approved standing grants in force now."""
    rows = session.scalars(
        select(Grant).where(Grant.kind == GrantKind.standing, Grant.status == GrantStatus.approved).order_by(Grant.id)
    ).all()
    return [g for g in rows if grants.is_live(g, now)]


def unused_standing(
    session: Session, now: datetime, days: int = DEFAULT_WINDOW_DAYS,
    usage: dict[int, dict[DataClass, Usage]] | None = None,
) -> list[Grant]:
    """Standing grants held for at least ``days`` and not used to see their class in that time: revoke them."""
    since = now - timedelta(days=days)
    usage = usage if usage is not None else usage_by_employee(session, since)
    out = []
    for grant in standing_grants(session, now):
        if grant.starts_at is not None and grant.starts_at > since:
            continue  # too young to judge
        used = usage.get(grant.employee_id, {}).get(DataClass(grant.data_class))
        if used is None or used.reads == 0:
            out.append(grant)
    return out


def reach_report(
    session: Session, *, days: int = DEFAULT_WINDOW_DAYS, engine: PolicyEngine | None = None
) -> ReachReport:
    """Who can reach which data class and through what, and how much each used it in the last ``days``."""
    if not 1 <= days <= 366:
        raise InvalidInput("the window is 1 to 366 days", field="days")
    now = clock.now()
    since = now - timedelta(days=days)
    reach = role_reach(engine)
    usage = usage_by_employee(session, since)
    by_holder: dict[int, list[Grant]] = {}
    for grant in standing_grants(session, now):
        by_holder.setdefault(grant.employee_id, []).append(grant)
    rows: list[ReachRow] = []
    people: dict[DataClass, int] = dict.fromkeys(DataClass, 0)
    employees = session.scalars(select(Employee).where(Employee.left_on.is_(None)).order_by(Employee.name)).all()
    for emp in employees:
        for cls in DataClass:
            via_roles = [ct.value for ct, classes in reach[emp.role].items() if cls in classes]
            via_grants = [g.id for g in by_holder.get(emp.id, []) if g.data_class == cls.value]
            if not via_roles and not via_grants:
                continue
            used = usage.get(emp.id, {}).get(cls, Usage())
            rows.append(ReachRow(emp.id, emp.name, emp.role.value, emp.team, cls, via_roles, via_grants,
                                 used.reads, used.last_at))
            people[cls] += 1
    return ReachReport(since, rows, people, unused_standing(session, now, days, usage))


# --- recertification rounds ---------------------------------------------------------------------------------


def open_round(
    session: Session, *, actor: Employee | None, name: str, due_days: int = 14, unused_days: int = DEFAULT_WINDOW_DAYS
) -> ReviewRound:
    """Start a round: one item per standing grant, for the holder's manager (privacy officers where none)."""
    if actor is not None and actor.role not in (Role.privacy_officer, Role.admin):
        raise PolicyDenied("privacy officers and admins open review rounds")
    name = (name or "").strip()
    if not 3 <= len(name) <= 200:
        raise InvalidInput("a round needs a name of 3 to 200 characters", field="name")
    if not 1 <= due_days <= MAX_DUE_DAYS:
        raise InvalidInput(f"a round is due in 1 to {MAX_DUE_DAYS} days", field="due_days")
    if session.scalar(select(ReviewRound.id).where(ReviewRound.status == RoundStatus.open)) is not None:
        raise InvalidTransition("a review round is already open; close it first")
    now = clock.now()
    round_ = ReviewRound(name=name, status=RoundStatus.open, unused_days=unused_days, opened_at=now,
                         opened_by_id=actor.id if actor else None, due_at=now + timedelta(days=due_days))
    session.add(round_)
    session.flush()
    since = now - timedelta(days=unused_days)
    usage = usage_by_employee(session, since)
    unused_ids = {g.id for g in unused_standing(session, now, unused_days, usage)}
    for grant in standing_grants(session, now):
        holder = session.get(Employee, grant.employee_id)
        used = usage.get(grant.employee_id, {}).get(DataClass(grant.data_class), Usage())
        session.add(ReviewItem(
            round_id=round_.id, grant_id=grant.id, employee_id=grant.employee_id,
            reviewer_id=holder.manager_id if holder else None, data_class=grant.data_class,
            reads_in_window=used.reads, last_used_at=used.last_at, flagged_unused=grant.id in unused_ids,
            decision=ReviewDecision.pending,
        ))
    session.flush()
    trail.record(session, "access.review.open", actor, subject_type="review_round", subject_id=round_.id,
                 detail={"items": len(standing_grants(session, now)), "unused_flagged": len(unused_ids),
                         "due_at": round_.due_at.isoformat()})
    return round_


def get_round(session: Session, round_id: int) -> ReviewRound:
    """The round with this id, or NotFound."""
    round_ = session.get(ReviewRound, round_id)
    if round_ is None:
        raise NotFound(f"no review round {round_id}")
    return round_


def list_rounds(session: Session, limit: int = 20) -> Sequence[ReviewRound]:
    """Review rounds, newest first."""
    return session.scalars(select(ReviewRound).order_by(ReviewRound.id.desc()).limit(limit)).all()


def items(session: Session, round_id: int, *, reviewer: Employee | None = None) -> Sequence[ReviewItem]:
    """The items of a round (only those this reviewer decides, when given)."""
    query = select(ReviewItem).where(ReviewItem.round_id == round_id).order_by(ReviewItem.id)
    if reviewer is not None and reviewer.role not in (Role.privacy_officer, Role.admin):
        query = query.where(ReviewItem.reviewer_id == reviewer.id)
    return session.scalars(query).all()


def may_decide(item: ReviewItem, reviewer: Employee) -> str | None:
    """Why this employee may not decide this item (None when they may)."""
    if reviewer.id == item.employee_id:
        return "nobody recertifies their own access"
    if item.reviewer_id == reviewer.id:
        return None
    if reviewer.role is Role.privacy_officer:
        return None
    return "the holder's manager (or a privacy officer) recertifies this access"


def decide_item(
    session: Session, item: ReviewItem, *, reviewer: Employee, decision: ReviewDecision, note: str | None = None
) -> ReviewItem:
    """Confirm or revoke one standing grant; a revocation ends the grant at once."""
    round_ = get_round(session, item.round_id)
    if round_.status is not RoundStatus.open:
        raise InvalidTransition(f"review round {round_.id} is closed")
    if decision is ReviewDecision.pending:
        raise InvalidInput("decide confirmed or revoked", field="decision")
    if item.decision is not ReviewDecision.pending:
        raise InvalidTransition(f"review item {item.id} was already {item.decision.value}")
    problem = may_decide(item, reviewer)
    if problem:
        raise PolicyDenied(problem)
    item.decision, item.decided_at, item.decided_by_id = decision, clock.now(), reviewer.id
    item.note = (note or "").strip()[:500] or None
    session.flush()
    if decision is ReviewDecision.revoked:
        grant = grants.get_grant(session, item.grant_id)
        if grant.status is GrantStatus.approved:
            grants.revoke(session, grant, actor=None, reason=f"revoked in review round {round_.id}")
    trail.record(session, "access.review.decide", reviewer, subject_type="review_item", subject_id=item.id,
                 fields=(item.data_class,), decision=decision.value,
                 detail={"round": round_.id, "grant": item.grant_id, "holder_id": item.employee_id,
                         "flagged_unused": item.flagged_unused})
    return item


def close_round(
    session: Session, round_: ReviewRound, *, actor: Employee | None, revoke_unreviewed: bool = False
) -> ReviewRound:
    """Close a round; optionally revoke every grant nobody confirmed (access must be kept, not lost, actively)."""
    if actor is not None and actor.role not in (Role.privacy_officer, Role.admin):
        raise PolicyDenied("privacy officers and admins close review rounds")
    if round_.status is not RoundStatus.open:
        raise InvalidTransition(f"review round {round_.id} is already closed")
    pending = [i for i in items(session, round_.id) if i.decision is ReviewDecision.pending]
    revoked = 0
    if revoke_unreviewed:
        for item in pending:
            grant = grants.get_grant(session, item.grant_id)
            item.decision, item.decided_at, item.note = ReviewDecision.revoked, clock.now(), "not reviewed in time"
            if grant.status is GrantStatus.approved:
                grants.revoke(session, grant, actor=None, reason=f"not recertified in review round {round_.id}")
                revoked += 1
    round_.status, round_.closed_at = RoundStatus.closed, clock.now()
    round_.closed_by_id = actor.id if actor else None
    session.flush()
    trail.record(session, "access.review.close", actor, subject_type="review_round", subject_id=round_.id,
                 detail={"unreviewed": len(pending), "revoked_unreviewed": revoked})
    return round_
