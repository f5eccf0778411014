"""Shapes of the victim-requests domain: what a request may ask (the law's list, nothing more) and what the
faces show.

A request asks for the victim's own identifiers, how to reach them, and — only if they know them — the date
and the account or transaction number. Nothing anywhere asks who opened the account or made the purchases:
a victim never has to name anyone (tests/victim_requests/test_no_thief_field.py walks every schema and form).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ombud.crypto import CardNumberError, card_digits
from ombud.identity.normalize import (
    DateOfBirthError,
    SSNError,
    normalize_email,
    normalize_phone,
    normalize_ssn,
    parse_date_of_birth,
)
from ombud.shapes import stripped, written
from ombud.victim_requests.models import EvidenceKind, MatchVerdict, SubjectKind
from ombud.victim_requests.states import Channel, DeclineGround, Status

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped)


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if normalize_email(value) is None:
        raise ValueError("this is not an email address")
    return value.strip()


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if normalize_phone(value) is None:
        raise ValueError("this is not a phone number")
    return value.strip()


class AddressIn(BaseModel):
    """A postal address as the person writes it."""

    model_config = _STRICT

    line1: str = Field(min_length=1, max_length=200, description="Street and number.")
    line2: str | None = Field(None, max_length=200, description="Apartment, suite, unit.")
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=50, description="State.")
    postal_code: str | None = Field(None, max_length=20, description="ZIP code.")
    country: str = Field("US", max_length=56)


class AgencyIn(BaseModel):
    """A law-enforcement agency the victim authorises to receive copies of the records."""

    model_config = _STRICT

    agency_name: str = Field(min_length=2, max_length=200, description="The police department or agency.")
    contact_person: str | None = Field(None, max_length=200, description="The officer or investigator handling it.")
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    report_number: str | None = Field(None, max_length=100, description="The police report or case number.")

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        return _email(value)

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _phone(value)


def _request_schema(schema: dict[str, Any]) -> None:
    """What the document adds to a request's schema: an example, the stripped lengths, and what ``_reachable``
    and ``_check_statement`` check (an email or a postal address; by mail, the address; the statement made)."""
    schema["example"] = {
        "full_name": "Jane Q. Doe", "email": "jane.doe@example.com", "phone": "(217) 555-0143",
        "address": {"line1": "12 Oak Street", "line2": "Apt 4B", "city": "Springfield", "region": "IL",
                    "postal_code": "62704"},
        "date_of_birth": "1984-07-19", "card_numbers": ["4111 1111 1111 1111"],
        "transaction_date": "2026-10-02", "statement_true": True,
    }
    stripped(schema)
    schema["properties"]["statement_true"]["const"] = True
    address = {"required": ["address"], "properties": {"address": {"type": "object"}}}
    schema["allOf"] = [
        {"anyOf": [address, {"required": ["email"], "properties": {
            "email": {"type": "string", "pattern": written(1)}}}]},
        {"anyOf": [address, {"properties": {"contact_preference": {"const": "email"}}}]},
    ]


class RequestCreate(BaseModel):
    """A victim's request for the records of fraud committed in their name (FCRA 609(e))."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_request_schema,
    )

    full_name: str = Field(min_length=2, max_length=200, description="Your full name.")
    other_names: list[str] = Field(default_factory=list, max_length=5,
                                   description="Other names you have used (a former or married name).")
    email: str | None = Field(None, max_length=254, description="Your email address; we send the receipt here.")
    other_emails: list[str] = Field(default_factory=list, max_length=5,
                                    description="Other email addresses of yours that may have been used.")
    phone: str | None = Field(None, max_length=40, description="Your phone number.")
    other_phones: list[str] = Field(default_factory=list, max_length=5)
    address: AddressIn | None = Field(None, description="Your current postal address.")
    previous_addresses: list[AddressIn] = Field(default_factory=list, max_length=5)
    date_of_birth: str | None = Field(None, max_length=40, description="YYYY-MM-DD (MM/DD/YYYY accepted).")
    ssn: str | None = Field(None, max_length=20,
                            description="Your Social Security number, if you choose to give it: it helps find "
                                        "credit applications made with it. Stored encrypted.")
    card_numbers: list[str] = Field(default_factory=list, max_length=10,
                                    description="Numbers of your own cards that may have been used. Only a "
                                                "keyed fingerprint and the last four digits are kept.")
    transaction_date: date | None = Field(None, description="Only if you know it: the date of a fraudulent "
                                                            "transaction or of the account's opening.")
    account_or_transaction_number: str | None = Field(
        None, max_length=100, description="Only if you know it: the account, order or transaction number.")
    description: str | None = Field(None, max_length=4000,
                                    description="Anything you want us to know about what happened.")
    agency: AgencyIn | None = Field(None, description="A police or other law-enforcement agency you authorise "
                                                      "to receive copies of the records.")
    contact_preference: Literal["email", "mail"] = "email"
    statement_true: bool = Field(description="You confirm the information you give is true to your knowledge.")

    @field_validator("other_names")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        out = [v.strip() for v in values if v and v.strip()]
        if any(len(v) > 200 for v in out):
            raise ValueError("a name is at most 200 characters")
        return out

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        return _email(value)

    @field_validator("other_emails")
    @classmethod
    def _check_emails(cls, values: list[str]) -> list[str]:
        out = []
        for i, v in enumerate(values):
            if v and v.strip():
                if normalize_email(v) is None:
                    raise ValueError(f"item {i + 1} is not an email address")
                out.append(v.strip())
        return out

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _phone(value)

    @field_validator("other_phones")
    @classmethod
    def _check_phones(cls, values: list[str]) -> list[str]:
        out = []
        for i, v in enumerate(values):
            if v and v.strip():
                if normalize_phone(v) is None:
                    raise ValueError(f"item {i + 1} is not a phone number")
                out.append(v.strip())
        return out

    @field_validator("date_of_birth")
    @classmethod
    def _check_dob(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            parsed = parse_date_of_birth(value)
        except DateOfBirthError as exc:
            raise ValueError(str(exc) or "not a date") from None
        if parsed is None:
            return None
        return parsed.isoformat()

    @field_validator("ssn")
    @classmethod
    def _check_ssn(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            digits = normalize_ssn(value)
        except SSNError as exc:
            raise ValueError(str(exc) or "not a Social Security number") from None
        return digits

    @field_validator("card_numbers")
    @classmethod
    def _check_cards(cls, values: list[str]) -> list[str]:
        out = []
        for i, v in enumerate(values):
            if v and v.strip():
                try:
                    out.append(card_digits(v))
                except CardNumberError as exc:
                    raise ValueError(f"card {i + 1}: {exc}") from None
        return out

    @field_validator("statement_true")
    @classmethod
    def _check_statement(cls, value: bool) -> bool:
        if not value:
            raise ValueError("please confirm that the information you give is true")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> RequestCreate:
        if self.email is None and self.address is None:
            raise ValueError("give an email address or a postal address, so we can send you the records")
        if self.contact_preference == "mail" and self.address is None:
            raise ValueError("to be answered by mail, give your postal address")
        return self


class LetterIn(RequestCreate):
    """A request that arrived as a letter or an email, typed in by staff (the scan is attached separately)."""

    channel: Literal["mail", "email"] = "mail"
    received_at: datetime = Field(description="When the letter or email reached the designated address or inbox.")
    statement_true: bool = Field(True, description="A signed letter stands as the requester's statement.")


class RequestCreated(BaseModel):
    """The answer to a new request: its reference, its secret status link and the due date."""

    id: int
    reference: str
    status: Status
    received_at: datetime
    due_at: datetime
    status_url: str = Field(description="The secret link to the request's status page (shown once).")
    repeat_of: str | None = Field(None, description="The reference of an earlier request by the same person.")


class VerificationIn(BaseModel):
    model_config = _STRICT

    confident: bool = Field(description="Whether a high degree of confidence in the requester's identity is reached.")
    basis: list[Literal["identifiers_match_records", "government_id_checked", "report_present",
                        "affidavit_present", "applicant_information"]] = Field(default_factory=list)
    note: str | None = Field(None, max_length=2000)


class InformationIn(BaseModel):
    model_config = _STRICT

    what: str = Field(min_length=10, max_length=2000,
                      description="What the requester is asked to send, in plain words.")


class DeclineIn(BaseModel):
    model_config = _STRICT

    ground: DeclineGround = Field(description="One of the four statutory grounds of FCRA 609(e)(5).")
    explanation: str = Field(min_length=20, max_length=4000,
                             description="What the decision rests on (for the reviewing privacy officer).")


class DeclineReviewIn(BaseModel):
    model_config = _STRICT

    confirm: bool
    note: str | None = Field(None, max_length=2000)


class VerdictIn(BaseModel):
    model_config = _STRICT

    verdict: MatchVerdict
    note: str | None = Field(None, max_length=2000)


class TransitionIn(BaseModel):
    model_config = _STRICT

    to: Status
    reason: str | None = Field(None, max_length=500)


class EvidenceRead(BaseModel):
    id: int
    kind: EvidenceKind
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


class EvidenceRefusal(BaseModel):
    """A refused opening of an evidence file: why, and the audit leaf that records the decision."""

    detail: str
    decision: str = Field(description="Always \"denied\".")
    purpose: str = Field(description="The purpose the opening was decided for: request:<id>.")
    policy_ids: list[str]
    audit_index: int


class MatchRead(BaseModel):
    id: int
    subject_kind: SubjectKind
    subject_id: str
    account_ref: str | None
    probability: float | None
    suggested: str | None
    summary: str | None
    signals: list[str]
    explanation: list[str]
    verdict: MatchVerdict | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None


class EventRead(BaseModel):
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    actor: str
    detail: dict[str, object]
    audit_index: int | None


class DeclineRead(BaseModel):
    id: int
    ground: DeclineGround
    ground_text: str
    explanation: str
    state: str
    proposed_by: str | None
    proposed_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None


class VerificationRead(BaseModel):
    decided_by: str | None
    decided_at: datetime
    confident: bool
    basis: list[str]
    note: str | None


class RequestSummary(BaseModel):
    id: int
    reference: str
    status: Status
    channel: Channel
    received_at: datetime
    due_at: datetime
    days_left: int
    overdue: bool
    assignee: str | None
    repeat_of: str | None


class RequestPage(BaseModel):
    items: list[RequestSummary]
    total: int


class RequestDetail(RequestSummary):
    day: int
    verified_at: datetime | None
    delivered_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    overdue_at: datetime | None
    team: str | None
    identifiers: dict[str, object] = Field(description="The requester's own identifiers (decrypted for the reader).")
    contact: dict[str, object]
    known: dict[str, object]
    agency: dict[str, object] | None
    cards: list[str] = Field(description="Last four digits of the cards the requester named.")
    evidence: list[EvidenceRead]
    verifications: list[VerificationRead]
    matches: list[MatchRead]
    declines: list[DeclineRead]
    timeline: list[EventRead]
    earlier_requests: list[str]


class SlaReport(BaseModel):
    open: int
    overdue: int
    by_days_left: dict[str, int]
    by_status: dict[str, int]
    closed_in_window: int
    median_days_to_close: float | None
    p95_days_to_close: float | None
    declines_by_ground: dict[str, int]
    by_channel: dict[str, int]
    window_days: int


class SweepReport(BaseModel):
    reminders: int
    escalations: int
    overdue: int
    checked: int
    seconds: float
