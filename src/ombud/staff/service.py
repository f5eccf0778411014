"""Employees and authentication: accounts, rate-limited sign-in, server-side sessions, API tokens.

Password rules and hashing live in the pure module `ombud.staff.passwords`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from ombud.staff import events, passwords
from ombud.staff.models import ApiToken, Employee, LoginAttempt, LoginEvent, Role, StaffSession
from ombud.staff.passwords import (  # re-exported: the service is where callers look for them
    MIN_PASSWORD_LENGTH,
    check_password_strength,
    hash_password,
    verify_password,
)

TOKEN_PREFIX = "omb_"  # noqa: S105 (a public marker, not a secret)
#: The per-address limit is this many times the per-account one: an office shares one address.
IP_LIMIT_FACTOR = 4


__all__ = ["MIN_PASSWORD_LENGTH", "check_password_strength", "hash_password", "verify_password"]


class RateLimited(Unauthenticated):
    """Too many failed sign-ins; the caller must wait."""

    status_code = 429


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- employees ---------------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """Staff emails compare case-insensitively."""
    return email.strip().lower()


def new_external_id() -> str:
    """A fresh directory id for an employee added without one."""
    return f"emp-{secrets.token_hex(5)}"


def get_employee(session: Session, employee_id: int) -> Employee:
    """The employee with this internal id, or NotFound."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound(f"no employee {employee_id}")
    return employee


def get_employee_by_email(session: Session, email: str) -> Employee | None:
    """The employee with this email, if any."""
    return session.scalar(select(Employee).where(Employee.email == normalise_email(email)))


def require_employee_by_email(session: Session, email: str) -> Employee:
    """The employee with this email, or NotFound naming it."""
    employee = get_employee_by_email(session, email)
    if employee is None:
        raise NotFound(f"no employee with email {normalise_email(email)}", field="email")
    return employee


def get_employee_by_external_id(session: Session, external_id: str) -> Employee | None:
    """The employee with this directory id, if any."""
    return session.scalar(select(Employee).where(Employee.external_id == external_id))


def list_employees(session: Session, *, role: Role | None = None, include_departed: bool = True) -> list[Employee]:
    """Employees by name, optionally of one role, optionally only those still employed."""
    query = select(Employee).order_by(Employee.name, Employee.id)
    if role is not None:
        query = query.where(Employee.role == role)
    if not include_departed:
        query = query.where(Employee.left_on.is_(None))
    return list(session.scalars(query))


def count_employees(session: Session, *, active_only: bool = True) -> int:
    """How many employees there are (by default only those still employed)."""
    query = select(func.count()).select_from(Employee)
    if active_only:
        query = query.where(Employee.left_on.is_(None))
    return session.scalar(query) or 0


def _validate_email(email: str) -> str:
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain.strip(".") or "@" in domain or any(c.isspace() for c in email):
        raise InvalidInput(f"not an email address: {email!r}", field="email")
    return email


def create_employee(
    session: Session,
    *,
    name: str,
    email: str,
    team: str,
    role: Role | str,
    region: str,
    external_id: str | None = None,
    manager_id: int | None = None,
    hired_on: date | None = None,
    password: str | None = None,
    actor: Employee | None = None,
) -> Employee:
    """Add an employee; refuses a duplicate email or directory id and names any field that is wrong."""
    email = _validate_email(email)
    external_id = (external_id or "").strip() or new_external_id()
    values = {"name": name.strip(), "team": team.strip(), "region": region.strip()}
    for field, value in values.items():
        if not value:
            raise InvalidInput(f"the {field} must not be empty", field=field)
    try:
        role = Role(role)
    except ValueError as exc:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {role!r}; one of: {known}", field="role") from exc
    if get_employee_by_email(session, email) is not None:
        raise Conflict(f"an employee with email {email} exists", field="email")
    if get_employee_by_external_id(session, external_id) is not None:
        raise Conflict(f"an employee with id {external_id} exists", field="external_id")
    if manager_id is not None:
        get_employee(session, manager_id)
    employee = Employee(
        external_id=external_id,
        email=email,
        role=role,
        manager_id=manager_id,
        hired_on=hired_on,
        password_hash=hash_password(password, email=email) if password else None,
        created_at=clock.now(),
        **values,
    )
    session.add(employee)
    session.flush()
    events.account_changed(
        session, "staff.employee.create", actor=actor, subject_type="employee", subject_id=employee.external_id,
        detail={"role": employee.role.value, "team": employee.team, "region": employee.region,
                "password_set": employee.password_hash is not None},
    )
    return employee


def set_password(
    session: Session,
    employee: Employee,
    password: str,
    *,
    actor: Employee | None = None,
    keep: StaffSession | None = None,
) -> int:
    """Replace an employee's password and end their browser sessions (but `keep`); returns how many ended."""
    employee.password_hash = hash_password(password, email=employee.email)
    ended = revoke_sessions(session, employee, keep=keep)  # flushes the new hash too
    events.account_changed(
        session, "staff.password.set", actor=actor, subject_type="employee", subject_id=employee.external_id,
        detail={"sessions_ended": ended},
    )
    return ended


#: ``update_employee(manager=UNCHANGED)``: leave the manager as it is (``None`` removes it).
UNCHANGED: Any = object()


def update_employee(
    session: Session,
    employee: Employee,
    *,
    role: Role | str | None = None,
    team: str | None = None,
    manager: Employee | None = UNCHANGED,
    actor: Employee | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Change an employee's role, team or manager (``manager=None`` removes it); returns what changed, audited.

    Refuses an unknown role, an empty team, a manager who has left, and a manager chain that comes back to the
    employee (nobody manages themselves, even through others).
    """
    changes: dict[str, tuple[Any, Any]] = {}
    if role is not None:
        try:
            new_role = Role(role)
        except ValueError as exc:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(f"unknown role {role!r}; one of: {known}", field="role") from exc
        if new_role is not employee.role:
            changes["role"] = (employee.role.value, new_role.value)
            employee.role = new_role
    if team is not None:
        team = team.strip()
        if not team or len(team) > 100:
            raise InvalidInput("a team is 1 to 100 characters", field="team")
        if team != employee.team:
            changes["team"] = (employee.team, team)
            employee.team = team
    if manager is not UNCHANGED:
        new_id = None if manager is None else manager.id
        if manager is not None:
            if not manager.active:
                raise InvalidInput(f"{manager.name} has left; choose a current manager", field="manager")
            seen, cursor = {employee.id}, manager
            while cursor is not None:
                if cursor.id in seen:
                    raise InvalidInput("that manager is (through others) managed by this employee", field="manager")
                seen.add(cursor.id)
                cursor = session.get(Employee, cursor.manager_id) if cursor.manager_id else None
        if new_id != employee.manager_id:
            old = session.get(Employee, employee.manager_id) if employee.manager_id else None
            changes["manager"] = (old.external_id if old else None, manager.external_id if manager else None)
            employee.manager_id = new_id
    if changes:
        session.flush()
        events.account_changed(
            session, "staff.employee.update", actor=actor, subject_type="employee", subject_id=employee.external_id,
            detail={f"{k}_{side}": v[i] for k, v in changes.items() for i, side in enumerate(("from", "to"))},
        )
    return changes


def reset_password(session: Session, employee: Employee, *, actor: Employee | None = None) -> str:
    """Give an employee a new random password (shown once to whoever reset it) and end their sessions."""
    if not employee.active:
        raise InvalidInput(f"{employee.name} has left; their account cannot sign in", field="employee")
    password = secrets.token_urlsafe(12)
    set_password(session, employee, password, actor=actor)
    return password


def deactivate_employee(
    session: Session, employee: Employee, *, left_on: date | None = None, actor: Employee | None = None
) -> tuple[int, int]:
    """Mark an employee as gone: set left_on, end every session, revoke every API token.

    Returns (sessions ended, tokens revoked).
    """
    if employee.left_on is None:
        employee.left_on = left_on or clock.now().date()
    ended = revoke_sessions(session, employee)
    revoked = 0
    now = clock.now()
    for token in session.scalars(
        select(ApiToken).where(ApiToken.employee_id == employee.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
        revoked += 1
    session.flush()
    events.account_changed(
        session, "staff.employee.deactivate", actor=actor, subject_type="employee", subject_id=employee.external_id,
        detail={"left_on": employee.left_on.isoformat() if employee.left_on else None, "sessions_ended": ended,
                "tokens_revoked": revoked},
    )
    return ended, revoked


# --- signing in --------------------------------------------------------------------------------------------


#: Attempts that count against the limit: wrong credentials, and knocking again while refused.
_FAILURES = (LoginEvent.failed, LoginEvent.rate_limited)


def _recent_failures(session: Session, condition: ColumnElement[bool], since: datetime) -> int:
    return session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(condition, LoginAttempt.at >= since, LoginAttempt.kind.in_(_FAILURES))
    ) or 0


def is_rate_limited(session: Session, settings: Settings, *, email: str, ip: str | None) -> bool:
    """Whether sign-ins for this email or from this address are refused for now.

    Failures per email count since the later of the window's start and that account's last success;
    failures per address count over the whole window, with a higher limit (an office shares an address).
    """
    email = normalise_email(email)
    window_start = clock.now() - timedelta(minutes=settings.login_window_minutes)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, LoginAttempt.kind == LoginEvent.sign_in, LoginAttempt.at >= window_start
        )
    )
    since = max(window_start, clock.ensure_utc(last_success)) if last_success else window_start
    if _recent_failures(session, LoginAttempt.email == email, since) >= settings.login_max_failures:
        return True
    return bool(
        ip
        and _recent_failures(session, LoginAttempt.ip == ip, window_start)
        >= settings.login_max_failures * IP_LIMIT_FACTOR
    )


def _record(session: Session, *, email: str, ip: str | None, kind: LoginEvent) -> None:
    session.add(LoginAttempt(email=email, ip=ip, at=clock.now(), success=kind is LoginEvent.sign_in, kind=kind))
    session.flush()


def authenticate(session: Session, settings: Settings, *, email: str, password: str, ip: str | None) -> Employee:
    """The employee these credentials belong to; raises RateLimited or Unauthenticated otherwise.

    Every attempt is recorded (a refusal for a known account is also audited; the sign-in itself is audited
    when its session starts); an unknown email, a wrong password and a departed employee all get the same
    answer, so the door does not say which accounts exist.
    """
    email = normalise_email(email)
    employee = get_employee_by_email(session, email)
    if is_rate_limited(session, settings, email=email, ip=ip):
        _record(session, email=email, ip=ip, kind=LoginEvent.rate_limited)
        if employee is not None:
            events.sign_in_refused(session, employee, ip=ip, reason="rate_limited")
        raise RateLimited("too many failed sign-ins; wait a few minutes before trying again")
    ok = verify_password(employee.password_hash if employee else None, password)
    if not ok or employee is None or not employee.active:
        _record(session, email=email, ip=ip, kind=LoginEvent.failed)
        if employee is not None:
            reason = "departed" if ok else "no_password" if employee.password_hash is None else "wrong_password"
            events.sign_in_refused(session, employee, ip=ip, reason=reason)
        raise Unauthenticated("wrong email or password")
    if employee.password_hash and passwords.needs_rehash(employee.password_hash):
        employee.password_hash = passwords.hasher.hash(password)
    _record(session, email=email, ip=ip, kind=LoginEvent.sign_in)
    return employee


# --- browser sessions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str
    record: StaffSession


def start_session(
    session: Session, settings: Settings, employee: Employee, *, ip: str | None, user_agent: str | None
) -> NewSession:
    """A new server-side session, audited as a sign-in; the returned token goes in the cookie and is not stored."""
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
    events.signed_in(session, employee, record, ip=ip)
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


def end_session(
    session: Session, token: str | None, *, ip: str | None = None, sign_out: bool = True
) -> StaffSession | None:
    """Revoke the session behind a cookie token; the session ended, if there was a live one.

    With sign_out (the default) the sign-out is recorded and audited; without, the session is simply
    replaced (the rotation at sign-in).
    """
    if not token:
        return None
    record = session.scalar(select(StaffSession).where(StaffSession.token_hash == _sha256(token)))
    if record is None or record.revoked_at is not None:
        return None
    record.revoked_at = clock.now()
    employee = session.get(Employee, record.employee_id)
    if employee is not None and sign_out:
        _record(session, email=employee.email, ip=ip, kind=LoginEvent.sign_out)
        events.signed_out(session, employee, record, ip=ip)
    session.flush()
    return record


def revoke_sessions(session: Session, employee: Employee, *, keep: StaffSession | None = None) -> int:
    """Revoke every live session of an employee (except `keep`); returns how many."""
    now = clock.now()
    query = select(StaffSession).where(StaffSession.employee_id == employee.id, StaffSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(StaffSession.id != keep.id)
    records = session.scalars(query).all()
    for record in records:
        record.revoked_at = now
    session.flush()
    return len(records)


# --- API tokens --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiToken:
    token: str
    record: ApiToken


def create_api_token(
    session: Session,
    employee: Employee,
    *,
    name: str,
    valid_for: timedelta | None = None,
    actor: Employee | None = None,
) -> NewApiToken:
    """A bearer token for an internal tool acting as this employee; shown once, only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters", field="name")
    if valid_for is not None and valid_for <= timedelta(0):
        raise InvalidInput("a token must be valid for a positive time", field="days")
    if not employee.active:
        raise Conflict(f"{employee.email} has left; no new tokens")
    prefix = secrets.token_hex(4)
    while session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is not None:
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
    events.account_changed(
        session, "staff.token.create", actor=actor, subject_type="api_token", subject_id=prefix,
        detail={"employee": employee.external_id, "expires_at": record.expires_at.isoformat() if valid_for else None},
    )
    return NewApiToken(token=token, record=record)


def list_api_tokens(session: Session, employee: Employee) -> list[ApiToken]:
    """An employee's tokens, newest first (revoked and expired ones included, marked by their times)."""
    query = select(ApiToken).where(ApiToken.employee_id == employee.id)
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


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


def revoke_api_token(
    session: Session, prefix: str, *, employee: Employee | None = None, actor: Employee | None = None
) -> ApiToken:
    """Revoke the token with this prefix (only among this employee's tokens, when one is given)."""
    query = select(ApiToken).where(ApiToken.prefix == prefix.strip().removeprefix(TOKEN_PREFIX))
    if employee is not None:
        query = query.where(ApiToken.employee_id == employee.id)
    record = session.scalar(query)
    if record is None:
        raise NotFound(f"no API token {prefix}", field="prefix")
    if record.revoked_at is None:
        record.revoked_at = clock.now()
        session.flush()
        events.account_changed(session, "staff.token.revoke", actor=actor, subject_type="api_token",
                               subject_id=record.prefix)
    return record
