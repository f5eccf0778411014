"""Tables of the identity domain: the identity index, its blocking keys, term frequencies, trained models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime


class IdentityRecord(Base):
    """The normalised identifiers of one account (or of one credit application with no account).

    `payload` is `ombud.identity.record.Identity.to_payload()`: names, emails, phones, addresses, dates
    of birth, SSN hashes and card fingerprints, each with references to the retail rows they came from.
    """

    __tablename__ = "identity_record"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_account.id", ondelete="CASCADE"), unique=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("retail_credit_application.id", ondelete="CASCADE"), unique=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdentityBlockKey(Base):
    """A blocking key (64-bit keyed hash) under which a record is found; see `ombud.identity.blocking`."""

    __tablename__ = "identity_block_key"
    # On SQLite the table is clustered on (key, record_id): a lookup reads one contiguous range.
    __table_args__ = {"sqlite_with_rowid": False}

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("identity_record.id", ondelete="CASCADE"), primary_key=True, index=True,
        autoincrement=False,
    )
    kind: Mapped[int] = mapped_column(SmallInteger)


class IdentityTerm(Base):
    """How many indexed records carry a value (given name, surname, ZIP, city): term frequencies."""

    __tablename__ = "identity_term"

    table: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class IdentityModel(Base):
    """A trained scoring model (`ombud identity train`); the newest one is used."""

    __tablename__ = "identity_model"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType)
    n_records: Mapped[int] = mapped_column(Integer)
    n_pairs: Mapped[int] = mapped_column(Integer)


class IdentityIndexRun(Base):
    """A full rebuild of the index (`ombud identity reindex`): when, how big, how long."""

    __tablename__ = "identity_index_run"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column(Integer)
    keys: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)
