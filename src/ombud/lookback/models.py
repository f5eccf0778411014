"""Tables of the look-back: past contacts imported from the retailer's tickets and letters, and campaigns.

A contact's name, email and postal address are stored encrypted (field-encryption key, context
`lookback.contact`); the email is also kept as a keyed hash so a new request from the same address is linked.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, UTCDateTime, str_enum


class ContactStatus(StrEnum):
    imported = "imported"  # not yet planned
    candidate = "candidate"  # asked since the cut-off date and got no records: to be written to
    excluded = "excluded"  # before the cut-off, or got records, or already a request on file (reason kept)
    queued = "queued"  # the letter is in the outbox
    sent = "sent"  # the mail server took it (or a letter was posted)
    bounced = "bounced"  # the mail was refused for good
    responded = "responded"  # they made a new request, linked


class LookbackCampaign(Base):
    """One run of `ombud lookback send`: the cut-off it used and how many letters it queued."""

    __tablename__ = "lookback_campaign"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    since: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    queued: Mapped[int] = mapped_column(Integer, default=0)
    postal: Mapped[int] = mapped_column(Integer, default=0)


class LookbackContact(Base):
    """A past contact about identity theft (a support ticket or letter), and what the look-back did about it."""

    __tablename__ = "lookback_contact"
    __table_args__ = (Index("ix_lookback_contact_status_contacted_at", "status", "contacted_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # LB-000001, printed in the letter
    source_ref: Mapped[str] = mapped_column(String(100), unique=True)  # the ticket or letter id at the retailer
    channel: Mapped[str] = mapped_column(String(20))  # email, phone, chat, letter, other
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact_enc: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted JSON: name, email, postal address
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    has_email: Mapped[bool] = mapped_column(default=False)
    has_postal: Mapped[bool] = mapped_column(default=False)
    records_sent: Mapped[bool] = mapped_column(default=False)  # the import says records were provided then
    import_batch: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ContactStatus] = mapped_column(str_enum(ContactStatus, "lookback_contact_status"))
    excluded_reason: Mapped[str | None] = mapped_column(String(200))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("lookback_campaign.id", ondelete="SET NULL"))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("notify_outbox.id", ondelete="SET NULL"))
    letter_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("victim_request.id", ondelete="SET NULL"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
