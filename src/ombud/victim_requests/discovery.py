"""Discovery under a purpose: the request's verified identifiers searched in the identity index.

The search runs only for a request that is verified (or already in discovery or review), through the identity
domain's public discovery function; the search and what it revealed (which accounts) are recorded in the audit
log with ``request:<id>`` as purpose. Cards the victim named are kept only as keyed fingerprints, so the
accounts carrying them are found here by fingerprint and added to the matches with their own explanation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import cases
from ombud.access.broker import parse_purpose
from ombud.access.models import Case, CaseStatus, CaseType, PurposeKind
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.errors import InvalidInput, InvalidTransition, PolicyDenied
from ombud.identity.schemas import DiscoveryResult, Match, Profile
from ombud.identity.service import discover
from ombud.identity.workflow import discover_for_employee
from ombud.keys import KeyRing
from ombud.retail.models import Account, PaymentMethod
from ombud.staff.models import Employee, Role
from ombud.victim_requests import service, trail
from ombud.victim_requests.models import RequestMatch, SubjectKind, VictimRequest
from ombud.victim_requests.protect import open_json, seal_json
from ombud.victim_requests.states import Status
from ombud.victim_requests.workflow import transition

EXPLANATION = "victim_request_match.explanation"
_AUDITED_ACCOUNTS = 50


@dataclass
class DiscoveryRun:
    """What one run found: the result and how many match rows it added."""

    result: DiscoveryResult
    added: int
    total: int
    card_accounts: list[str]


def _profile(keys: KeyRing, request: VictimRequest) -> dict[str, Any]:
    ids = service.identifiers_of(keys, request)
    return {k: v for k, v in ids.items() if v}


def _search(session: Session, keys: KeyRing, request: VictimRequest, actor: Employee | None,
            profile: dict[str, Any]) -> DiscoveryResult:
    purpose = trail.purpose_of(request.id)
    if actor is not None:
        return discover_for_employee(session, keys, actor, profile, purpose=purpose)
    result = discover(session, keys, profile)
    append_event(session, AuditEvent(
        action="identity.discover", actor_type="system", actor_id="ombud.victim_requests",
        subject_type="identity_search", fields=tuple(sorted(profile)), purpose=purpose, decision="allow",
        detail={"matches": len(result.matches), "below_threshold": len(result.below_threshold),
                "accounts": [m.account_id for m in result.matches if m.account_id][:_AUDITED_ACCOUNTS],
                "threshold": str(result.threshold)},
    ))
    return result


def _cards_on_accounts(session: Session, request: VictimRequest) -> list[tuple[str, str, str]]:
    """(payment method id, account id, last four) of every card on file whose fingerprint the victim gave."""
    prints = {c["fingerprint"]: c["last4"] for c in request.cards or []}
    if not prints:
        return []
    rows = session.execute(
        select(PaymentMethod.external_id, Account.external_id, PaymentMethod.card_fingerprint)
        .join(Account, Account.id == PaymentMethod.account_id)
        .where(PaymentMethod.card_fingerprint.in_(sorted(prints)))
    ).all()
    return [(pm, acct, prints[fp]) for pm, acct, fp in rows]


def _seal(keys: KeyRing, summary: str | None, signals: list[str], lines: list[str]) -> bytes:
    return seal_json(keys, {"summary": summary, "signals": signals, "explanation": lines}, EXPLANATION)


def explanation_of(keys: KeyRing, match: RequestMatch) -> dict[str, Any]:
    """The match's summary, signals and explanation lines (decrypted)."""
    return open_json(keys, match.explanation_enc, EXPLANATION)


def _lines(m: Match) -> list[str]:
    return [f"{e.text} ({e.weight:+.1f} bits)" for e in m.explanation if e.kind != "missing"]


def _rows(keys: KeyRing, result: DiscoveryResult, cards: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for m in result.matches:
        base = {"probability": m.probability, "suggested": m.verdict}
        if m.record_kind == "account" and m.account_id:
            rows.append({**base, "kind": SubjectKind.account, "id": m.account_id, "account": m.account_id,
                         "blob": _seal(keys, m.summary, m.signals, _lines(m))})
            for c in m.cards:
                rows.append({**base, "kind": SubjectKind.payment_method, "id": c.payment_method_id,
                             "account": m.account_id, "blob": _seal(
                                 keys, f"Card ending {c.last4} on account {m.account_id}",
                                 [f"added {c.added_at:%Y-%m-%d}"], [])})
        for a in m.applications:
            rows.append({**base, "kind": SubjectKind.credit_application, "id": a.application_id,
                         "account": m.account_id, "blob": _seal(
                             keys, f"{a.product} application of {a.applied_at:%Y-%m-%d} ({a.decision})",
                             [f"agreed on: {', '.join(a.matched)}"] if a.matched else [], [])})
        if m.record_kind == "application" and m.application_id:
            rows.append({**base, "kind": SubjectKind.credit_application, "id": m.application_id, "account": None,
                         "blob": _seal(keys, m.summary, m.signals, _lines(m))})
    for pm, account, last4 in cards:
        text = f"A card you named (ending {last4}) is on this account"
        rows.append({"probability": None, "suggested": None, "kind": SubjectKind.payment_method, "id": pm,
                     "account": account, "blob": _seal(keys, text, [], [text])})
        rows.append({"probability": None, "suggested": None, "kind": SubjectKind.account, "id": account,
                     "account": account, "blob": _seal(keys, text, [], [text])})
    return rows


def run(session: Session, keys: KeyRing, request: VictimRequest, *, actor: Employee | None) -> DiscoveryRun:
    """Search for the request's verified identifiers and record every account, card and application found."""
    service.require_worker(request, actor)
    if request.status not in (Status.verified, Status.discovery, Status.review):
        raise InvalidTransition(f"discovery runs for a verified request; {request.reference} is {request.status.value}")
    if request.status is not Status.discovery:
        transition(session, request, Status.discovery, actor=actor)
    profile = _profile(keys, request)
    result = _search(session, keys, request, actor, profile)
    cards = _cards_on_accounts(session, request)
    existing = {(m.subject_kind, m.subject_id): m for m in
                session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id))}
    now = clock.now()
    added = 0
    for row in _rows(keys, result, cards):
        key = (row["kind"], row["id"])
        found = existing.get(key)
        if found is not None:
            if row["probability"] is not None:  # a fresh score; a verdict already given stays
                found.probability, found.suggested, found.explanation_enc = row["probability"], row["suggested"], \
                    row["blob"]
            continue
        match = RequestMatch(request_id=request.id, subject_kind=row["kind"], subject_id=row["id"],
                             account_ref=row["account"], probability=row["probability"], suggested=row["suggested"],
                             explanation_enc=row["blob"], found_at=now)
        session.add(match)
        existing[key] = match
        added += 1
    session.flush()
    revealed = sorted({m.account_ref for m in existing.values() if m.account_ref})[:_AUDITED_ACCOUNTS]
    detail = {"matches": len(existing), "added": added, "accounts": revealed,
              "card_hits": len(cards), "candidates": result.candidates}
    index = trail.record(session, "victim_request.discovery", actor, request.id, detail=detail)
    service.add_event(session, request, "discovery", actor, detail={k: v for k, v in detail.items()
                                                                     if k != "accounts"} | {"accounts": len(revealed)},
                      audit_index=index)
    transition(session, request, Status.review, actor=actor)
    return DiscoveryRun(result, added, len(existing), sorted({a for _, a, _ in cards}))


def summaries(keys: KeyRing, matches: list[RequestMatch]) -> dict[int, dict[str, Any]]:
    """Each match's decrypted explanation, by match id."""
    return {m.id: explanation_of(keys, m) for m in matches}





#: Case types whose cases may run a discovery search (investigations; a victim's request runs its own).
INVESTIGATIONS = frozenset({CaseType.insider_investigation, CaseType.incident})
_OVERSEERS = (Role.privacy_officer, Role.security_analyst)
NEEDS_PURPOSE = ("discovery runs only under a purpose: request:<id> (a victim's records request) or case:<id> "
                 "(an investigation case)")


def case_problem(case: Case, employee: Employee) -> str | None:
    """Why this case cannot be the purpose of this employee's discovery search (None when it can)."""
    if case.status is not CaseStatus.open:
        return f"case {case.id} is closed"
    if case.case_type not in INVESTIGATIONS:
        return f"case {case.id} is a {case.case_type.value}; discovery runs under investigation cases"
    if employee.role in _OVERSEERS or case.assignee_id == employee.id or (case.team and case.team == employee.team):
        return None
    return f"case {case.id} is not assigned to you or your team"


def search_under_purpose(session: Session, keys: KeyRing, employee: Employee, purpose: str | None,
                         profile: Profile | dict[str, Any] | None, *, threshold: float = 0.5,
                         include_below_threshold: bool = True) -> DiscoveryResult:
    """Discovery for a member of staff, only under a purpose; the search and what it revealed are audited.

    ``request:<id>`` searches the request's verified identifiers (no profile is taken: the victim's own, as
    verified, are what is searched); ``case:<id>`` (an open investigation case the employee may work) searches
    the profile given. Anything else, or nothing, is refused.
    """
    if not purpose or not purpose.strip():
        raise InvalidInput(NEEDS_PURPOSE, field="purpose")
    ref = parse_purpose(purpose)
    if ref.kind is PurposeKind.request and ref.id is not None:
        given = profile.model_dump(exclude_defaults=True) if isinstance(profile, Profile) else (profile or {})
        if any(given.values()):
            raise InvalidInput("under a request its verified identifiers are searched: send no profile",
                               field="profile")
        return run(session, keys, service.get_request(session, ref.id), actor=employee).result
    if ref.kind is PurposeKind.case and ref.id is not None:
        problem = case_problem(cases.get_case(session, ref.id), employee)
        if problem is not None:
            raise PolicyDenied(problem)
        if profile is None:
            raise InvalidInput("a search under a case needs a profile", field="profile")
        return discover_for_employee(session, keys, employee, profile, threshold=threshold,
                                     include_below_threshold=include_below_threshold, purpose=str(ref))
    raise InvalidInput(NEEDS_PURPOSE, field="purpose")
