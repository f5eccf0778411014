"""Taking a synthetic retailer's injected requests in through the service, and working them by a written
procedure, so the demo, tests and benchmarks measure the real workflow against the truth.

The procedure (what a careful team does, stated so it can be measured):
- verification: confident when a government ID, a report (FTC or police) and an affidavit are on file, on that
  basis; otherwise the requester is asked for them (and, with nothing after that, a decline on the identity
  ground is proposed and confirmed by a second privacy officer);
- discovery under the request; each found record gets the verdict discovery suggests (suspected fraud or a
  takeover of the victim's own account: fraud; the victim's own account: own; anything else: not related); a
  card the victim named that sits on someone else's account is fraud unless discovery judged the account theirs;
- a request whose discovery confirms no fraud is declined as resting on a misrepresentation when the requester
  named an account as fraudulent, else as not required.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.errors import InvalidTransition
from ombud.keys import KeyRing
from ombud.staff.models import Employee
from ombud.victim_requests import discovery, service, workflow
from ombud.victim_requests.models import EvidenceKind, MatchVerdict, RequestMatch, SubjectKind, VictimRequest
from ombud.victim_requests.schemas import RequestCreate
from ombud.victim_requests.states import Channel, Status

#: A minimal, valid PDF and PNG marked as synthetic (the evidence files of injected requests).
SYNTHETIC_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                 b"% SYNTHETIC DOCUMENT - ombud synth\ntrailer<</Root 1 0 R>>\n%%EOF\n")
SYNTHETIC_PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
                 + b"\x00" * 16)
_FRAUD_SUGGESTIONS = {"suspected_fraud", "own_account_takeover_suspected"}


def uploads_for(evidence: list[str]) -> list[service.Upload]:
    """Synthetic files for the evidence kinds a line lists."""
    return [service.Upload(EvidenceKind(kind), f"{kind}.{'png' if kind == 'government_id' else 'pdf'}",
                           SYNTHETIC_PNG if kind == "government_id" else SYNTHETIC_PDF, field=kind)
            for kind in evidence]


def load(session: Session, keys: KeyRing, settings: Settings, lines: list[dict[str, Any]], *,
         entered_by: Employee | None) -> dict[str, int]:
    """Take every line in (received at its own time; the clock must stand at or after it); synth id -> request id."""
    out: dict[str, int] = {}
    for line in lines:
        data = RequestCreate.model_validate(line["request"])
        channel = Channel(line["channel"])
        staff = entered_by if channel in (Channel.mail, Channel.email, Channel.api) else None
        intake = service.submit(session, keys, settings, data, channel=channel,
                                received_at=datetime.fromisoformat(line["received_at"]), entered_by=staff,
                                uploads=uploads_for(line["evidence"]))
        out[line["request_id"]] = intake.request.id
    return out


@dataclass
class Outcome:
    """How one injected request ended, against its truth."""

    request_id: str
    kind: str
    status: str
    verified: bool
    confirmed_fraud: set[str]
    expected_fraud: set[str]
    days_to_verified: float | None

    @property
    def all_fraud_confirmed(self) -> bool:
        return self.expected_fraud <= self.confirmed_fraud

    @property
    def false_fraud(self) -> set[str]:
        return self.confirmed_fraud - self.expected_fraud


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def share(self, pick: Callable[[Outcome], bool], among: Callable[[Outcome], bool]) -> float | None:
        pool = [o for o in self.outcomes if among(o)]
        return round(sum(1 for o in pool if pick(o)) / len(pool), 4) if pool else None

    def summary(self) -> dict[str, Any]:
        genuine = lambda o: o.kind in ("genuine", "repeat")  # noqa: E731
        days = sorted(o.days_to_verified for o in self.outcomes if o.days_to_verified is not None)
        return {
            "requests": len(self.outcomes),
            "genuine": sum(1 for o in self.outcomes if genuine(o)),
            "genuine_verified_and_all_fraud_confirmed": self.share(lambda o: o.verified and o.all_fraud_confirmed,
                                                                   genuine),
            "genuine_verified": self.share(lambda o: o.verified, genuine),
            "fraud_accounts_expected": sum(len(o.expected_fraud) for o in self.outcomes if genuine(o)),
            "fraud_accounts_confirmed": sum(len(o.expected_fraud & o.confirmed_fraud) for o in self.outcomes
                                            if genuine(o)),
            "accounts_wrongly_confirmed_fraud": sum(len(o.false_fraud) for o in self.outcomes),
            "non_genuine_declined": self.share(lambda o: o.status == Status.declined.value,
                                               lambda o: not genuine(o)),
            "median_days_to_verified": days[len(days) // 2] if days else None,
        }


def _verdict(match: RequestMatch, suggestions: dict[str, str | None], card_accounts: set[str]) -> MatchVerdict:
    suggested = suggestions.get(match.account_ref or "") if match.account_ref else match.suggested
    if suggested == "own_account":
        return MatchVerdict.own
    if suggested in _FRAUD_SUGGESTIONS or (match.account_ref or "") in card_accounts:
        return MatchVerdict.fraud  # a card the victim named sits on an account discovery did not judge theirs
    return MatchVerdict.unrelated


def work(session: Session, keys: KeyRing, settings: Settings, request: VictimRequest, *, agent: Employee,
         officer: Employee, second_officer: Employee, evidence: list[str], line: dict[str, Any] | None = None) -> None:
    """Work one request by the procedure above (the caller moves the clock between steps as it likes)."""
    service.assign(session, request, actor=officer, assignee=agent)
    workflow.start_verification(session, request, actor=agent)
    proof = {"government_id"} <= set(evidence) and bool({"ftc_report", "police_report"} & set(evidence)) \
        and "affidavit" in evidence
    if not proof:
        workflow.verify(session, keys, request, actor=agent, confident=False, basis=[], note="no proof on file")
        workflow.request_information(session, keys, settings, request, actor=agent,
                                     what="Please send a government-issued ID, a police or FTC report and an "
                                          "identity-theft affidavit.")
        decline = workflow.propose_decline(session, request, actor=officer, ground="identity_not_confirmed",
                                           explanation="No proof of identity arrived after we asked for it.")
        workflow.review_decline(session, keys, request, decline.id, actor=second_officer, confirm=True)
        return
    workflow.verify(session, keys, request, actor=agent, confident=True,
                    basis=["government_id_checked", "report_present", "affidavit_present"])
    discovery.run(session, keys, request, actor=agent)
    matches = list(session.scalars(select(RequestMatch).where(RequestMatch.request_id == request.id)))
    suggestions = {m.subject_id: m.suggested for m in matches if m.subject_kind is SubjectKind.account
                   and m.probability is not None}
    card_accounts = {m.account_ref for m in matches if m.subject_kind is SubjectKind.payment_method
                     and m.probability is None and m.account_ref}
    for match in matches:
        workflow.set_verdict(session, request, match.id, actor=agent,
                             verdict=_verdict(match, suggestions, card_accounts))
    try:
        workflow.finish_review(session, request, actor=agent)
    except InvalidTransition:
        named = (line or {}).get("request", {}).get("account_or_transaction_number")
        ground = "misrepresentation" if named else "not_required"
        decline = workflow.propose_decline(session, request, actor=agent, ground=ground,
                                           explanation="Discovery found no record of a fraudulent transaction in "
                                                       "the requester's name" + (
                                                           "; the account named is another person's." if named
                                                           else "."))
        workflow.review_decline(session, keys, request, decline.id, actor=officer, confirm=True)


def outcome(session: Session, line: dict[str, Any], request: VictimRequest) -> Outcome:
    confirmed = set(session.scalars(select(RequestMatch.account_ref).where(
        RequestMatch.request_id == request.id, RequestMatch.verdict == MatchVerdict.fraud,
        RequestMatch.account_ref.is_not(None))))
    days = ((request.verified_at - request.received_at) / timedelta(days=1)) if request.verified_at else None
    return Outcome(line["request_id"], line["kind"], request.status.value, request.verified_at is not None,
                   {c for c in confirmed if c}, set(line["truth"]["fraudulent_account_ids"]),
                   None if days is None else round(days, 2))


def run_scenario(session: Session, keys: KeyRing, settings: Settings, lines: list[dict[str, Any]], *,
                 agent: Employee, officer: Employee, second_officer: Employee,
                 pause: timedelta = timedelta(hours=20)) -> Report:
    """Each injected request in order of receipt: taken in at its received time, then worked by the procedure
    ``pause`` later (a simulated clock: the stored times are those of the scenario, not of the machine)."""
    report = Report()
    for line in sorted(lines, key=lambda x: x["received_at"]):
        received = datetime.fromisoformat(line["received_at"])
        with clock.use_clock(clock.FrozenClock(received)):
            request = service.get_request(session, load(session, keys, settings, [line], entered_by=agent)[
                line["request_id"]])
        with clock.use_clock(clock.FrozenClock(received + pause)):
            work(session, keys, settings, request, agent=agent, officer=officer, second_officer=second_officer,
                 evidence=line["evidence"], line=line)
        report.outcomes.append(outcome(session, line, request))
    return report
