"""Cases: the purposes staff read customer data for. Status is a state machine; every change is audited.

Who may do what (enforced here, so the API, pages and CLI agree):
- open: privacy officers, security analysts and admins open any type; agents open support tickets only,
  assigned to themselves or their own team. The system (workflows, the ticket feed, CLI without ``--as``) opens
  any type.
- origin: every case says what stands behind it (``CaseOrigin``). Only the system (the retailer's ticket feed,
  the victim-request workflow) declares a customer contact or a victim request, or an employee who cites a
  contact the customer started on that ticket in the feed (``retail_support_contact``, ``origin_ref``); a case an
  employee opens for someone else (their report, a teammate, a team) is manager-assigned when they are the
  assignee's manager or an overseer, and a case anyone opens for themselves is self-opened, whatever they claim.
  The policies may refuse sensitive classes for self-opened cases (``policies/origins.cedar``), and the reader's
  manager sees them.
- assign: privacy officers, security analysts and admins; an agent may hand a support ticket they hold to
  their own team or a teammate.
- close / reopen: the assignee, a member of the assigned team, whoever opened it, or a privacy officer,
  security analyst or admin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock, customer_ids
from ombud.access import trail
from ombud.access.fastpath import CaseFacts
from ombud.access.models import Case, CaseOrigin, CaseStatus, CaseType
from ombud.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PolicyDenied
from ombud.retail.models import Account, ContactInitiator, SupportContact
from ombud.staff.models import Employee, Role

#: The allowed moves of a case's status; transition() refuses the rest.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.open: frozenset({CaseStatus.closed}),
    CaseStatus.closed: frozenset({CaseStatus.open}),
}
_ACTION_OF = {CaseStatus.closed: "access.case.close", CaseStatus.open: "access.case.reopen"}
_OVERSEERS = (Role.privacy_officer, Role.security_analyst, Role.admin)
#: Origins as people read them.
ORIGIN_LABELS: dict[str, str] = {
    CaseOrigin.customer_contact.value: "the customer contacted us",
    CaseOrigin.victim_request.value: "an identity-theft victim's request",
    CaseOrigin.manager_assigned.value: "assigned by a manager",
    CaseOrigin.self_opened.value: "self-opened (nothing behind it but its reader's word)",
}
#: The shape of a reference to something outside Ombud (a ticket or request id); customer ids: ombud.customer_ids.
CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}")


def check_customer_id(customer_id: str) -> str:
    """A customer id (the account's external id) in its plain form, or InvalidInput (see ombud.customer_ids)."""
    return customer_ids.check(customer_id)


def customer_contacted(session: Session, customer_id: str, ticket_ref: str) -> bool:
    """True when the retailer's ticket feed holds a contact on this ticket that the customer started."""
    found = session.scalar(
        select(SupportContact.id).join(Account, Account.id == SupportContact.account_id).where(
            SupportContact.ticket_ref == ticket_ref, Account.external_id == customer_id,
            SupportContact.initiated_by == ContactInitiator.customer).limit(1))
    return found is not None


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
    origin: CaseOrigin | None = None,
    origin_ref: str | None = None,
) -> Case:
    """Open a case about a customer, assigned to an employee and/or a team (default: whoever opens it).

    ``origin``: what stands behind the case; see ``origin_of`` for what an employee may declare.
    """
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
        raise Conflict("the assignee has left", field="assignee")  # a state, not bad input
    if actor is not None and not _is_overseer(actor):
        if case_type is not CaseType.support_ticket:
            raise PolicyDenied("agents open support tickets only; other cases come from their workflows")
        if (assignee is not None and assignee.id != actor.id and assignee.team != actor.team) or (
            team and team != actor.team
        ):
            raise PolicyDenied("agents assign their own tickets to themselves, a teammate or their team")
    origin_ref = (origin_ref or "").strip() or None
    if origin_ref is not None and (len(origin_ref) > 100 or not CUSTOMER_ID.fullmatch(origin_ref)):
        raise InvalidInput("an origin reference is the retailer's ticket or request id (letters, digits, _ . : -)",
                           field="origin_ref")
    if actor is not None and origin is CaseOrigin.customer_contact and origin_ref is not None:
        # An employee may cite the retailer's ticket feed: a contact the customer started, on this customer's account.
        if not customer_contacted(session, customer_id, origin_ref):
            raise PolicyDenied(f"the ticket feed holds no contact {origin_ref} started by customer {customer_id}")
        origin = origin_of(None, assignee, team, case_type, origin)
    else:
        origin = origin_of(actor, assignee, team, case_type, origin)
    now = clock.now()
    case = Case(
        case_type=case_type,
        customer_id=customer_id,
        title=title,
        status=CaseStatus.open,
        assignee_id=assignee.id if assignee else None,
        team=team or None,
        source=source,
        origin=origin,
        origin_ref=origin_ref,
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
            "self_opened": origin is CaseOrigin.self_opened,
            "origin": origin.value,
            "origin_ref": origin_ref,
            "source": source,
        },
    )
    return case


def origin_of(
    actor: Employee | None, assignee: Employee | None, team: str | None, case_type: CaseType,
    claimed: CaseOrigin | None,
) -> CaseOrigin:
    """The origin a new case gets: the system's word for contacts and victim requests; for an employee, what their
    act shows (self-opened when they are the assignee or in the assigned team, manager-assigned when they are the
    assignee's manager or an overseer), never a claim they cannot back."""
    if actor is None:
        if claimed is not None:
            return claimed
        return CaseOrigin.victim_request if case_type is CaseType.victim_request else CaseOrigin.customer_contact
    for_themselves = (assignee is not None and assignee.id == actor.id) or (
        assignee is None and team is not None and team == actor.team)
    if for_themselves:
        if claimed not in (None, CaseOrigin.self_opened):
            raise PolicyDenied("a case you open for yourself is self-opened; customer contacts and victim requests "
                               "come from the retailer's ticket feed and the request workflow")
        return CaseOrigin.self_opened
    if claimed in (CaseOrigin.customer_contact, CaseOrigin.victim_request):
        raise PolicyDenied("customer contacts and victim requests come from the retailer's ticket feed and the "
                           "request workflow, not from an employee's word")
    manages = assignee is not None and assignee.manager_id == actor.id
    if manages or _is_overseer(actor):
        return CaseOrigin.manager_assigned
    return CaseOrigin.self_opened  # an agent handing a ticket they opened to a teammate: still their own doing


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
    origin: CaseOrigin | None = None,
    opened_by_reports_of: Employee | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Sequence[Case]:
    """Cases, newest first, filtered; ``mine`` keeps those assigned to the employee or their team;
    ``opened_by_reports_of`` keeps those opened by the manager's direct reports."""
    query = select(Case).order_by(Case.id.desc()).limit(min(max(limit, 1), 500)).offset(max(offset, 0))
    if origin is not None:
        query = query.where(Case.origin == origin)
    if opened_by_reports_of is not None:
        reports = select(Employee.id).where(Employee.manager_id == opened_by_reports_of.id)
        query = query.where(Case.opened_by_id.in_(reports))
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


def _manages_someone_on(session: Session, case: Case, manager: Employee) -> bool:
    people = {i for i in (case.opened_by_id, case.assignee_id) if i is not None}
    if not people:
        return False
    reports = select(Employee.id).where(Employee.id.in_(people), Employee.manager_id == manager.id)
    return session.scalar(reports.limit(1)) is not None


def may_read_for(case: Case, employee: Employee) -> bool:
    """True when this case can be the purpose of this employee's reads (open, theirs or their team's)."""
    return case.status is CaseStatus.open and _may_work(case, employee)


def visible_to(session: Session, case: Case, employee: Employee) -> bool:
    """Whether a (non-overseer) employee may see a case: theirs, their team's, opened by them, or opened by or
    assigned to one of their direct reports (a manager sees what their reports open for themselves)."""
    if _may_work(case, employee) or case.opened_by_id == employee.id:
        return True
    return _manages_someone_on(session, case, employee)


def assign(
    session: Session, case: Case, *, actor: Employee | None, assignee: Employee | None, team: str | None
) -> Case:
    """Give an open case to another employee and/or team."""
    if case.status is not CaseStatus.open:
        raise InvalidTransition(f"case {case.id} is closed; reopen it before assigning")
    if assignee is None and not team:
        raise InvalidInput("name an assignee or a team", field="assignee")
    if assignee is not None and not assignee.active:
        raise Conflict("the assignee has left", field="assignee")  # a state, not bad input
    if actor is not None and not _is_overseer(actor):
        allowed = (
            case.case_type is CaseType.support_ticket
            and _may_work(case, actor)
            and (assignee is None or assignee.team == actor.team)
            and (not team or team == actor.team)
        ) or (
            # a manager puts one of their reports (or themselves) on a case a report of theirs holds or opened
            _manages_someone_on(session, case, actor)
            and (assignee is None or assignee.id == actor.id or assignee.manager_id == actor.id)
            and (not team or team == actor.team)
        )
        if not allowed:
            raise PolicyDenied("agents hand their own support tickets to their team or a teammate only; managers "
                               "assign their reports' cases to their reports")
    before = {"assignee_id": case.assignee_id, "team": case.team, "origin": case.origin}
    case.assignee_id = assignee.id if assignee else None
    case.team = team or None
    by_manager = assignee is not None and (actor is None or (
        assignee.id != actor.id and (assignee.manager_id == actor.id or _is_overseer(actor))))
    if case.origin is CaseOrigin.self_opened and by_manager:
        case.origin = CaseOrigin.manager_assigned  # a manager put a person on it: more than the reader's own word
    case.updated_at = clock.now()
    session.flush()
    trail.record(
        session, "access.case.assign", actor, customer_id=case.customer_id, subject_type="case", subject_id=case.id,
        detail={
            "assignee": assignee.external_id if assignee else None,
            "team": case.team,
            "previous_assignee_id": before["assignee_id"],
            "previous_team": before["team"],
            "origin": case.origin.value,
            "previous_origin": before["origin"].value,
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
