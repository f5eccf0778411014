"""Request and response shapes of the access API (Pydantic), kept apart from the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field
from pydantic.types import StringConstraints

from ombud.access.breakglass import MIN_JUSTIFICATION as BREAK_GLASS_JUSTIFICATION
from ombud.access.classes import FIELDS, DataClass
from ombud.access.grants import JIT_MAX_MINUTES, JIT_MIN_MINUTES, STANDING_MAX_DAYS
from ombud.access.grants import MIN_JUSTIFICATION as GRANT_JUSTIFICATION
from ombud.access.models import (
    BreakGlassReview,
    CaseOrigin,
    CaseStatus,
    CaseType,
    Decision,
    GrantKind,
    GrantStatus,
    ReviewDecision,
    RoundStatus,
)
from ombud.shapes import PURPOSE, REASON_KEY, SPACE, CustomerId, one_of, written

#: A field or data class name.
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
#: A field a read may name, and a data class, as the document lists them (the broker parses them by name).
ReadField = Annotated[str, StringConstraints(min_length=1, max_length=64), Field(json_schema_extra=one_of(FIELDS))]
ClassName = Annotated[str, StringConstraints(min_length=1, max_length=64), Field(json_schema_extra=one_of(DataClass))]
#: Text the code strips before it counts: at least n characters once stripped (ombud.shapes.written).
Title = Annotated[str, Field(min_length=3, max_length=200, json_schema_extra={
    "pattern": written(3), REASON_KEY: "needs 3 to 200 characters besides spaces"})]
#: A reference in the retailer's systems (a ticket or request id): the characters of an id.
Reference = Annotated[str, Field(max_length=100, json_schema_extra={
    "pattern": f"^[{SPACE}]*(?:[A-Za-z0-9][A-Za-z0-9_.:\\-]{{0,63}}[{SPACE}]*)?$",
    REASON_KEY: "the retailer's ticket or request id: up to 64 letters, digits and _ . : -"})]


def _justification(least: int) -> Any:
    return Field(min_length=least, max_length=2000, json_schema_extra={
        "pattern": written(least), REASON_KEY: f"needs at least {least} characters besides spaces (why, now)"})


class ReadRequest(BaseModel):
    """A read through the broker: whose data, which fields or classes, and for what."""

    customer_id: CustomerId = Field(description="The customer's account id (external id).", examples=["C000123"])
    fields: list[ReadField] | None = Field(None, max_length=64,
                                           description="Field names (email, phone, addresses, ...).")
    classes: list[ClassName] | None = Field(None, max_length=32,
                                            description="Data classes; every field of each is read.")
    purpose: str | None = Field(
        None, max_length=64, json_schema_extra={"pattern": PURPOSE},
        description="case:<id>, grant:<id>, break_glass:<id> or request:<id>. A read without one is refused (and "
                    "audited).",
        examples=["case:42"],
    )

    # At least one field or class: the document says so as two alternatives the body must meet one of.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["fields"], "properties": {"fields": {"type": "array", "minItems": 1}}},
        {"required": ["classes"], "properties": {"classes": {"type": "array", "minItems": 1}}},
    ]})


class ReadResponse(BaseModel):
    """The view: every asked field, masked where the policies deny its class."""

    decision: Decision
    customer_id: str
    purpose: str
    fields: dict[str, Any]
    masked: list[str] = Field(description="Fields shown masked (whole or in part).")
    classes: dict[str, str] = Field(description="Each data class touched: allowed or masked.")
    policy_ids: list[str]
    audit_index: int | None = Field(description="The audit log leaf recording this decision.")
    at: datetime | None


class Refusal(BaseModel):
    """A refused read (HTTP 403): the reason and the audit leaf recording the refusal."""

    detail: str
    decision: Decision = Decision.denied
    customer_id: str
    purpose: str
    policy_ids: list[str] = []
    audit_index: int | None = None


class CaseCreate(BaseModel):
    case_type: CaseType
    customer_id: CustomerId
    title: Title = Field(description="Short description, without personal data.")
    assignee: str | None = Field(None, max_length=320,
                                 description="Employee directory id or email (default: whoever opens it).")
    team: str | None = Field(None, max_length=100)
    source: str | None = Field(None, max_length=100,
                               description="Reference of what created the case, e.g. victim_request:12.")
    origin: CaseOrigin | None = Field(None, description=(
        "What stands behind the case. Staff cannot declare customer_contact or victim_request (those come from "
        "the retailer's ticket feed and the request workflow); a case opened for yourself is self_opened, one "
        "you open for a report of yours manager_assigned. Default: what your act shows."))
    origin_ref: Reference | None = Field(None, description="The retailer's ticket or request id.")


class CaseAssign(BaseModel):
    model_config = ConfigDict(json_schema_extra={"anyOf": [  # an assignee, a team, or both
        {"required": ["assignee"], "properties": {"assignee": {"type": "string", "minLength": 1}}},
        {"required": ["team"], "properties": {"team": {"type": "string", "minLength": 1}}},
    ]})

    assignee: str | None = Field(None, max_length=320)
    team: str | None = Field(None, max_length=100)


class CaseClose(BaseModel):
    reason: str | None = Field(None, max_length=300)


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_type: CaseType
    customer_id: str
    title: str
    status: CaseStatus
    assignee_id: int | None
    team: str | None
    source: str | None
    origin: CaseOrigin
    origin_ref: str | None
    opened_by_id: int | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    close_reason: str | None

    @property
    def purpose(self) -> str:
        return f"case:{self.id}"


class GrantCreate(BaseModel):
    # What each kind takes (ombud.access.grants.request_grant): a just-in-time grant names its customer and lasts
    # 5 to 480 minutes; a standing one names no customer and lasts an hour to a year, or until revoked.
    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["customer_id"], "properties": {
            "kind": {"const": GrantKind.just_in_time.value}, "customer_id": {"type": "string"},
            "duration_minutes": {"anyOf": [{"type": "integer", "minimum": JIT_MIN_MINUTES,
                                            "maximum": JIT_MAX_MINUTES}, {"type": "null"}]}}},
        {"required": ["kind"], "properties": {
            "kind": {"const": GrantKind.standing.value}, "customer_id": {"type": "null"},
            "duration_minutes": {"anyOf": [{"type": "integer", "minimum": 60, "maximum": STANDING_MAX_DAYS * 24 * 60},
                                           {"type": "null"}]}}},
    ]})

    kind: GrantKind = GrantKind.just_in_time
    data_class: ClassName
    customer_id: CustomerId | None = None
    justification: str = _justification(GRANT_JUSTIFICATION)
    duration_minutes: int | None = Field(None, ge=1, le=366 * 24 * 60,
                                         description="Just-in-time: 5-480 (default 60). Standing: optional.")


class GrantDecide(BaseModel):
    note: str | None = Field(None, max_length=500)


class GrantRevoke(BaseModel):
    reason: str | None = Field(None, max_length=300)


class GrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: GrantKind
    employee_id: int
    customer_id: str | None
    data_class: str
    justification: str
    duration_minutes: int | None
    status: GrantStatus
    requested_at: datetime
    decided_at: datetime | None
    decided_by_id: int | None
    decision_note: str | None
    starts_at: datetime | None
    expires_at: datetime | None
    ended_at: datetime | None


class BreakGlassCreate(BaseModel):
    customer_id: CustomerId
    justification: str = _justification(BREAK_GLASS_JUSTIFICATION)
    classes: list[ClassName] = Field(
        min_length=1, max_length=16,
        description="The data classes the emergency needs (at least one; never all by default).")
    minutes: int = Field(30, ge=1, le=60)


class BreakGlassReviewIn(BaseModel):
    outcome: BreakGlassReview
    note: str | None = Field(None, max_length=1000)


class BreakGlassRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    employee_id: int
    customer_id: str
    classes: list[str]
    justification: str
    opened_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    raised_at: datetime
    review: BreakGlassReview
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    review_note: str | None


class DecisionRead(BaseModel):
    """One broker decision, read from its audit leaf (``id`` is the leaf index, as ``audit_index``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    employee_id: int | None
    employee: str | None = None
    team: str
    region: str
    customer_id: str | None = Field(
        description="The customer read; null for the opening of a victim's evidence file (purpose request:<id>).")
    purpose_kind: str
    purpose_id: int | None
    case_type: str | None
    decision: Decision
    classes_allowed: list[str]
    classes_masked: list[str]
    fields: list[str]
    policy_ids: list[str]
    reason: str | None
    audit_index: int | None


class TransparencyEntry(BaseModel):
    at: datetime
    data_classes: list[str]
    purpose_category: str
    purpose: str
    team: str
    region: str


class TransparencyReport(BaseModel):
    customer_id: str
    accesses: list[TransparencyEntry]


class ReachRowOut(BaseModel):
    employee_id: int
    employee: str
    role: str
    team: str
    data_class: str
    via: str
    via_roles: list[str]
    via_grants: list[int]
    reads: int
    last_used_at: datetime | None


class ReachReportOut(BaseModel):
    since: datetime
    people_per_class: dict[str, int]
    sensitive: list[str]
    rows: list[ReachRowOut]
    unused_standing_grants: list[GrantRead]


class RoundCreate(BaseModel):
    name: Title
    due_days: int = Field(14, ge=1, le=90)
    unused_days: int = Field(30, ge=1, le=366)


class RoundClose(BaseModel):
    revoke_unreviewed: bool = False


class RoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    status: RoundStatus
    unused_days: int
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None


class ReviewItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_id: int
    grant_id: int
    employee_id: int
    reviewer_id: int | None
    data_class: str
    reads_in_window: int
    last_used_at: datetime | None
    flagged_unused: bool
    decision: ReviewDecision
    decided_at: datetime | None
    note: str | None


class RoundDetail(RoundRead):
    items: list[ReviewItemRead]


class ReviewItemDecide(BaseModel):
    decision: ReviewDecision
    note: str | None = Field(None, max_length=500)


class ProfileIn(BaseModel):
    daily_limit: int | None = Field(None, ge=1, le=100_000)
    shift_start: int | None = Field(None, ge=0, le=24)
    shift_end: int | None = Field(None, ge=0, le=24)
    timezone: str | None = Field(None, max_length=64, json_schema_extra=one_of(sorted(available_timezones())),
                                 description="An IANA time zone, e.g. America/Chicago.")


class ProfileOut(BaseModel):
    employee: str
    daily_limit: int
    shift_start: int
    shift_end: int
    timezone: str


class PolicyOut(BaseModel):
    id: str
    effect: str
    reason: str
    file: str


class PolicySetOut(BaseModel):
    digest: str
    policies: list[PolicyOut]
