"""Employees, their roles, and how they sign in (sessions, API tokens, attempts for rate limiting)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, UTCDateTime, str_enum


class Role(StrEnum):
    agent = "agent"
    privacy_officer = "privacy_officer"
    security_analyst = "security_analyst"
    admin = "admin"


class LoginEvent(StrEnum):
    """What happened at the sign-in door."""

    sign_in = "sign_in"
    failed = "failed"
    rate_limited = "rate_limited"
    sign_out = "sign_out"


class Employee(Base):
    __tablename__ = "staff_employee"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    team: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role, "staff_role"))
    region: Mapped[str] = mapped_column(String(50))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff_employee.id", ondelete="SET NULL"))
    hired_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    #: Home postcode from the HR file, keyed-hashed (ombud.staff.hr.postcode_hash): comparable, never readable.
    home_postcode_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.left_on is None


class StaffSession(Base):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("staff_employee.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for an internal tool, acting as one employee; only its SHA-256 is kept."""

    __tablename__ = "staff_api_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    employee_id: Mapped[int] = mapped_column(ForeignKey("staff_employee.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """One event at the sign-in door (sign-in, failure, refusal, sign-out); failures drive the rate limit."""

    __tablename__ = "staff_login_attempt"
    __table_args__ = (
        Index("ix_staff_login_attempt_email_at", "email", "at"),
        Index("ix_staff_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str | None] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    success: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[LoginEvent] = mapped_column(str_enum(LoginEvent, "staff_login_event"))
