"""Tables of access events imported from the retailer's other tools (systems Ombud does not broker).

Brokered reads are recorded by the access broker as audit leaves; what the order tool, the support tool and
the home-camera video system log about staff looking at customers arrives here through
`ombud insider import-events` (docs/access-events-format.md). Detectors read both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ombud.access.classes import DataClass
from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum


class ImportBatch(Base):
    """One run of `ombud insider import-events`: when, which files, and what happened to their rows."""

    __tablename__ = "insider_import_batch"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: File names (not paths) read by the run.
    files: Mapped[list[str]] = mapped_column(JSONType)
    read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class AccessEvent(Base):
    """One look by an employee at one class of one customer's data, as another system logged it."""

    __tablename__ = "insider_access_event"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_insider_access_event_employee_id_at", "employee_id", "at"),
        Index("ix_insider_access_event_customer_id_at", "customer_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    #: The tool that logged the event (e.g. order_tool, support_tool, video); with external_id, the event's key.
    source_system: Mapped[str] = mapped_column(String(64))
    #: The source system's own id of the event (what makes a re-import idempotent).
    external_id: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[int] = mapped_column(ForeignKey("staff_employee.id", ondelete="CASCADE"))
    #: The customer's account id as the retailer knows it (retail_account.external_id), as in broker decisions.
    customer_id: Mapped[str] = mapped_column(String(64))
    data_class: Mapped[DataClass] = mapped_column(str_enum(DataClass, "insider_data_class"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    #: Where the employee worked from as the tool knows it (an office, "remote", a vendor site).
    site: Mapped[str | None] = mapped_column(String(100))
    #: The support ticket the tool tied the look to, if any (retail_support_contact.ticket_ref).
    ticket_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    #: The tool's emergency override ("break-glass") was used: the look bypassed the tool's usual checks.
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The import run that last wrote the row.
    batch_id: Mapped[int] = mapped_column(ForeignKey("insider_import_batch.id", ondelete="RESTRICT"), index=True)
