"""Pydantic shapes of the incidents API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ombud.incidents.models import IncidentKind
from ombud.shapes import CustomerId, written


class IncidentCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": written(1)})
    description: str = Field("", max_length=20000)
    kind: IncidentKind = IncidentKind.insider
    actors: list[str] = Field(default_factory=list, max_length=200, description="Employee directory ids.")
    window_start: AwareDatetime
    window_end: AwareDatetime
    discovered_at: AwareDatetime = Field(description="When the breach was discovered; the legal clock starts here.")
    source_alert_id: int | None = None


class ScopeChange(BaseModel):
    actors: list[str] | None = Field(None, max_length=200)
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None


class Wording(BaseModel):
    what_happened: str | None = Field(None, max_length=8000)
    what_we_are_doing: str | None = Field(None, max_length=8000)
    law_enforcement_delay: bool | None = None


class Resend(BaseModel):
    customer_id: CustomerId
    channel: str | None = Field(None, pattern="^(email|letter)$")


class ScopeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    computed_at: datetime
    actors: list[str]
    window_start: datetime
    window_end: datetime
    tree_size: int
    root_hash: str
    verification: str
    reads_scanned: int
    imported_scanned: int
    customers: int
    rows: int
    by_jurisdiction: dict[str, int]
    diff: dict[str, Any] | None


class DeadlineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jurisdiction: str
    kind: str
    due_at: datetime
    customers: int
    basis: str
    met_at: datetime | None
    reminded_at: datetime | None
    escalated_at: datetime | None
    state: str = ""


class IncidentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    kind: str
    status: str
    description: str
    actors: list[str]
    window_start: datetime
    window_end: datetime
    discovered_at: datetime
    source_alert_id: int | None
    opened_at: datetime
    what_happened: str
    what_we_are_doing: str
    law_enforcement_delay: bool
    approved_at: datetime | None
    approved_template_id: int | None = Field(None, description="The notice wording version the approval is of.")
    notices_sent_at: datetime | None
    scope: ScopeRead | None = None
    deadlines: list[DeadlineRead] = Field(default_factory=list)
    notices: dict[str, int] = Field(default_factory=dict)


class ExposureRow(BaseModel):
    customer_id: str
    item: str
    data_class: str
    source: str
    jurisdiction: str
    first_at: datetime
    last_at: datetime
    events: int
    leaves: list[int]
    imported: list[int]


class ExposurePage(BaseModel):
    version: int
    total: int
    offset: int
    items: list[ExposureRow]


class ProofRead(BaseModel):
    index: int
    leaf_hash: str
    proof: list[str]
    verified: bool


class ProofsRead(BaseModel):
    tree_size: int
    root_hash: str
    proofs: list[ProofRead]


class DryRunRead(BaseModel):
    scope_version: int
    customers: int
    already_notified: int
    by_jurisdiction: dict[str, dict[str, int]]
    samples: dict[str, dict[str, str | None]]
    problems: list[str]


class SendRead(BaseModel):
    emails: int
    letters: int
    skipped: int
    no_address: int


class WordingDraft(BaseModel):
    """Notice wording to preview or save: Jinja texts over the notice's fields."""

    subject: str = Field(min_length=1, max_length=500, json_schema_extra={"pattern": written(1)})
    text: str = Field(min_length=1, max_length=40_000, json_schema_extra={"pattern": written(1)})
    html: str | None = Field(None, max_length=80_000)
    note: str = Field("", max_length=300, description="What changed (kept with the version).")
    customer_id: CustomerId | None = Field(None, description="Preview for this affected customer too.")


class WordingVersion(BaseModel):
    template_id: int | None
    version: int | None
    owner: str
    label: str
    subject: str
    text: str
    html: str | None
    created_at: datetime | None
    created_by: str | None
    note: str


class WordingRead(BaseModel):
    current: WordingVersion
    versions: list[WordingVersion]
    approved_template_id: int | None = None

