"""Law-enforcement agencies and a request: the victim's authorisation (609(e): no subpoena needed), recorded and
shown; or an agency asking on its own, which is a different path (legal process) and is recorded as such."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.errors import InvalidInput, NotFound
from ombud.keys import KeyRing
from ombud.notify.outbox import check_address
from ombud.records.models import AgencyAuthorisation, AuthorisationBasis
from ombud.victim_requests import service, trail
from ombud.victim_requests.models import VictimRequest

SOURCES = ("portal", "letter", "staff")

#: What the console and the CLI say about an agency's own request.
LEGAL_PROCESS_TEXT = (
    "An agency's own request, without the victim's authorisation, is not a 609(e) request: the law gives records "
    "to the victim and to agencies the victim authorises. Without that authorisation the agency needs legal process "
    "(a subpoena or court order), handled by the legal team; Ombud records the request but sends no records."
)


def _text(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(f"{field.replace('_', ' ')} is required", field=field)
        return None
    if len(value) > limit:
        raise InvalidInput(f"{field.replace('_', ' ')} is longer than {limit} characters", field=field)
    return value


def record_authorisation(
    session: Session, request: VictimRequest, *, agency: str, officer: str, badge_or_case: str, email: str,
    phone: str | None = None, source: str = "staff", actor: trail.Actor,
    basis: AuthorisationBasis = AuthorisationBasis.victim,
) -> AgencyAuthorisation:
    """Record an agency the victim authorised (or, with basis=legal_process, an agency's own request)."""
    if source not in SOURCES:
        raise InvalidInput(f"source is one of {', '.join(SOURCES)}", field="source")
    record = AgencyAuthorisation(
        request_id=request.id, basis=basis, agency=_text(agency, "agency", 200),
        officer=_text(officer, "officer", 200), badge_or_case=_text(badge_or_case, "badge_or_case", 100),
        email=check_address(email.strip()), phone=_text(phone, "phone", 40, required=False), source=source,
        recorded_at=clock.now(), recorded_by=trail.actor_of(actor)[1],
    )
    session.add(record)
    session.flush()
    action = "records.agency.authorise" if basis is AuthorisationBasis.victim else "records.agency.legal_process"
    index = trail.record(session, action, actor, request.id, detail={"authorisation": record.id, "source": source})
    service.add_event(session, request, "agency.authorised" if basis is AuthorisationBasis.victim
                      else "agency.legal_process", actor, audit_index=index,
                      detail={"authorisation": record.id, "agency": record.agency})
    return record


def from_portal(session: Session, keys: KeyRing, request: VictimRequest, *, actor: trail.Actor) -> AgencyAuthorisation:
    """Record the agency the victim named in the portal or letter (the request's own agency field)."""
    named = service.agency_of(keys, request)
    if not named:
        raise NotFound(f"request {request.reference} names no agency", field="agency")
    existing = session.scalar(select(AgencyAuthorisation).where(
        AgencyAuthorisation.request_id == request.id, AgencyAuthorisation.source != "staff",
        AgencyAuthorisation.revoked_at.is_(None)))
    if existing is not None:
        return existing
    if not named.get("email"):
        raise InvalidInput("the agency the victim named has no email address: record it with one", field="email")
    return record_authorisation(
        session, request, agency=named.get("agency_name", ""), officer=named.get("contact_person") or "the officer",
        badge_or_case=named.get("report_number") or "not given", email=named["email"], phone=named.get("phone"),
        source="portal" if request.channel.value in ("portal", "api") else "letter", actor=actor,
    )


def authorisations_of(session: Session, request_id: int) -> list[AgencyAuthorisation]:
    return list(session.scalars(select(AgencyAuthorisation).where(AgencyAuthorisation.request_id == request_id)
                                .order_by(AgencyAuthorisation.id)))


def get_authorisation(session: Session, request: VictimRequest, authorisation_id: int) -> AgencyAuthorisation:
    record = session.get(AgencyAuthorisation, authorisation_id)
    if record is None or record.request_id != request.id:
        raise NotFound(f"no agency authorisation {authorisation_id} on request {request.reference}",
                       field="authorisation")
    return record
