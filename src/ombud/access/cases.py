"""Cases: the purposes staff read customer data for. Status is a state machine; every change is audited.

Who may do what (enforced here, so the API, pages and CLI agree):
- open: privacy officers, security analysts and admins open any type; agents open support tickets only,
  assigned to themselves or their own team (a self-opened case is marked so in the audit log, for insider
  analytics). The system (workflows, CLI without ``--as``) opens any type.
- assign: privacy officers, security analysts and admins; an agent may hand a support ticket they hold to
  their own team or a teammate.
- close / reopen: the assignee, a member of the assigned team, whoever opened it, or a privacy officer,
  security analyst or admin.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock, customer_ids
from ombud.access import trail
from ombud.access.fastpath import CaseFacts
from ombud.access.models import Case, CaseStatus, CaseType
from ombud.errors import InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.retail.models import Account
from ombud.staff.models import Employee, Role

#: The allowed moves of a case's status; transition() refuses the rest.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.open: frozenset({CaseStatus.closed}),
    CaseStatus.closed: frozenset({CaseStatus.open}),
}
_ACTION_OF = {CaseStatus.closed: "access.case.close", CaseStatus.open: "access.case.reopen"}
_OVERSEERS = (Role.privacy_officer, Role.security_analyst, Role.admin)


def check_customer_id(customer_id: str) -> str:
    """A customer id (the account's external id) in its plain form, or InvalidInput (see ombud.customer_ids)."""
    return customer_ids.check(customer_id)


def customer_exists(session: Session, customer_id: str) -> bool:
    """True when the store holds an account with this external id."""
    return session.scalar(select(Account.id).where(Account.external_id == customer_id)) is not None


def _is_overseer(employee: Employee | None) -> bool:
    return employee is None or employee.role in _OVERSEERS


def open_case(
    session: Session,
    *,
    case_type: CaseType,
    customer_id: str,
    title: str,
    actor: Employee | None,
    assignee: Employee | None = None,
    team: str | None = None,
    source: str | None = None,
) -> Case:
    """Open a case about a customer, assigned to an employee and/or a team (default: whoever opens it)."""
    customer_id = check_customer_id(customer_id)
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        raise InvalidInput("a case needs a title of 3 to 200 characters (no personal data)", field="title")
    if not customer_exists(session, customer_id):
        raise NotFound(f"no customer {customer_id}")
    if assignee is None and not team:
        assignee = actor
    if assignee is None and not team:
        raise InvalidInput("a case needs an assignee or a team", field="assignee")
    if assignee is not None and not assignee.active:
        raise InvalidInput("the assignee has left", field="assignee")
    if actor is not None and not _is_overseer(actor):
        if case_type is not CaseType.support_ticket:
            raise PolicyDenied("agents open support tickets only; other cases come from their workflows")
        if (assignee is not None and assignee.id != actor.id and assignee.team != actor.team) or (
            team and team != actor.team
        ):
            raise PolicyDenied("agents assign their own tickets to themselves, a teammate or their team")
    now = clock.now()
    case = Case(
        case_type=case_type,
        customer_id=customer_id,
        title=title,
        status=CaseStatus.open,
        assignee_id=assignee.id if assignee else None,
        team=team or None,
        source=source,
        opened_by_id=actor.id if actor else None,
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    trail.record(
        session, "access.case.open", actor, customer_id=customer_id, subject_type="case", subject_id=case.id,
        detail={
            "case_type": case_type.value,
            "assignee": assignee.external_id if assignee else None,
            "team": team or None,
            "self_opened": bool(actor is not None and assignee is not None and actor.id == assignee.id),
            "source": source,
        },
    )
    return case


def get_case(session: Session, case_id: int) -> Case:
    """The case with this id, or NotFound."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def list_cases(
    session: Session,
    *,
    status: CaseStatus | None = None,
    customer_id: str | None = None,
    case_type: CaseType | None = None,
    assignee_id: int | None = None,
    team: str | None = None,
    mine: Employee | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Case]:
    """Cases, newest first, filtered; ``mine`` keeps those assigned to the employee or their team."""
    query = select(Case).order_by(Case.id.desc()).limit(min(max(limit, 1), 500)).offset(max(offset, 0))
    if status is not None:
        query = query.where(Case.status == status)
    if customer_id:
        query = query.where(Case.customer_id == customer_id)
    if case_type is not None:
        query = query.where(Case.case_type == case_type)
    if assignee_id is not None:
        query = query.where(Case.assignee_id == assignee_id)
    if team:
        query = query.where(Case.team == team)
    if mine is not None:
        query = query.where((Case.assignee_id == mine.id) | (Case.team == mine.team))
    return session.scalars(query).all()


def _may_work(case: Case | CaseFacts, employee: Employee) -> bool:
    return case.assignee_id == employee.id or (case.team is not None and case.team == employee.team)


def assign(
    session: Session, case: Case, *, actor: Employee | None, assignee: Employee | None, team: str | None
) -> Case:
    """Give an open case to another employee and/or team."""
    if case.status is not CaseStatus.open:
        raise InvalidTransition(f"case {case.id} is closed; reopen it before assigning")
    if assignee is None and not team:
        raise InvalidInput("name an assignee or a team", field="assignee")
    if assignee is not None and not assignee.active:
        raise InvalidInput("the assignee has left", field="assignee")
    if actor is not None and not _is_overseer(actor):
        allowed = (
            case.case_type is CaseType.support_ticket
            and _may_work(case, actor)
            and (assignee is None or assignee.team == actor.team)
            and (not team or team == actor.team)
        )
        if not allowed:
            raise PolicyDenied("agents hand their own support tickets to their team or a teammate only")
    before = {"assignee_id": case.assignee_id, "team": case.team}
    case.assignee_id = assignee.id if assignee else None
    case.team = team or None
    case.updated_at = clock.now()
    session.flush()
    trail.record(
        session, "access.case.assign", actor, customer_id=case.customer_id, subject_type="case", subject_id=case.id,
        detail={
            "assignee": assignee.external_id if assignee else None,
            "team": case.team,
            "previous_assignee_id": before["assignee_id"],
            "previous_team": before["team"],
        },
    )
    return case


def transition(
    session: Session, case: Case, to: CaseStatus, *, actor: Employee | None, reason: str | None = None
) -> Case:
    """Move a case to another status if the state machine allows it; stamps the time and audits the move."""
    if to not in TRANSITIONS[case.status]:
        raise InvalidTransition(f"case {case.id} cannot go from {case.status.value} to {to.value}")
    if actor is not None and not _is_overseer(actor) and not _may_work(case, actor) and case.opened_by_id != actor.id:
        raise PolicyDenied("only the assignee, their team, whoever opened the case or an overseer may change it")
    reason = (reason or "").strip()[:300] or None
    now = clock.now()
    previous = case.status
    case.status = to
    case.updated_at = now
    if to is CaseStatus.closed:
        case.closed_at, case.closed_by_id, case.close_reason = now, actor.id if actor else None, reason
    else:
        case.closed_at = case.closed_by_id = case.close_reason = None
    session.flush()
    trail.record(
        session, _ACTION_OF[to], actor, customer_id=case.customer_id, subject_type="case", subject_id=case.id,
        detail={"from": previous.value, "to": to.value, "reason_given": reason is not None},
    )
    return case


def close(session: Session, case: Case, *, actor: Employee | None, reason: str | None = None) -> Case:
    """Close an open case; reads for it stop at once."""
    return transition(session, case, CaseStatus.closed, actor=actor, reason=reason)


def reopen(session: Session, case: Case, *, actor: Employee | None, reason: str | None = None) -> Case:
    """Reopen a closed case."""
    return transition(session, case, CaseStatus.open, actor=actor, reason=reason)


def purpose_problem(
    case: Case | CaseFacts | None, case_id: int, employee: Employee, customer_id: str
) -> str | None:
    """Why this case cannot be the purpose of this employee's read of this customer (None when it can)."""
    if case is None:
        return f"no case {case_id}"
    if case.status is not CaseStatus.open:
        return f"case {case.id} is closed"
    if case.customer_id != customer_id:
        return f"case {case.id} is about another customer"
    if not _may_work(case, employee):
        return f"case {case.id} is not assigned to you or your team"
    return None
