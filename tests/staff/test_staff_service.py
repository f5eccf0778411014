"""Staff accounts and authentication: passwords, sessions, API tokens, rate limiting, departures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ombud.audit.service import list_events
from ombud.clock import FrozenClock, use_clock
from ombud.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from ombud.staff import service
from ombud.staff.models import ApiToken, LoginAttempt, LoginEvent, Role, StaffSession
from ombud.staff.testing import DEFAULT_PASSWORD, make_employee

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with use_clock(FrozenClock(START)) as frozen:
        yield frozen


def _sign_in(session, settings, email, password=DEFAULT_PASSWORD, ip="10.0.0.1"):
    return service.authenticate(session, settings, email=email, password=password, ip=ip)


# --- passwords ---------------------------------------------------------------------------------------------


def test_passwords_are_argon2id_with_production_cost_and_verify():
    with_real_cost = PasswordHasher()
    hashed = with_real_cost.hash(DEFAULT_PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert service.verify_password(hashed, DEFAULT_PASSWORD)
    assert not service.verify_password(hashed, DEFAULT_PASSWORD + "x")


def test_verify_password_never_raises_on_bad_hashes():
    assert not service.verify_password(None, DEFAULT_PASSWORD)
    assert not service.verify_password("not a hash", DEFAULT_PASSWORD)
    assert not service.verify_password("", "")


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short", "at least 12"), ("aaaaaaaaaaaaaaaa", "distinct"), ("x" * 2000, "at most")],
)
def test_weak_passwords_are_refused_with_the_field_named(password, reason):
    with pytest.raises(InvalidInput, match=reason) as info:
        service.hash_password(password)
    assert info.value.field == "password"


def test_the_email_is_not_a_password():
    with pytest.raises(InvalidInput, match="email"):
        service.hash_password("Dana.Scully@Example.com", email="dana.scully@example.com")


@hsettings(max_examples=25, deadline=None)
@given(st.text(min_size=12, max_size=40).filter(lambda p: len(set(p)) >= 4))
def test_any_accepted_password_verifies_and_no_other_does(password):
    hashed = service.hash_password(password)
    assert service.verify_password(hashed, password)
    assert not service.verify_password(hashed, password + "!")


# --- employees ---------------------------------------------------------------------------------------------


def test_create_employee_normalises_email_and_generates_an_id(session):
    employee = make_employee(session, email="  Fox.Mulder@Example.COM ", role="privacy_officer")
    assert employee.email == "fox.mulder@example.com"
    assert employee.external_id.startswith("emp-")
    assert employee.role is Role.privacy_officer
    assert service.get_employee_by_email(session, "FOX.MULDER@example.com") is employee


def test_duplicate_email_or_id_conflicts(session):
    first = make_employee(session, external_id="E100")
    with pytest.raises(Conflict) as info:
        make_employee(session, email=first.email.upper())
    assert info.value.field == "email"
    with pytest.raises(Conflict) as info:
        make_employee(session, external_id="E100")
    assert info.value.field == "external_id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a b@example.com"}, "email"),
        ({"name": "   "}, "name"),
        ({"team": ""}, "team"),
        ({"region": " "}, "region"),
        ({"role": "boss"}, "role"),
    ],
)
def test_bad_employee_fields_are_named(session, overrides, field):
    with pytest.raises(InvalidInput) as info:
        make_employee(session, **overrides)
    assert info.value.field == field


def test_list_employees_by_role_and_departure(session):
    a = make_employee(session, role=Role.agent, name="Aaron Agent")
    b = make_employee(session, role=Role.admin, name="Beth Admin")
    service.deactivate_employee(session, a)
    names = [e.name for e in service.list_employees(session)]
    assert names.index("Aaron Agent") < names.index("Beth Admin")
    assert a not in service.list_employees(session, include_departed=False)
    assert b in service.list_employees(session, role=Role.admin, include_departed=False)
    assert all(e.role is Role.admin for e in service.list_employees(session, role=Role.admin))


# --- signing in and rate limiting --------------------------------------------------------------------------


def test_sign_in_records_the_attempt(session, settings, clock):
    employee = make_employee(session)
    assert _sign_in(session, settings, employee.email.upper()) is employee
    attempts = session.scalars(select(LoginAttempt).where(LoginAttempt.email == employee.email)).all()
    assert [(a.kind, a.success, a.ip, a.at) for a in attempts] == [(LoginEvent.sign_in, True, "10.0.0.1", START)]


def test_wrong_password_and_unknown_email_get_the_same_answer(session, settings, clock):
    employee = make_employee(session)
    with pytest.raises(Unauthenticated) as wrong:
        _sign_in(session, settings, employee.email, "not the password at all")
    with pytest.raises(Unauthenticated) as unknown:
        _sign_in(session, settings, "nobody@example.com")
    assert wrong.value.message == unknown.value.message
    assert wrong.value.status_code == unknown.value.status_code == 401
    kinds = session.scalars(select(LoginAttempt.kind).where(LoginAttempt.at == START)).all()
    assert kinds.count(LoginEvent.failed) >= 2


def test_an_employee_without_a_password_cannot_sign_in(session, settings, clock):
    employee = make_employee(session, password=None)
    with pytest.raises(Unauthenticated):
        _sign_in(session, settings, employee.email, "")


def test_failures_per_email_are_rate_limited_then_released(session, settings, clock):
    employee = make_employee(session)
    for _ in range(settings.login_max_failures):
        with pytest.raises(Unauthenticated) as info:
            _sign_in(session, settings, employee.email, "wrong password 123")
        assert not isinstance(info.value, service.RateLimited)
    # Now even the right password is refused, with 429, from any address.
    with pytest.raises(service.RateLimited) as info:
        _sign_in(session, settings, employee.email, ip="10.9.9.9")
    assert info.value.status_code == 429
    clock.advance(timedelta(minutes=settings.login_window_minutes, seconds=1))
    assert _sign_in(session, settings, employee.email) is employee


def test_rate_limited_attempts_are_recorded_and_keep_the_door_shut(session, settings, clock):
    employee = make_employee(session)
    for _ in range(settings.login_max_failures):
        with pytest.raises(Unauthenticated):
            _sign_in(session, settings, employee.email, "wrong password 123")
    clock.advance(timedelta(minutes=settings.login_window_minutes - 1))
    for _ in range(settings.login_max_failures):  # a guesser that keeps knocking while refused
        with pytest.raises(service.RateLimited):
            _sign_in(session, settings, employee.email, "another guess 12345")
    kinds = session.scalars(select(LoginAttempt.kind).where(LoginAttempt.email == employee.email)).all()
    assert kinds.count(LoginEvent.rate_limited) == settings.login_max_failures
    # The first failures have left the window, but the refused knocks count: the door stays shut.
    clock.advance(timedelta(minutes=2))
    with pytest.raises(service.RateLimited):
        _sign_in(session, settings, employee.email)


def test_a_success_clears_earlier_failures_of_that_account(session, settings, clock):
    employee = make_employee(session)
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(Unauthenticated):
            _sign_in(session, settings, employee.email, "wrong password 123")
    clock.advance(timedelta(seconds=1))
    _sign_in(session, settings, employee.email)
    clock.advance(timedelta(seconds=1))
    for _ in range(settings.login_max_failures - 1):
        with pytest.raises(Unauthenticated) as info:
            _sign_in(session, settings, employee.email, "wrong password 123")
        assert not isinstance(info.value, service.RateLimited)


def test_failures_per_address_are_rate_limited_across_accounts(session, settings, clock):
    settings = settings.model_copy(update={"login_max_failures": 2})
    limit = settings.login_max_failures * service.IP_LIMIT_FACTOR
    victim = make_employee(session)
    # A spray: one wrong guess at many accounts from one address.
    for n in range(limit):
        with pytest.raises(Unauthenticated) as info:
            _sign_in(session, settings, f"guess{n}@example.com", "wrong password 123", ip="203.0.113.7")
        assert not isinstance(info.value, service.RateLimited)
    with pytest.raises(service.RateLimited):
        _sign_in(session, settings, victim.email, ip="203.0.113.7")
    # The same account from another address is not blocked by that address's failures.
    assert _sign_in(session, settings, victim.email, ip="198.51.100.2") is victim


# --- browser sessions --------------------------------------------------------------------------------------


def test_session_token_is_stored_only_as_a_hash(session, settings, clock):
    employee = make_employee(session)
    new = service.start_session(session, settings, employee, ip="10.0.0.1", user_agent="UA/1.0")
    assert new.token not in (new.record.token_hash, new.record.csrf_token)
    assert len(new.token) >= 40 and len(new.record.csrf_token) >= 40
    assert service.resolve_session(session, settings, new.token) is new.record
    assert service.resolve_session(session, settings, new.token + "x") is None
    assert service.resolve_session(session, settings, None) is None


def test_session_ends_after_idle_timeout(session, settings, clock):
    employee = make_employee(session)
    new = service.start_session(session, settings, employee, ip=None, user_agent=None)
    idle = timedelta(minutes=settings.session_idle_minutes)
    clock.advance(idle - timedelta(seconds=1))
    assert service.resolve_session(session, settings, new.token) is not None  # and touched
    clock.advance(idle - timedelta(seconds=1))
    assert service.resolve_session(session, settings, new.token) is not None
    clock.advance(idle)
    assert service.resolve_session(session, settings, new.token) is None


def test_session_ends_at_max_age_even_when_busy(session, settings, clock):
    employee = make_employee(session)
    new = service.start_session(session, settings, employee, ip=None, user_agent=None)
    step = timedelta(minutes=settings.session_idle_minutes - 1)
    while clock.current + step < START + timedelta(hours=settings.session_max_hours):
        clock.advance(step)
        assert service.resolve_session(session, settings, new.token) is not None
    clock.current = START + timedelta(hours=settings.session_max_hours)
    assert service.resolve_session(session, settings, new.token) is None


def test_sign_out_revokes_the_session_and_is_recorded(session, settings, clock):
    employee = make_employee(session)
    new = service.start_session(session, settings, employee, ip=None, user_agent=None)
    assert service.end_session(session, new.token, ip="10.0.0.1") is new.record
    assert service.resolve_session(session, settings, new.token) is None
    assert service.end_session(session, new.token) is None  # twice is harmless
    kinds = session.scalars(select(LoginAttempt.kind).where(LoginAttempt.email == employee.email)).all()
    assert kinds == [LoginEvent.sign_out]


def test_sign_outs_do_not_count_as_failures(session, settings, clock):
    employee = make_employee(session)
    for _ in range(settings.login_max_failures + 1):
        new = service.start_session(session, settings, employee, ip="10.0.0.1", user_agent=None)
        service.end_session(session, new.token, ip="10.0.0.1")
    assert not service.is_rate_limited(session, settings, email=employee.email, ip="10.0.0.1")


def test_new_password_ends_every_session(session, settings, clock):
    employee = make_employee(session)
    tokens = [service.start_session(session, settings, employee, ip=None, user_agent=None).token for _ in range(2)]
    service.set_password(session, employee, "a brand new passphrase")
    assert all(service.resolve_session(session, settings, t) is None for t in tokens)
    with pytest.raises(Unauthenticated):
        _sign_in(session, settings, employee.email)
    assert _sign_in(session, settings, employee.email, "a brand new passphrase") is employee


# --- API tokens --------------------------------------------------------------------------------------------


def test_api_token_resolves_until_it_expires(session, clock):
    employee = make_employee(session)
    new = service.create_api_token(session, employee, name="case tool", valid_for=timedelta(days=7))
    assert new.token.startswith(f"omb_{new.record.prefix}_")
    assert new.token not in new.record.token_hash
    assert service.resolve_api_token(session, new.token) is employee
    assert new.record.last_used_at == START
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert service.resolve_api_token(session, new.token) is employee
    clock.advance(timedelta(seconds=1))
    assert service.resolve_api_token(session, new.token) is None


def test_api_token_stops_when_revoked(session, clock):
    employee = make_employee(session)
    new = service.create_api_token(session, employee, name="case tool")
    service.revoke_api_token(session, new.record.prefix)
    assert service.resolve_api_token(session, new.token) is None
    assert service.resolve_api_token(session, "omb_nothing_here") is None
    assert service.resolve_api_token(session, "not even a token") is None


def test_an_employee_can_revoke_only_their_own_tokens(session, clock):
    alice, bob = make_employee(session), make_employee(session)
    bobs = service.create_api_token(session, bob, name="bob's tool")
    with pytest.raises(NotFound):
        service.revoke_api_token(session, bobs.record.prefix, employee=alice)
    assert service.resolve_api_token(session, bobs.token) is bob
    service.revoke_api_token(session, bobs.record.prefix, employee=bob)
    assert service.resolve_api_token(session, bobs.token) is None


def test_tokens_are_listed_newest_first_without_secrets(session, clock):
    employee = make_employee(session)
    first = service.create_api_token(session, employee, name="one")
    clock.advance(timedelta(minutes=1))
    second = service.create_api_token(session, employee, name="two")
    assert service.list_api_tokens(session, employee) == [second.record, first.record]


def test_token_names_and_lifetimes_are_checked(session):
    employee = make_employee(session)
    with pytest.raises(InvalidInput):
        service.create_api_token(session, employee, name="  ")
    with pytest.raises(InvalidInput):
        service.create_api_token(session, employee, name="tool", valid_for=timedelta(0))


# --- departures --------------------------------------------------------------------------------------------


def test_deactivated_employee_cannot_sign_in_and_loses_sessions_and_tokens(session, settings, clock):
    employee = make_employee(session)
    browser = service.start_session(session, settings, employee, ip=None, user_agent=None)
    tokens = [service.create_api_token(session, employee, name=f"tool {i}").token for i in range(2)]
    ended, revoked = service.deactivate_employee(session, employee)
    assert (ended, revoked) == (1, 2)
    assert employee.left_on == date(2026, 3, 2) and not employee.active
    assert service.resolve_session(session, settings, browser.token) is None
    assert all(service.resolve_api_token(session, t) is None for t in tokens)
    with pytest.raises(Unauthenticated) as info:
        _sign_in(session, settings, employee.email)
    assert info.value.message == "wrong email or password"
    with pytest.raises(Conflict):
        service.create_api_token(session, employee, name="after leaving")
    revoked_count = session.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.employee_id == employee.id,
                                                          ApiToken.revoked_at.is_not(None))
    )
    assert revoked_count == 2


def test_a_departure_stops_live_credentials_even_before_they_are_revoked(session, settings, clock):
    employee = make_employee(session)
    browser = service.start_session(session, settings, employee, ip=None, user_agent=None)
    token = service.create_api_token(session, employee, name="tool").token
    employee.left_on = date(2026, 3, 1)  # e.g. set by a directory sync, without the revocations
    session.flush()
    assert service.resolve_session(session, settings, browser.token) is None
    assert service.resolve_api_token(session, token) is None
    live = session.scalar(
        select(func.count()).select_from(StaffSession).where(StaffSession.revoked_at.is_(None),
                                                             StaffSession.employee_id == employee.id)
    )
    assert live == 1  # still unrevoked in the table, yet refused


# --- the audit log -----------------------------------------------------------------------------------------


def test_sign_in_sign_out_and_refusals_are_audited_without_the_email(session, settings, clock):
    employee = make_employee(session)
    with pytest.raises(Unauthenticated):
        _sign_in(session, settings, employee.email, "wrong password 123")
    _sign_in(session, settings, employee.email)
    new = service.start_session(session, settings, employee, ip="10.0.0.1", user_agent=None)
    service.end_session(session, new.token, ip="10.0.0.1")
    logged = list_events(session, actor_id=employee.external_id, action_prefix="staff")
    assert [(e.action, e.actor_type, e.subject_id) for e in logged] == [
        ("staff.sign_in_refused", "employee", None),
        ("staff.sign_in", "employee", str(new.record.id)),
        ("staff.sign_out", "employee", str(new.record.id)),
    ]
    assert logged[0].detail["reason"] == "wrong_password" and logged[0].decision == "deny"
    assert all(employee.email not in str(e.detail) for e in logged)


def test_account_and_token_changes_are_audited_with_their_actor(session, clock):
    admin = make_employee(session, role=Role.admin)
    employee = make_employee(session, actor=admin)
    token = service.create_api_token(session, employee, name="tool", valid_for=timedelta(days=1), actor=employee)
    service.revoke_api_token(session, token.record.prefix, actor=admin)
    service.set_password(session, employee, "another passphrase 1")  # from the command line: no actor
    service.deactivate_employee(session, employee, actor=admin)
    logged = [e for e in list_events(session, action_prefix="staff", limit=1000)
              if e.subject_id in (employee.external_id, token.record.prefix)]
    assert [(e.action, e.actor_type, e.actor_id) for e in logged] == [
        ("staff.employee.create", "employee", admin.external_id),
        ("staff.token.create", "employee", employee.external_id),
        ("staff.token.revoke", "employee", admin.external_id),
        ("staff.password.set", "system", "operator"),
        ("staff.employee.deactivate", "employee", admin.external_id),
    ]
    assert logged[-1].detail == {"left_on": "2026-03-02", "sessions_ended": 0, "tokens_revoked": 0}
    assert all(employee.email not in str(e.detail) for e in logged)
