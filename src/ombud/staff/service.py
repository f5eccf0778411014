"""Employees and authentication: argon2 passwords, server-side sessions, API tokens, rate-limited sign-in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from ombud.staff.models import ApiToken, Employee, LoginAttempt, Role, StaffSession

_hasher = PasswordHasher()
#: Compared against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "omb_"  # noqa: S105 (a public marker, not a secret)


class RateLimited(Unauthenticated):
    """Too many failed sign-ins; the caller must wait."""

    status_code = 429


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of a password, after checking it is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash; never raises on a mismatch or a malformed hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    """Staff emails compare case-insensitively."""
    return email.strip().lower()


def get_employee(session: Session, employee_id: int) -> Employee:
    """The employee with this internal id, or NotFound."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound(f"no employee {employee_id}")
    return employee


def get_employee_by_email(session: Session, email: str) -> Employee | None:
    """The employee with this email, if any."""
    return session.scalar(select(Employee).where(Employee.email == normalise_email(email)))


def get_employee_by_external_id(session: Session, external_id: str) -> Employee | None:
    """The employee with this directory id, if any."""
    return session.scalar(select(Employee).where(Employee.external_id == external_id))


def list_employees(session: Session, *, role: Role | None = None) -> list[Employee]:
    """Employees, optionally of one role, by name."""
    query = select(Employee).order_by(Employee.name)
    if role is not None:
        query = query.where(Employee.role == role)
    return list(session.scalars(query))


def create_employee(
    session: Session,
    *,
    external_id: str,
    name: str,
    email: str,
    team: str,
    role: Role,
    region: str,
    manager_id: int | None = None,
    hired_on: date | None = None,
    password: str | None = None,
) -> Employee:
    """Add an employee; refuses a duplicate email or directory id."""
    email = normalise_email(email)
    if get_employee_by_email(session, email) is not None:
        raise Conflict(f"an employee with email {email} exists", field="email")
    if get_employee_by_external_id(session, external_id) is not None:
        raise Conflict(f"an employee with id {external_id} exists", field="external_id")
    employee = Employee(
        external_id=external_id,
        name=name,
        email=email,
        team=team,
        role=role,
        region=region,
        manager_id=manager_id,
        hired_on=hired_on,
        password_hash=hash_password(password) if password else None,
        created_at=clock.now(),
    )
    session.add(employee)
    session.flush()
    return employee


def set_password(session: Session, employee: Employee, password: str) -> None:
    """Replace an employee's password and end their sessions."""
    employee.password_hash = hash_password(password)
    revoke_sessions(session, employee)
    session.flush()


def _recent_failures(session: Session, column: object, value: str, settings: Settings) -> int:
    since = clock.now() - timedelta(minutes=settings.login_window_minutes)
    return session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    ) or 0


def authenticate(session: Session, settings: Settings, *, email: str, password: str, ip: str | None) -> Employee:
    """The employee these credentials belong to; raises RateLimited or Unauthenticated otherwise.

    Every attempt is recorded; failures are counted per email and per address within a window.
    """
    email = normalise_email(email)
    if _recent_failures(session, LoginAttempt.email, email, settings) >= settings.login_max_failures or (
        ip and _recent_failures(session, LoginAttempt.ip, ip, settings) >= settings.login_max_failures * 4
    ):
        session.add(LoginAttempt(email=email, ip=ip, at=clock.now(), success=False))
        session.flush()
        raise RateLimited("too many failed sign-ins; try again later")
    employee = get_employee_by_email(session, email)
    ok = verify_password(employee.password_hash if employee else None, password)
    ok = ok and employee is not None and employee.active
    session.add(LoginAttempt(email=email, ip=ip, at=clock.now(), success=ok))
    session.flush()
    if not ok or employee is None:
        raise Unauthenticated("wrong email or password")
    return employee


@dataclass(frozen=True)
class NewSession:
    token: str
    record: StaffSession


def start_session(
    session: Session, settings: Settings, employee: Employee, *, ip: str | None, user_agent: str | None
) -> NewSession:
    """A new server-side session; the returned token goes in the cookie and is not stored."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    record = StaffSession(
        token_hash=_sha256(token),
        employee_id=employee.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_max_hours),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(record)
    session.flush()
    return NewSession(token=token, record=record)


def resolve_session(session: Session, settings: Settings, token: str | None) -> StaffSession | None:
    """The live session for a cookie token, touched; None when unknown, revoked, idle too long or expired."""
    if not token:
        return None
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == _sha256(token)))
    if record is None or record.revoked_at is not None:
        return None
    now = clock.now()
    idle_limit = record.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if now >= record.expires_at or now >= idle_limit:
        return None
    employee = session.get(Employee, record.employee_id)
    if employee is None or not employee.active:
        return None
    # Touch at most once a minute so a busy page does not write on every request.
    if now - record.last_seen_at > timedelta(minutes=1):
        record.last_seen_at = now
        session.flush()
    return record


def end_session(session: Session, token: str | None) -> None:
    """Revoke the session behind a cookie token, if it exists."""
    if not token:
        return
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == _sha256(token)))
    if record is not None and record.revoked_at is None:
        record.revoked_at = clock.now()
        session.flush()


def revoke_sessions(session: Session, employee: Employee) -> int:
    """Revoke every live session of an employee; returns how many."""
    now = clock.now()
    records = session.scalars(
        select(StaffSession).where(StaffSession.employee_id == employee.id, StaffSession.revoked_at.is_(None))
    ).all()
    for record in records:
        record.revoked_at = now
    session.flush()
    return len(records)


@dataclass(frozen=True)
class NewApiToken:
    token: str
    record: ApiToken


def create_api_token(
    session: Session, employee: Employee, *, name: str, valid_for: timedelta | None = None
) -> NewApiToken:
    """A bearer token for an internal tool acting as this employee; shown once, only its hash is kept."""
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = clock.now()
    record = ApiToken(
        token_hash=_sha256(token),
        prefix=prefix,
        name=name,
        employee_id=employee.id,
        created_at=now,
        expires_at=now + valid_for if valid_for else None,
    )
    session.add(record)
    session.flush()
    return NewApiToken(token=token, record=record)


def resolve_api_token(session: Session, token: str) -> Employee | None:
    """The employee an API token acts for; None when unknown, revoked, expired or the employee left."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(token)))
    now = clock.now()
    if record is None or record.revoked_at is not None or (record.expires_at and now >= record.expires_at):
        return None
    employee = session.get(Employee, record.employee_id)
    if employee is None or not employee.active:
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=1):
        record.last_used_at = now
        session.flush()
    return employee


def revoke_api_token(session: Session, prefix: str) -> ApiToken:
    """Revoke the token with this prefix."""
    record = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if record is None:
        raise NotFound(f"no API token {prefix}")
    record.revoked_at = clock.now()
    session.flush()
    return record
