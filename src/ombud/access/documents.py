"""Opening one document held under a purpose — a victim's evidence file — through the broker.

A victim's records request holds the documents they sent (government ID, FTC or police report, affidavit, a
letter's scan). Staff open them one at a time, only with the request as purpose (``request:<id>``), and each
opening is one broker decision:
1. the purpose must be the request the document belongs to (the owning domain's document check, registered in
   ``ombud.access.purposes``, also gives the facts: the request's stage, whether it is still worked and how long
   ago it ended, whether it is assigned to the employee or their team, the document's kind);
2. the opening counts against the employee's daily volume like any read;
3. Cedar decides: the gate (volume, shift and region guards) on the request, then the action ``open_evidence``
   on the data class ``evidence`` (``policies/evidence.cedar``);
4. exactly one ``access.read`` audit leaf records the decision, allowed or refused, in the caller's transaction:
   purpose ``request:<id>``, field ``evidence``, the document's id and kind, the policies, the reason. It is the
   decision's only record; the decisions page and reviews read it through ``access_read_event``. It names no
   customer (the requester is not necessarily one) and never the file's name or content.

The caller decrypts the file only when the decision allows it, and commits either way, so a refusal stays on
the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import fastpath, purposes, trail, versions
from ombud.access.broker import PurposeRef, Reader, parse_purpose, principal_of
from ombud.access.classes import DataClass
from ombud.access.events import READ_ACTION
from ombud.access.models import Decision, PurposeKind
from ombud.access.policy import PolicyEngine, default_engine
from ombud.access.regions import customer_country

#: The field an opening is recorded under (the class ``evidence`` has no customer field; this names the file).
FIELD = "evidence"
_NOT_PERMITTED = ("no policy lets you open this document: a request's documents are opened by the agent or team it "
                  "is assigned to while it is worked, and by privacy officers until 30 days after it ends")


@dataclass
class DocumentDecision:
    """The broker's decision on opening one document: allowed or refused, why, and the leaf that records it."""

    decision: Decision
    purpose: str
    document_id: int
    reason: str | None
    policy_ids: tuple[str, ...]
    audit_index: int
    at: datetime

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.allowed


def _purpose_problem(employee: Reader, ref: PurposeRef) -> str | None:
    if not employee.active:
        return "the employee has left"
    if ref.kind is PurposeKind.none or ref.id is None:
        return "no purpose: a victim's document is opened with its request as purpose (request:<id>)"
    if ref.kind is not PurposeKind.request:
        return f"{ref} cannot be the purpose of opening a victim's document: name its request (request:<id>)"
    return None


def open_document(
    session: Session,
    employee: Reader,
    *,
    document_id: int,
    purpose: str | PurposeRef | None,
    engine: PolicyEngine | None = None,
    channel: str | None = None,
    operator: str | None = None,
) -> DocumentDecision:
    """Decide whether this employee may open this document for this purpose; exactly one audit leaf, refusals
    included, in this transaction. A malformed purpose raises InvalidInput before any decision."""
    ref = parse_purpose(purpose)
    engine = engine or default_engine()
    versions.ensure_recorded(session, engine)
    now = clock.now()
    reads_today = fastpath.count_read(fastpath.store(session), employee.id, now)
    problem = _purpose_problem(employee, ref)
    answer: purposes.DocumentAnswer | None = None
    if problem is None:
        assert ref.id is not None
        answer = purposes.document_check(session, ref.kind, employee, ref.id, document_id, now)
        problem = answer.problem
    decision, reason, policy_ids = Decision.denied, problem, ()
    if problem is None:
        assert answer is not None and ref.id is not None
        principal, local_hour = principal_of(session, employee, now)
        gate_context = {"purpose": ref.kind.value, "customer_country": customer_country(answer.country),
                        "local_hour": local_hour, "reads_today": reads_today}
        context = {"purpose": ref.kind.value, "request_stage": answer.stage, "request_open": answer.open,
                   "days_closed": answer.days_closed, "assigned_to_me": answer.assigned_to_me,
                   "assigned_to_my_team": answer.assigned_to_my_team, "document_kind": answer.document_kind}
        decided = engine.decide_document(principal, gate_context, context, ref.id)
        if decided.refused_by:
            policy_ids = decided.refused_by
            reason = "; ".join(engine.reason(g) for g in decided.refused_by)
        elif not decided.allowed:
            policy_ids = decided.policy_ids
            forbids = [i for i in decided.policy_ids if engine.by_id[i].effect == "forbid"]
            reason = "; ".join(engine.reason(i) for i in forbids) or _NOT_PERMITTED
        else:
            decision, policy_ids = Decision.allowed, decided.policy_ids
    allowed = decision is Decision.allowed
    index = trail.record(
        session, READ_ACTION, employee, customer_id=None,
        subject_type=None if ref.kind is PurposeKind.none else ref.kind.value, subject_id=ref.id,
        fields=(FIELD,), purpose=str(ref), decision="allow" if allowed else "deny",
        detail={
            "classes_allowed": [DataClass.evidence.value] if allowed else [],
            "classes_masked": [],
            "policy_ids": list(policy_ids),
            "policy_digest": engine.digest[:16],
            "case_type": "victim_request" if answer is not None and answer.problem is None else None,
            "document_id": document_id,
            "document_kind": answer.document_kind if answer is not None and answer.document_kind else None,
            "reads_today": reads_today,
            "reason": reason,
            "team": employee.team,
            "region": employee.region,
            **({"channel": channel} if channel else {}),
            **({"operator": operator} if operator else {}),
        },
    )
    return DocumentDecision(decision, str(ref), document_id, reason, tuple(policy_ids), index, now)
