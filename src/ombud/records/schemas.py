"""API shapes of the records domain (packages, deliveries, agencies, remediation, look-back)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PackageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    version: int
    file_name: str
    generated_at: datetime
    counts: dict[str, int]
    navigational_included: bool
    manifest_sha256: str = Field(description="SHA-256 of manifest.json: the package's audit leaf records it.")
    audit_index: int
    superseded_at: datetime | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    package_id: int
    recipient: str
    channel: str
    status: str
    expires_at: datetime | None
    max_downloads: int
    downloads: int
    authorisation_id: int | None
    postal_tracking: str | None
    created_at: datetime


class DeliveryCreated(DeliveryRead):
    link: str | None = Field(None, description="The link, shown once (it is also mailed); only its hash is stored.")


class AuthorisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    basis: str
    agency: str
    officer: str
    badge_or_case: str
    email: str
    phone: str | None
    source: str
    recorded_at: datetime
    revoked_at: datetime | None


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    subject_kind: str
    subject_id: str
    account_ref: str | None
    mode: str
    status: str
    detail: str | None
    confirmed_at: datetime | None


class RequestRecords(BaseModel):
    reference: str
    status: str
    packages: list[PackageRead]
    deliveries: list[DeliveryRead]
    authorisations: list[AuthorisationRead]
    remediation: list[StepRead]


class PackageIn(BaseModel):
    include_navigational: bool = Field(False, description="Include the sign-in history (left out by default).")


class DeliveryIn(BaseModel):
    to: Literal["victim", "agency", "postal"] = "victim"
    verification: Literal["reference", "code"] = "reference"
    days: int = Field(14, ge=1, le=90)
    max_downloads: int = Field(5, ge=1, le=50)
    authorisation_id: int | None = None
    address: str | None = Field(None, max_length=320, description="The agency's address: must be the authorised one.")
    tracking: str | None = Field(None, max_length=100)


class AuthorisationIn(BaseModel):
    agency: str = Field(min_length=2, max_length=200)
    officer: str = Field(min_length=2, max_length=200)
    badge_or_case: str = Field(min_length=1, max_length=100)
    email: str = Field(max_length=320, description="Checked as one email address.")
    phone: str | None = Field(None, max_length=40)
    source: Literal["portal", "letter", "staff"] = "letter"
    basis: Literal["victim", "legal_process"] = "victim"


class VerifyRead(BaseModel):
    ok: bool
    name: str | None
    manifest_sha256: str | None
    files_checked: int
    audit_index: int | None
    in_checkpoint: int | None
    problems: list[str]
    notes: list[str]


class LookbackImportRead(BaseModel):
    imported: int
    already_held: int
    errors: list[str]


class LookbackPlanRead(BaseModel):
    since: date
    candidates: int
    by_email: int
    by_post: int
    excluded: dict[str, int]


class LookbackSendRead(BaseModel):
    campaign: int
    emails: int
    letters: int


class LookbackContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reference: str
    source_ref: str
    channel: str
    contacted_at: datetime
    status: str
    excluded_reason: str | None
    request_id: int | None
    letter_at: datetime | None
