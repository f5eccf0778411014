"""Tables of the records domain: packages, their deliveries and downloads, agency authorisations, remediation
steps and identifier flags. The look-back campaign has its own tables (ombud.lookback.models)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum


class SubjectKind(StrEnum):
    account = "account"
    payment_method = "payment_method"
    credit_application = "credit_application"


class RecordsPackage(Base):
    """One generated package (a zip of PDF, JSON, CSV and a manifest); its manifest hash is an audit leaf."""

    __tablename__ = "records_package"
    __table_args__ = (UniqueConstraint("request_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("victim_request.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))  # the request's reference, printed in the package
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... : regenerated on a repeat request
    subjects: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{"kind": ..., "id": ...}]
    navigational_included: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict[str, int]] = mapped_column(JSONType)
    manifest_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    audit_index: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(String(200))
    storage_path: Mapped[str] = mapped_column(String(500))  # relative to the data folder
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[str] = mapped_column(String(100))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RecipientKind(StrEnum):
    victim = "victim"
    agency = "agency"


class DeliveryChannel(StrEnum):
    link = "link"  # an expiring download link
    postal = "postal"  # printed and posted


class DeliveryStatus(StrEnum):
    active = "active"
    expired = "expired"  # time or downloads ran out (set when noticed; the check itself is by time and count)
    revoked = "revoked"
    posted = "posted"


class Verification(StrEnum):
    reference = "reference"  # the request's reference, typed by the victim
    code = "code"  # a one-time code mailed to the verified address


class RecordsDelivery(Base):
    """A package on its way to the victim or an authorised agency: a link (token hash only) or a posted copy."""

    __tablename__ = "records_delivery"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("records_package.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[RecipientKind] = mapped_column(str_enum(RecipientKind, "records_recipient_kind"))
    channel: Mapped[DeliveryChannel] = mapped_column(str_enum(DeliveryChannel, "records_delivery_channel"))
    authorisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("records_agency_authorisation.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(320))  # where the link was mailed
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    verification: Mapped[Verification | None] = mapped_column(str_enum(Verification, "records_verification"))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_checks: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_downloads: Mapped[int] = mapped_column(Integer, default=5)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "records_delivery_status"))
    postal_address: Mapped[str | None] = mapped_column(Text)
    postal_tracking: Mapped[str | None] = mapped_column(String(100))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("notify_outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class RecordsDownload(Base):
    """One attempt to download through a delivery: the outcome and the audit leaf that records it."""

    __tablename__ = "records_download"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("records_delivery.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(40))  # "downloaded", "expired", "exhausted", "bad_check", ...
    audit_index: Mapped[int] = mapped_column(BigInteger)


class AuthorisationBasis(StrEnum):
    victim = "victim"  # the victim authorised the agency (609(e): no subpoena needed)
    legal_process = "legal_process"  # the agency asked on its own: a subpoena path, not 609(e)


class AgencyAuthorisation(Base):
    """A law-enforcement agency a victim authorised to receive the records (or an agency's own request)."""

    __tablename__ = "records_agency_authorisation"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("victim_request.id", ondelete="CASCADE"), index=True)
    basis: Mapped[AuthorisationBasis] = mapped_column(str_enum(AuthorisationBasis, "records_authorisation_basis"))
    agency: Mapped[str] = mapped_column(String(200))
    officer: Mapped[str] = mapped_column(String(200))
    badge_or_case: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))  # portal, letter, staff
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RemediationAction(StrEnum):
    remove_card = "remove_card"
    lock_account = "lock_account"
    cancel_pending_orders = "cancel_pending_orders"
    close_credit_line = "close_credit_line"
    flag_identifiers = "flag_identifiers"


class StepStatus(StrEnum):
    pending = "pending"  # queued (webhook) or not yet applied
    sent = "sent"  # the retailer's system took the command; waiting for its callback
    confirmed = "confirmed"
    failed = "failed"  # the retailer refused it, or the webhook went dead; retry from the console


class RemediationStep(Base):
    """One corrective action for a fraudulent account, tracked until the retailer (or Ombud's copy) confirms it."""

    __tablename__ = "records_remediation_step"
    __table_args__ = (UniqueConstraint("request_id", "action", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("victim_request.id", ondelete="CASCADE"), index=True)
    action: Mapped[RemediationAction] = mapped_column(str_enum(RemediationAction, "records_remediation_action"))
    subject_kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind, "records_subject_kind"))
    subject_id: Mapped[str] = mapped_column(String(64))  # the retailer's own id
    account_ref: Mapped[str | None] = mapped_column(String(64))  # the retail account's external id
    mode: Mapped[str] = mapped_column(String(10))  # "webhook" or "local"
    status: Mapped[StepStatus] = mapped_column(str_enum(StepStatus, "records_step_status"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("notify_webhook.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentifierFlag(Base):
    """A victim's identifier flagged against reuse in new sign-ups: a keyed hash only, never the value."""

    __tablename__ = "records_identifier_flag"
    __table_args__ = (Index("ix_records_identifier_flag_kind_value_hash", "kind", "value_hash", unique=True),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("victim_request.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # email, phone, ssn, card
    value_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
