"""The store: declarative base, column types that behave the same on SQLite and PostgreSQL, engines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Engine, Enum, Integer, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from ombud.private import private_file

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON everywhere, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")

#: 64-bit keys on PostgreSQL; INTEGER on SQLite so it stays the rowid alias and autoincrements.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def str_enum(cls: type[StrEnum], name: str) -> Enum:
    """A column type for a string enum: VARCHAR with a CHECK constraint, portable and easy to migrate."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=24,
                values_callable=lambda members: [m.value for m in members])


ROW_ID_MAX = 2**63 - 1


def row_id(text: str) -> int | None:
    """Text typed as a row id (ASCII digits, 1 to 2^63-1) as a number, or None: never a number the store cannot
    hold, nor an int() that fails ("³", 5,000 digits)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    number = int(text)
    return number if 1 <= number <= ROW_ID_MAX else None


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that only accepts aware datetimes and always gives back aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use ombud.clock.now() or an aware value")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC text so ordering and comparison stay correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention so migrations are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, WAL and a busy timeout on every connection."""
    # A statement's parameters are personal data more often than not: never in a log line or an error message.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1] if "///" in url else ""
        if database and database != ":memory:" and not database.startswith("file:"):
            # The store holds personal data: its folder 0700, the file 0600 (SQLite gives -wal/-shm its mode).
            private_file(Path(database))
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire objects on commit (the faces render after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block finishes, roll back if it raises."""
    with factory() as session, session.begin():
        yield session
